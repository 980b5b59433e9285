"""What every command shares: settings with command-line values, the database, domain errors."""

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.orm import Session, sessionmaker

from voicesmith.config import Settings
from voicesmith.db import make_engine, make_sessionmaker, run_migrations
from voicesmith.errors import VoicesmithError

T = TypeVar("T")
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="where datasets, runs and the DB live")
]


def settings_for(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with command-line values winning."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


def cli_actor() -> str:
    """Who the audit trail names for a command run on the server itself: its system user."""
    return f"cli:{getpass.getuser()}"


def open_database(settings: Settings) -> sessionmaker[Session]:
    """Migrate the database and return a session factory."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    run_migrations(engine)
    return make_sessionmaker(engine)


def or_exit(action: Callable[[], T]) -> T:
    """Run action, turning a domain error into a message and exit code 1."""
    try:
        return action()
    except VoicesmithError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
