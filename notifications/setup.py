"""Wire the notifications package into a Flask application."""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from notifications.dispatcher import Hooks, dispatch, dispatch_in_processes
from notifications.mail import LogMailBackend, SmtpMailBackend
from notifications.partners import HttpsPartnerBackend, LogPartnerBackend
from notifications.sms import LogSmsBackend, TwilioSmsBackend
from notifications.voice import LogVoiceBackend, TwilioVoiceBackend
from notifications.webhooks import blueprint


@contextmanager
def _commit_or_roll_back(session):
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass
class Settings:
    session: Callable
    hooks: Hooks
    on_inbound: Callable | None
    public_base_url: str
    twilio_auth_token: str | None
    # The application's unit of work, so that what its hooks start (a cancellation) ends as it would elsewhere.
    transaction: Callable = _commit_or_roll_back


def sms_backend_from_config(config) -> object:
    """Build the SMS backend that SMS_BACKEND names."""
    if config.get("SMS_BACKEND", "log") == "twilio":
        return TwilioSmsBackend(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                                config.get("TWILIO_MESSAGING_SERVICE_SID"), config.get("TWILIO_FROM"),
                                config.get("TWILIO_API_BASE_URL"))
    return LogSmsBackend(full=bool(config.get("SMS_LOG_FULL")))


def voice_backend_from_config(config) -> object:
    """Build the voice backend: Twilio's Calls API beside Twilio SMS, else the log; None when no caller number
    is configured (calls then fail as "not configured", SMS go on)."""
    if config.get("SMS_BACKEND", "log") == "twilio":
        if not (config.get("TWILIO_VOICE_FROM") or config.get("TWILIO_FROM")):
            return None
        return TwilioVoiceBackend(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                                  config.get("TWILIO_VOICE_FROM") or config.get("TWILIO_FROM"),
                                  config.get("TWILIO_API_BASE_URL"))
    return LogVoiceBackend()


def mail_backend_from_config(config) -> object:
    """Build the email backend: SMTP when MAIL_BACKEND is smtp, else the log."""
    if config.get("MAIL_BACKEND") == "smtp":
        return SmtpMailBackend(config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_SENDER"],
                               config.get("MAIL_USE_TLS", False), config.get("MAIL_USE_SSL", False),
                               config.get("MAIL_USERNAME"), config.get("MAIL_PASSWORD"))
    return LogMailBackend()


def partner_backend_from_config(config) -> object:
    """Build the backend of documents for partner systems: HTTPS with our client certificate when PARTNER_BACKEND
    is https, else the log."""
    if config.get("PARTNER_BACKEND") == "https":
        return HttpsPartnerBackend(config.get("PARTNER_CLIENT_CERT"), config.get("PARTNER_CLIENT_KEY"),
                                   config.get("PARTNER_CA_FILE"))
    return LogPartnerBackend()


def status_callback_url(config) -> str | None:
    """Return the URL Twilio calls with delivery statuses."""
    return config["PUBLIC_BASE_URL"].rstrip("/") + "/notifications/twilio/status"


def run_dispatch(now, limit=None, processes=None):
    """Send what is due, with the application's settings (``DISPATCH_PROCESSES`` processes unless ``processes``)."""
    settings: Settings = current_app.extensions["notifications"]
    config = current_app.config

    def send(share_limit, concurrency, recover):
        return dispatch(settings.session(), now, sms_backend=sms_backend_from_config(config),
                        mail_backend=mail_backend_from_config(config), status_callback=status_callback_url(config),
                        hooks=settings.hooks, limit=share_limit, voice_backend=voice_backend_from_config(config),
                        webhook_base_url=config["PUBLIC_BASE_URL"].rstrip("/") + "/notifications",
                        concurrency=concurrency, recover=recover,
                        partner_backend=partner_backend_from_config(config))

    processes = config.get("DISPATCH_PROCESSES", 1) if processes is None else processes
    return dispatch_in_processes(settings.session(), now, processes, send, limit)


def prepare_dispatch() -> None:
    """Load, once in the scheduler's process, what its sending processes use (the event loop's HTTP client): each
    minute's forks inherit it. A web worker, which never sends from an event loop, does not call this."""
    try:
        backend = sms_backend_from_config(current_app.config)
    except ValueError:
        return  # a provider left unconfigured: each dispatch says so, as before, and the other jobs run on
    if hasattr(backend, "preload"):
        backend.preload()


notifications_cli = AppGroup("notifications", help="Messages : SMS et e-mails.")


@notifications_cli.command("dispatch")
@click.option("--now", "now_text", help="Instant de référence (ISO 8601).")
def dispatch_command(now_text):
    """Send the messages that are due."""
    from datetime import datetime

    now = datetime.now(UTC)
    if now_text:
        now = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    report = run_dispatch(now)
    click.echo(f"Envoyés : {report.sent}, à réessayer : {report.retried}, en échec : {report.failed}, "
               f"ignorés : {report.skipped}, repris : {report.recovered}.")


def init_app(app: Flask, *, session: Callable, hooks: Hooks | None = None, on_inbound: Callable | None = None,
             transaction: Callable | None = None):
    """Register the webhooks, the CLI and the settings; ``session`` returns the current database session.

    ``transaction(session)`` is the context manager a webhook's work runs in (commit, or roll back).
    """
    app.extensions["notifications"] = Settings(
        session=session, hooks=hooks or Hooks(), on_inbound=on_inbound,
        public_base_url=app.config["PUBLIC_BASE_URL"].rstrip("/"),
        twilio_auth_token=app.config.get("TWILIO_AUTH_TOKEN"), transaction=transaction or _commit_or_roll_back)
    app.register_blueprint(blueprint)
    app.cli.add_command(notifications_cli)
    return blueprint
