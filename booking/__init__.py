"""The commune telemedicine-site booking platform."""

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the application."""
    app = Flask(__name__, instance_relative_config=True, template_folder=_template_folder())
    os.makedirs(app.instance_path, exist_ok=True)

    from booking.config import from_environment, normalize_database_url

    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
        if "SQLALCHEMY_DATABASE_URI" in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Writers wait for each other instead of failing at once with "database is locked".
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg:"):
            from booking.pgcursor import DescribedOnceCursor

            app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {}).setdefault(
                "cursor_factory", DescribedOnceCursor)
    # An error message must not carry a patient's name or phone into the logs.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("hide_parameters", True)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The official Twilio client logs every request at INFO, with query strings that hold phone numbers.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    from booking.logs import init_logs

    init_logs()

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def _template_folder() -> str:
    """The templates: in the package once installed from the wheel, else templates/ at the repository's root."""
    installed = Path(__file__).parent / "templates"
    return str(installed if installed.is_dir() else Path(__file__).parent.parent / "templates")


def register_extensions(app: Flask) -> None:
    from booking import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)
    from booking.auth.login import init_login
    from booking.database import init_database
    from booking.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    init_database(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    init_login(app)
    from booking.auth.security import init_security

    init_security(app)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every URL: ids beyond a 32-bit integer are simply not found (the databases would refuse them)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    from booking.accounts.views import blueprint as accounts
    from booking.appointments.views import blueprint as appointments
    from booking.appointments.views_delegate import blueprint as delegate
    from booking.appointments.views_practitioner import blueprint as slots
    from booking.appointments.views_public import blueprint as public
    from booking.appointments.views_reception import blueprint as reception
    from booking.auth.views import blueprint as auth
    from booking.closures.views import blueprint as site_calendar
    from booking.feedback.views import blueprint as feedback
    from booking.main.views import blueprint as main
    from booking.openslots.views import blueprint as openslots
    from booking.patients.views import blueprint as patients
    from booking.privacy.views import blueprint as privacy
    from booking.sas.views import blueprint as sas
    from booking.search.views import blueprint as search
    from booking.sites.views import blueprint as sites
    from booking.stats.views import blueprint as stats
    from booking.waitlist.views import blueprint as waitlist
    from booking.walkins.views import blueprint as walkins

    for blueprint in (main, auth, sites, site_calendar, slots, appointments, public, reception, patients, accounts,
                      waitlist, search, stats, privacy, walkins, delegate, openslots, feedback, sas):
        app.register_blueprint(blueprint)
    from booking.api.docs import init_api

    init_api(app)
    register_notifications(app)
    register_reactions(app)
    register_permissions()


def register_permissions() -> None:
    """Each feature registers how permissions treat the objects it owns (booking.auth.permissions.register)."""
    import booking.appointments.access  # noqa: F401  (sites, practitioners, patients, appointments)


def register_reactions(app: Flask) -> None:
    """Subscribe the reactions that run after a committed change (booking.reactions)."""
    from booking.feedback.services import ask_feedback_after_attendance
    from booking.reactions import ATTENDED, SLOT_FREED, SLOTS_PUBLISHED, STATUS_CHANGED, subscribe
    from booking.sas.pushes import tell_the_sas
    from booking.waitlist.services import offer_freed_slot, offer_new_slots

    subscribe(app, SLOT_FREED, offer_freed_slot)
    subscribe(app, SLOTS_PUBLISHED, offer_new_slots)
    subscribe(app, ATTENDED, ask_feedback_after_attendance)
    subscribe(app, STATUS_CHANGED, tell_the_sas)


def register_notifications(app: Flask) -> None:
    from booking.appointments.addresses import flag_unreachable
    from booking.appointments.calls import after_call, answer_keypress
    from booking.appointments.sms_replies import answer_sms
    from booking.database import unit_of_work
    from booking.extensions import csrf, db
    from notifications.dispatcher import Hooks
    from notifications.setup import init_app

    hooks = Hooks(on_permanent_failure=flag_unreachable, on_keypress=answer_keypress, on_call_outcome=after_call)
    webhooks = init_app(app, session=lambda: db.session, hooks=hooks, on_inbound=answer_sms, transaction=unit_of_work)
    csrf.exempt(webhooks)  # Twilio cannot send our CSRF token; its signature is checked instead


def register_errorhandlers(app: Flask) -> None:
    from booking.main.errors import init_error_handlers

    init_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    from booking.main.templating import init_template_helpers
    from booking.typography import init_typography

    init_template_helpers(app)
    init_typography(app)


def register_commands(app: Flask) -> None:
    from booking.auth.cli import users_cli
    from booking.privacy.cli import privacy_cli

    app.cli.add_command(privacy_cli)
    from booking.api.cli import tokens_cli
    from booking.demo import demo_command
    from booking.geo.cli import geo_cli
    from booking.jobs.scheduler import scheduler_command
    from booking.sas.cli import sas_cli
    from booking.slots.cli import slots_cli
    from booking.stats.cli import reports_cli, stats_cli

    app.cli.add_command(tokens_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(stats_cli)

    app.cli.add_command(scheduler_command)

    app.cli.add_command(slots_cli)
    app.cli.add_command(sas_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(geo_cli)
    app.cli.add_command(demo_command)
