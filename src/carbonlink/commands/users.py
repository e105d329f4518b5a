"""`carbonlink users add`: create log-ins for the service (the first admin, machines' keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.settings import Settings

app = typer.Typer(help="Users and API keys of the service.", no_args_is_help=True)


@app.command("add")
def add_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Log-in e-mail.")],
    organization: Annotated[str, typer.Option(help="Organization id (created when new).")],
    role: Annotated[
        str, typer.Option(help="admin, editor, viewer, auditor or supplier.")
    ] = "admin",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    organization_name: Annotated[
        str | None, typer.Option(help="Name of the organization when it is created.")
    ] = None,
    locale: Annotated[str, typer.Option(help="Interface language: zh or en.")] = "zh",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CARBONLINK_NEW_USER_PASSWORD",
            help="At least 10 characters; asked for when not given.",
        ),
    ] = "",
) -> None:
    """Add a user to an organization of the workspace's database."""
    from datetime import timedelta

    from carbonlink.api.security import Accounts
    from carbonlink.domain.metering import Organization
    from carbonlink.settings import Settings
    from carbonlink.store import Store, engine_from_settings, upgrade

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        store = Store(engine)
        with engine.connect() as conn:
            from sqlalchemy import select

            from carbonlink.store.schema import organizations

            known = conn.execute(
                select(organizations.c.id).where(organizations.c.id == organization)
            ).first()
        if known is None:
            store.save_organization(Organization(organization, organization_name or organization))
            console.print(f"organization {organization} created")
        Accounts(engine, timedelta(hours=settings.session_hours)).create_user(
            organization, email, password, role, name, locale
        )
    finally:
        engine.dispose()
    console.print(f"user {email} ({role}) added to {organization}")
