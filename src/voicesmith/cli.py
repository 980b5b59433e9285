"""The voicesmith command line: serve, create-admin."""

import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from voicesmith.auth.models import Role
from voicesmith.config import Settings
from voicesmith.errors import VoicesmithError

app = typer.Typer(help="Train and serve TTS voices from your own recordings.", no_args_is_help=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="where datasets, runs and the DB live")
]


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line values winning."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    data_dir: DataDirOpt = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="serve the API only; run workers separately")
    ] = False,
) -> None:
    """Run the HTTP API (default http://127.0.0.1:8000)."""
    from voicesmith.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(data_dir, **overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    application = create_app(settings)
    application.state.embedded_worker = not no_worker
    typer.echo(
        f"voicesmith on http://{settings.host}:{settings.port} (data in {settings.data_dir})"
    )
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="login name for the new admin")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="VOICESMITH_NEW_ADMIN_PASSWORD",
            help="at least 8 characters",
        ),
    ],
    data_dir: DataDirOpt = None,
) -> None:
    """Create an admin account."""
    from voicesmith.auth.service import create_user
    from voicesmith.db import make_engine, make_sessionmaker, run_migrations, session_scope

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    run_migrations(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        try:
            create_user(session=session, username=username, password=password, role=Role.ADMIN)
        except VoicesmithError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"admin '{username}' created")


if __name__ == "__main__":
    app()
