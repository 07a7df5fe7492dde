"""Staff pages on patients and appointments."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from booking.appointments.queries import read_appointment, read_patient
from booking.auth.decorators import staff_required
from booking.clock import now
from booking.extensions import db

blueprint = Blueprint("appointments", __name__)


@blueprint.route("/gestion/patients/<int:patient_id>")
@staff_required
def patient_page(patient_id: int):
    """Show a patient's record and appointments to the staff allowed to see it."""
    patient, appointments = read_patient(db.session, current_user, patient_id, now())
    return render_template("appointments/patient.html", patient=patient, appointments=appointments)


@blueprint.route("/rendez-vous/<int:appointment_id>")
@login_required
def appointment_page(appointment_id: int):
    """Show one appointment to its patient's account, its site's staff or its practitioner."""
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    return render_template("appointments/appointment.html", appointment=appointment)
