"""Home page and health check."""

from flask import Blueprint, abort, current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from booking.clock import now
from booking.extensions import db, limiter
from booking.sites.models import Site
from booking.sites.services import list_public_sites
from booking.slots.services import next_free_slots

blueprint = Blueprint("main", __name__)


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
    return render_template("main/site.html", site=place, upcoming=next_free_slots(db.session, place, now()))


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
