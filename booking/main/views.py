"""Home page and health check."""

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from booking.extensions import db
from booking.sites.services import list_public_sites

blueprint = Blueprint("main", __name__)


@blueprint.route("/")
def home():
    """Show the places of care and how to book."""
    return render_template("main/home.html", sites=list_public_sites(db.session))


@blueprint.route("/sante")
def health():
    """Answer whether the application reaches its database."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
