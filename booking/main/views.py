"""Home page and health check."""

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from booking.appointments.queries import booked_on_closed_days, days_to_mark
from booking.auth.decorators import staff_required
from booking.auth.permissions import manages_sites
from booking.clock import now
from booking.extensions import db, limiter
from booking.privacy.services import Retention
from booking.sites.calendar import upcoming_closures
from booking.sites.models import Site
from booking.sites.services import figures_within_reach, list_public_sites, sites_visible_to
from booking.slots.services import next_free_slots

blueprint = Blueprint("main", __name__)


@blueprint.app_context_processor
def service_identity() -> dict:
    """What the header and footer of every page say about who runs the service."""
    config = current_app.config
    return {"service_operator": config["SERVICE_OPERATOR"],
            "accessibility_level": accessibility_status(config)["level"]}


@blueprint.route("/")
def home():
    """Show the places of care and how to book."""
    return render_template("main/home.html", sites=list_public_sites(db.session))


@blueprint.route("/lieux/<int:site_id>")
def site(site_id: int):
    """Show a place of care to the public: where, how, and the next free slots."""
    place = db.session.get(Site, site_id)
    if place is None:
        abort(404)
    today = now().astimezone(ZoneInfo(place.time_zone)).date()
    return render_template("main/site.html", site=place, upcoming=next_free_slots(db.session, place, now()),
                           closures=upcoming_closures(db.session, place, today))


@blueprint.route("/mentions-legales")
def legal():
    """Who publishes the service, who hosts it, and the cookies it sets (LCEN, art. 6)."""
    return render_template("main/legal.html")


@blueprint.route("/donnees-personnelles")
def privacy():
    """What personal data the service keeps, for how long and why; the residents' rights (RGPD)."""
    return render_template("main/privacy.html", retention=Retention.from_config(current_app.config))


@blueprint.route("/accessibilite")
def accessibility():
    """The déclaration d'accessibilité every public service must publish (RGAA 4.1.2)."""
    return render_template("main/accessibility.html", **accessibility_status(current_app.config),
                           statement_date=current_app.config["ACCESSIBILITY_STATEMENT_DATE"])


@blueprint.route("/accessibilite/plan")
def accessibility_plan():
    """The multi-year accessibility plan and this year's action plan the déclaration links to."""
    return render_template("main/accessibility_plan.html")


def accessibility_status(config) -> dict:
    """RGAA's conformity level: total at 100 % of criteria met, partial from 50 %, otherwise (or unaudited) none."""
    try:
        rate = float(config.get("ACCESSIBILITY_AUDIT_RATE") or "")
    except ValueError:
        rate = None
    level = ("non conforme" if rate is None or rate < 50 else "partiellement conforme" if rate < 100
             else "totalement conforme")
    return {"level": level, "rate": rate, "audit_date": config.get("ACCESSIBILITY_AUDIT_DATE")}


@blueprint.route("/sante")
@limiter.exempt
def health():
    """Report each dependency separately (JSON); 503 when one the service needs is down."""
    checks = {"database": _database_answers(), "rate_limit_store": _rate_limit_store_answers()}
    down = [name for name, state in checks.items() if state == "injoignable"]
    return jsonify(status="dégradé" if down else "ok", **checks), 503 if down else 200


def _database_answers() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except SQLAlchemyError:
        db.session.rollback()
        return "injoignable"


def _rate_limit_store_answers() -> str:
    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        return "mémoire du processus"
    try:
        return "ok" if limiter.storage.check() else "injoignable"
    except Exception:  # any driver error means the same thing here
        return "injoignable"


@blueprint.route("/espace")
@staff_required
def workspace():
    """A staff member's landing page: their sites, what needs doing (bookings on closed days, presences to note),
    the figures within their reach. It gathers several features, so it lives here, above them all."""
    sites = sites_visible_to(db.session, current_user)
    closed_booked = [(site, booked) for site in sites
                     if (booked := booked_on_closed_days(db.session, [site], now()))]
    return render_template("sites/workspace.html", sites=sites, can_create=manages_sites(current_user),
                           to_mark=days_to_mark(db.session, current_user, sites, now()), closed_booked=closed_booked,
                           figures=figures_within_reach(db.session, current_user))
