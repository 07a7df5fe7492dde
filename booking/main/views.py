"""Home page and health check."""

from flask import Blueprint, abort, jsonify, render_template
from sqlalchemy import text

from booking.clock import now
from booking.extensions import db
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
def health():
    """Answer whether the application reaches its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
