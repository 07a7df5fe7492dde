"""The desk records a visit of a permanence without appointment (no name asked)."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from booking.auth.decorators import staff_required
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.walkins.forms import WalkInForm
from booking.walkins.services import record_visit

blueprint = Blueprint("walkins", __name__)


@blueprint.route("/gestion/sites/<int:site_id>/visites", methods=["POST"])
@staff_required
def record(site_id: int):
    """Count one visit, then back to the day sheet."""
    form = WalkInForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                record_visit(db.session, current_user, site_id, form.at.data, form.profession.data,
                             form.commune.data, now())
        except DomainError as error:
            flash(f"Visite non enregistrée : {error.message}", "error")
        else:
            flash("Visite enregistrée.", "success")
    else:
        problems = " ".join(message for messages in form.errors.values() for message in messages)
        flash(f"Visite non enregistrée : {problems}", "error")
    return redirect(url_for("reception.day_sheet", site_id=site_id, **({"jour": request.args["jour"]}
                                                                       if request.args.get("jour") else {})))
