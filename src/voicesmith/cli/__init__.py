"""The voicesmith command line: serving, datasets, training, speaking, Wyoming, export, audit."""

import typer

from voicesmith.cli import detect, exports, serve, synth, training, users, wyoming
from voicesmith.cli.audit import audit_app
from voicesmith.cli.datasets import dataset_app
from voicesmith.cli.jobs import job_app

app = typer.Typer(help="Train and serve TTS voices from your own recordings.", no_args_is_help=True)
app.command()(serve.serve)
app.command("create-admin")(users.create_admin)
app.add_typer(dataset_app, name="dataset")
app.add_typer(job_app, name="job")
app.add_typer(audit_app, name="audit")
app.command()(serve.worker)
app.command()(training.train)
app.command()(synth.synth)
app.command()(wyoming.wyoming)
app.command()(exports.export)
app.command()(detect.detect)

__all__ = ["app"]
