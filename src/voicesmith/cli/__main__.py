"""python -m voicesmith.cli runs the CLI."""

from voicesmith.cli import app

app()
