"""`voicesmith create-admin`."""

from typing import Annotated

import typer

from voicesmith.auth.models import Role
from voicesmith.cli.common import DataDirOpt, open_database, or_exit, settings_for
from voicesmith.db import session_scope


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

    settings = settings_for(data_dir)
    with session_scope(open_database(settings)) as session:
        or_exit(
            lambda: create_user(
                session=session, username=username, password=password, role=Role.ADMIN
            )
        )
    typer.echo(f"admin '{username}' created")
