"""Staff pages on patients and appointments."""

from flask import Blueprint, current_app, make_response, render_template
from flask_login import current_user, login_required

from booking.appointments.forms import ConfirmForm
from booking.appointments.queries import appointment_from_link, commune_outbox, read_appointment
from booking.appointments.services import cancel
from booking.auth.decorators import staff_required
from booking.clock import now
from booking.database import unit_of_work
from booking.extensions import db
from booking.geo.rules import time_zone_for_insee

blueprint = Blueprint("appointments", __name__)


@blueprint.route("/rendez-vous/<int:appointment_id>")
@login_required
@unit_of_work()
def appointment_page(appointment_id: int):
    """Show one appointment to its patient's account, its site's staff or its practitioner."""
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    return render_template("appointments/appointment.html", appointment=appointment)


@blueprint.route("/gestion/communes/<insee>/messages")
@staff_required
def outbox(insee: str):
    """Show a commune's SMS and emails: counts, failures, and the phone numbers to fix."""
    return render_template("appointments/outbox.html", **commune_outbox(db.session, current_user, insee.upper()),
                           time_zone=time_zone_for_insee(insee))


@blueprint.route("/a/<token>", methods=["GET", "POST"])
@unit_of_work()
def cancel_by_link(token: str):
    """Let a patient cancel from the link in their SMS, without an account."""
    appointment = appointment_from_link(db.session, current_app.config["SECRET_KEY"], token, now())
    form = ConfirmForm()
    if form.validate_on_submit():
        cancel(db.session, appointment, None, "patient", now())
        response = make_response(render_template("appointments/cancelled.html", appointment=appointment))
    else:
        response = make_response(render_template("appointments/cancel_link.html", appointment=appointment,
                                                 form=form))
    # The token is in this page's URL: it must not leak to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
