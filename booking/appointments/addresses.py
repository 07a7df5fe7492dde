"""When a phone number or an e-mail address turns out unreachable, and the one-click stop of e-mail reminders."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking.appointments.links import read_reminders_token
from booking.appointments.messages import plan_call, reminder_channel
from booking.appointments.models import Appointment
from booking.appointments.sms_replies import flag_unreachable_phone
from booking.errors import NotFound
from booking.patients.models import Patient
from booking.slots.models import Slot
from notifications.models import Notification


def flag_unreachable(session: Session, notification: Notification) -> None:
    """The provider or the mail server refused a recipient for good: the desk or the person fixes it."""
    if notification.channel == "email":
        flag_undeliverable_email(session, notification)
    else:
        flag_unreachable_phone(session, notification)


def flag_undeliverable_email(session: Session, notification: Notification) -> None:
    """Mark the address undeliverable; what it was to carry goes to the desk's call list (or a call) instead."""
    now = notification.updated_at
    address = notification.recipient
    problem = (f"Adresse e-mail refusée par le serveur de messagerie (code {notification.error_code or 'inconnu'}) "
               f": à corriger.")
    patients = list(session.scalars(select(Patient).where(Patient.email == address)))
    for patient in patients:
        patient.email_problem = problem
    session.execute(update(Notification).where(
        Notification.channel == "email", Notification.recipient == address, Notification.status == "pending")
        .values(status="cancelled", last_error="Adresse refusée", updated_at=now))
    upcoming = session.scalars(select(Appointment).join(Slot).where(
        Appointment.patient_id.in_([patient.id for patient in patients]), Appointment.status == "booked",
        Appointment.reminder_channel == "email", Slot.starts_at > now))
    for appointment in upcoming:
        fallback = reminder_channel(appointment.patient)
        called = fallback == "voice" and plan_call(session, appointment, now)
        appointment.reminder_channel = "voice" if called else "none"  # "none": on the desk's call list
    session.flush()


def _email_of(session: Session):
    def email_of(patient_id: int) -> str | None:
        return session.scalar(select(Patient.email).where(Patient.id == patient_id, Patient.erased_at.is_(None)))
    return email_of


def patient_from_reminders_token(session: Session, token: str) -> Patient:
    patient_id = read_reminders_token(current_app.config["SECRET_KEY"], token, _email_of(session))
    if patient_id is None:
        raise NotFound("Ce lien n’est plus valable : l’adresse a peut-être changé depuis.")
    return session.get(Patient, patient_id)


def stop_email_reminders(session: Session, token: str, now: datetime) -> Patient:
    """The one-click unsubscribe (RFC 8058): no more reminders by e-mail; confirmations of what the person does
    (a booking, a cancellation) still go."""
    patient = patient_from_reminders_token(session, token)
    patient.email_unsubscribed_at = patient.email_unsubscribed_at or now
    session.execute(update(Notification).where(
        Notification.channel == "email", Notification.recipient == patient.email,
        Notification.status == "pending", Notification.dedupe_key.like("%:email-reminder:%"))
        .values(status="cancelled", last_error="Rappels par e-mail arrêtés", updated_at=now))
    session.flush()
    return patient
