"""`carbonlink suppliers`: reminders of portal requests due soon (run it daily, e.g. from cron)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.exchange.reminders import Send
    from carbonlink.settings import Settings

app = typer.Typer(help="Portal suppliers: reminders of requests due soon.", no_args_is_help=True)


def smtp_send(settings: Settings) -> Send:
    """Send a plain-text message through the configured SMTP server (CARBONLINK_SMTP_*)."""
    import smtplib
    from email.message import EmailMessage

    from carbonlink.monitor.notify import NotificationError

    def send(to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = settings.smtp_sender
        message["To"] = to
        message.set_content(body)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            assert settings.smtp_host is not None
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username and password:
                    smtp.login(settings.smtp_username, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotificationError(
                f"e-mail via {settings.smtp_host}:{settings.smtp_port} failed: "
                f"{type(exc).__name__}",
                record=to,
                hint="check the CARBONLINK_SMTP_* settings",
            ) from None

    return send


@app.command("remind")
def remind(
    ctx: typer.Context,
    within: Annotated[
        int, typer.Option(min=0, help="Remind of requests due within this many days.")
    ] = 3,
) -> None:
    """Remind suppliers, once per request, of unanswered requests due within --within days."""
    from datetime import date

    from carbonlink.exchange.reminders import remind_due_requests
    from carbonlink.settings import Settings
    from carbonlink.store import engine_from_settings, upgrade

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    reminders = remind_due_requests(
        engine,
        today=date.today(),
        within_days=within,
        service_url=settings.service_url,
        send=smtp_send(settings) if settings.smtp_host else None,
    )
    for r in reminders:
        how = "sent to " + (r.email or "?") if r.sent else (r.error or "recorded (no SMTP)")
        console.print(f"{r.organization_id} {r.supplier} due {r.due_date}: {how}", highlight=False)
    console.print(f"{len(reminders)} reminder(s)", highlight=False)
