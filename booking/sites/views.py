"""Staff pages: the workspace and a site's page."""

from flask import Blueprint, render_template
from flask_login import current_user

from booking.auth.decorators import staff_required
from booking.extensions import db
from booking.sites.services import get_site_for, sites_visible_to

blueprint = Blueprint("sites", __name__)


@blueprint.route("/espace")
@staff_required
def workspace():
    """List the sites the staff member works at."""
    return render_template("sites/workspace.html", sites=sites_visible_to(db.session, current_user))


@blueprint.route("/gestion/sites/<int:site_id>")
@staff_required
def site_page(site_id: int):
    """Show a site to its staff."""
    return render_template("sites/site.html", site=get_site_for(db.session, current_user, site_id))
