"""`carbonlink users`: log-ins of the service — add a user, set a password, issue a reset link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    import sqlalchemy as sa

    from carbonlink.api.security import Accounts
    from carbonlink.settings import Settings

app = typer.Typer(help="Users of the service and their passwords.", no_args_is_help=True)

Organization = Annotated[
    str | None,
    typer.Option(
        help="Organization id of the user; needed when the address has accounts in several."
    ),
]


def _accounts(ctx: typer.Context) -> tuple[Settings, sa.Engine, Accounts]:
    from datetime import timedelta

    from carbonlink.api.security import Accounts
    from carbonlink.settings import Settings
    from carbonlink.store import engine_from_settings, upgrade

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    return settings, engine, Accounts(engine, timedelta(hours=settings.session_hours))


def _user_id(engine: sa.Engine, email: str, organization: str | None) -> tuple[str, str]:
    """(user id, organization id) of the account of ``email`` (in ``organization``)."""
    import sqlalchemy as sa

    from carbonlink.api.schema import users
    from carbonlink.errors import InputError

    address = email.strip().lower()
    query = sa.select(users.c.id, users.c.organization_id).where(users.c.email == address)
    if organization:
        query = query.where(users.c.organization_id == organization)
    with engine.connect() as conn:
        found = conn.execute(query.order_by(users.c.organization_id)).all()
    if not found:
        where = f" in organization {organization}" if organization else ""
        raise InputError(
            f"no user with the address {address}{where}",
            record=address,
            hint="list the organization's users on its administration page",
        )
    if len(found) > 1:
        orgs = ", ".join(str(row.organization_id) for row in found)
        raise InputError(
            f"the address {address} has accounts in several organizations: {orgs}",
            record=address,
            hint="name one with --organization",
        )
    return str(found[0].id), str(found[0].organization_id)


@app.command("add")
def add_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Log-in e-mail.")],
    organization: Annotated[str, typer.Option(help="Organization id (created when new).")],
    role: Annotated[
        str, typer.Option(help="admin, editor, viewer, auditor, supplier or lender.")
    ] = "admin",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    organization_name: Annotated[
        str | None, typer.Option(help="Name of the organization when it is created.")
    ] = None,
    locale: Annotated[str, typer.Option(help="Interface language: zh or en.")] = "zh",
    must_change_password: Annotated[
        bool,
        typer.Option(
            "--must-change-password/--keep-password",
            help="Make the user choose its own password at the first log-in.",
        ),
    ] = False,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CARBONLINK_NEW_USER_PASSWORD",
            help=(
                "At least 10 characters, not a common password nor the user's name or e-mail; "
                "asked for when not given."
            ),
        ),
    ] = "",
) -> None:
    """Add a user to an organization of the workspace's database."""
    from sqlalchemy import select

    from carbonlink.domain.metering import Organization
    from carbonlink.store import Store
    from carbonlink.store.schema import organizations

    _settings, engine, accounts = _accounts(ctx)
    try:
        store = Store(engine)
        with engine.connect() as conn:
            known = conn.execute(
                select(organizations.c.id).where(organizations.c.id == organization)
            ).first()
        if known is None:
            store.save_organization(Organization(organization, organization_name or organization))
            console.print(f"organization {organization} created")
        accounts.create_user(
            organization,
            email,
            password,
            role,
            name,
            locale,
            must_change_password=must_change_password,
        )
    finally:
        engine.dispose()
    console.print(f"user {email} ({role}) added to {organization}")


@app.command("passwd")
def set_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Log-in e-mail of the user.")],
    organization: Organization = None,
    password: Annotated[
        str,
        typer.Option(
            prompt="New password",
            hide_input=True,
            confirmation_prompt=True,
            envvar="CARBONLINK_NEW_USER_PASSWORD",
            help="The new password; asked for when not given.",
        ),
    ] = "",
    must_change_password: Annotated[
        bool,
        typer.Option(
            "--must-change-password/--keep-password",
            help="Make the user choose its own password at the next log-in.",
        ),
    ] = False,
) -> None:
    """Set a user's password (for whoever runs the service); the user's sessions end."""
    from carbonlink.api.schema import users

    _settings, engine, accounts = _accounts(ctx)
    try:
        user_id, org = _user_id(engine, email, organization)
        ended = accounts.set_password(user_id, password)
        if must_change_password:
            with engine.begin() as conn:
                conn.execute(
                    users.update().where(users.c.id == user_id).values(must_change_password=True)
                )
    finally:
        engine.dispose()
    console.print(f"password of {email} in {org} set; {ended} session(s) ended")


@app.command("reset")
def reset_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="Log-in e-mail of the user.")],
    organization: Organization = None,
) -> None:
    """Print a one-time link with which the user sets a new password (valid for a while)."""
    from datetime import timedelta

    settings, engine, accounts = _accounts(ctx)
    try:
        user_id, org = _user_id(engine, email, organization)
        token, expires = accounts.issue_password_reset(
            org,
            user_id,
            lifetime=timedelta(hours=settings.password_reset_hours),
            issued_by="cli",
        )
    finally:
        engine.dispose()
    console.print(f"reset link for {email} in {org}, valid until {expires:%Y-%m-%d %H:%M} UTC:")
    console.print(f"{settings.service_url}/password-reset?token={token}", soft_wrap=True)
    console.print(
        'the user redeems it with POST /api/v1/password-reset {"token": "…", "new_password": "…"}',
        highlight=False,
    )
