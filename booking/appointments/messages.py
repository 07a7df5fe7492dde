"""When patients are told what about their appointments (the words are in booking.outgoing.sms)."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

import notifications
from booking.appointments.links import cancel_token
from booking.appointments.models import Appointment
from booking.appointments.rules import morning_after, reminder_due
from booking.outgoing import keys, sms
from booking.patients.models import Patient
from booking.urls import public_url


def can_receive_sms(patient: Patient) -> bool:
    """Tell whether the patient may get SMS: a mobile, consent, no STOP, no known fault."""
    return bool(patient.phone and patient.phone_kind == "mobile" and patient.sms_consent
                and patient.sms_opted_out_at is None and patient.erased_at is None)


def cancel_url(appointment: Appointment) -> str:
    """Return the signed cancel link of an appointment."""
    token = cancel_token(current_app.config["SECRET_KEY"], appointment.id, appointment.reference)
    return public_url(f"/a/{token}")


def visit_at(slot, reference: str = "") -> sms.Visit:
    """What an SMS may say of a slot: when and where (and the appointment's reference, once booked)."""
    return sms.Visit(slot.starts_at, slot.site.time_zone, slot.site.sms_label, slot.site.commune.name, reference)


def visit_of(appointment: Appointment) -> sms.Visit:
    """What an SMS may say of an appointment."""
    return visit_at(appointment.slot, appointment.reference)


def confirmation_text(appointment: Appointment) -> str:
    return sms.confirmation(visit_of(appointment), cancel_url(appointment))


def reminder_text(appointment: Appointment) -> str:
    return sms.reminder(visit_of(appointment), cancel_url(appointment))


def cancelled_by_patient_text(appointment: Appointment) -> str:
    return sms.cancelled_by_patient(visit_of(appointment))


def cancelled_by_site_text(appointment: Appointment) -> str:
    return sms.cancelled_by_site(visit_of(appointment), public_url(f"/lieux/{appointment.slot.site_id}"))


def _sms(session: Session, appointment: Appointment, kind: str, body: str, due_at: datetime) -> None:
    notifications.enqueue(session, channel="sms", recipient=appointment.patient.phone, body=body, due_at=due_at,
                          dedupe_key=keys.appointment_message(appointment.id, kind),
                          group_key=keys.appointment_group(appointment.id))


def plan_booking_messages(session: Session, appointment: Appointment, now: datetime) -> bool:
    """Queue the confirmation and reminders of a new appointment; return whether any SMS will go."""
    if not can_receive_sms(appointment.patient):
        return False
    site = appointment.slot.site
    start = appointment.slot.starts_at
    _sms(session, appointment, "confirmation", confirmation_text(appointment), morning_after(now, site.time_zone))
    for kind, hours in (("reminder", site.reminder_hours_before), ("reminder-short", site.second_reminder_hours)):
        if hours is None or (kind == "reminder-short" and hours >= site.reminder_hours_before):
            continue
        due = reminder_due(start, hours, site.time_zone)
        # A reminder already due is pointless just after the confirmation.
        if due > now + timedelta(hours=1):
            _sms(session, appointment, kind, reminder_text(appointment), due)
    return True


def plan_cancellation_messages(session: Session, appointment: Appointment, by_patient: bool, now: datetime) -> None:
    """Withdraw an appointment's pending messages and tell the patient it is cancelled."""
    notifications.cancel_group(session, keys.appointment_group(appointment.id))
    if not can_receive_sms(appointment.patient) or appointment.slot.starts_at <= now:
        return
    body = cancelled_by_patient_text(appointment) if by_patient else cancelled_by_site_text(appointment)
    _sms(session, appointment, "cancelled", body, morning_after(now, appointment.slot.site.time_zone))
