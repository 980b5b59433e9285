"""python -m voicesmith runs the CLI."""

from voicesmith.cli import app

app()
