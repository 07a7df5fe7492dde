"""Staff pages on patients and appointments."""

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.appointments.addresses import patient_from_reminders_token, stop_email_reminders
from booking.appointments.forms import ConfirmForm
from booking.appointments.messages import can_receive_sms
from booking.appointments.queries import appointment_from_link, commune_outbox, read_appointment, read_patient
from booking.appointments.services import cancel, set_email, update_reminders
from booking.auth.decorators import staff_required
from booking.auth.permissions import Action, can, fetch, is_resident
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import csrf, db
from booking.geo.rules import time_zone_for_insee
from booking.patients.forms import EmailRemindersForm, RemindersForm
from booking.patients.models import Patient
from booking.phones import format_phone

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


@blueprint.route("/e/rappels/<token>", methods=["GET", "POST"])
@csrf.exempt
@unit_of_work()
def stop_email_reminders_by_link(token: str):
    """The link in a reminder e-mail (and its List-Unsubscribe header): GET asks, POST stops the reminders.

    The POST is also what a mail app sends for its « se désabonner » button (RFC 8058), without our CSRF token:
    the signed link is the proof. GET changes nothing, since link checkers open every link of an e-mail.
    """
    done = request.method == "POST"
    if done:
        patient = stop_email_reminders(db.session, token, now())
    else:
        patient = patient_from_reminders_token(db.session, token)
    response = make_response(render_template("appointments/email_reminders.html", patient=patient, done=done))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.route("/personnes/<int:patient_id>/e-mail", methods=["GET", "POST"])
@login_required
def email_settings(patient_id: int):
    """A person's e-mail address and whether e-mails go as well as SMS: the resident for their account's people,
    the desk for its patients."""
    patient = fetch(db.session, Patient, patient_id, "Patient introuvable.", current_user, Action.MANAGE)
    back = url_for("accounts.account") if is_resident(current_user) else url_for("appointments.patient_page",
                                                                                   patient_id=patient.id)
    form = EmailRemindersForm(email=patient.email, also_by_email=patient.email_reminders)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                set_email(db.session, current_user, patient.id, form.email.data, form.also_by_email.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("E-mail enregistré.", "success")
            return redirect(back)
    return render_template("appointments/email_settings.html", form=form, patient=patient, back=back,
                           has_sms=can_receive_sms(patient)), 422 if form.errors else 200


@blueprint.route("/gestion/patients/<int:patient_id>")
@staff_required
@unit_of_work()
def patient_page(patient_id: int):
    """Show a patient's record and appointments to the staff allowed to see it."""
    patient, appointments = read_patient(db.session, current_user, patient_id, now())
    form = RemindersForm(calls_refused=patient.calls_refused, caregiver_name=patient.caregiver_name,
                         caregiver_phone=format_phone(patient.caregiver_phone),
                         caregiver_consent=patient.caregiver_consent_at is not None)
    return render_template("appointments/patient.html", patient=patient, appointments=appointments,
                           reminders_form=form, manages=can(current_user, Action.MANAGE, patient))


@blueprint.route("/gestion/patients/<int:patient_id>/rappels", methods=["POST"])
@staff_required
def reminders(patient_id: int):
    """How a patient without a mobile is reminded: calls refused, a caregiver's mobile with their consent."""
    form = RemindersForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                update_reminders(db.session, current_user, patient_id, form.calls_refused.data,
                                 form.caregiver_name.data, form.caregiver_phone.data, form.caregiver_consent.data,
                                 now())
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Rappels enregistrés.", "success")
    return redirect(url_for("appointments.patient_page", patient_id=patient_id))
