"""When patients are told what about their appointments (the words are in booking.outgoing.sms)."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

import notifications
from booking.appointments.links import cancel_token
from booking.appointments.models import Appointment
from booking.appointments.rules import call_window, morning_after, reminder_due, retry_window
from booking.outgoing import keys, sms, voice
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


def caregiver_reachable(patient: Patient) -> bool:
    """A caregiver's mobile, with their consent recorded at the desk."""
    return bool(patient.caregiver_phone and patient.caregiver_consent_at and patient.erased_at is None)


def can_be_called(patient: Patient) -> bool:
    """A landline the patient has not asked us to leave alone."""
    return bool(patient.phone and patient.phone_kind == "landline" and not patient.calls_refused
                and patient.erased_at is None)


def reminder_channel(patient: Patient) -> str:
    """How a patient is reminded: by SMS, by SMS to their caregiver, by a call to their landline, or not at all."""
    if can_receive_sms(patient):
        return "sms"
    if caregiver_reachable(patient):
        return "caregiver"
    if can_be_called(patient):
        return "voice"
    return "none"


def _sms(appointment: Appointment, kind: str, body: str, due_at: datetime, recipient: str | None = None) -> dict:
    return {"channel": "sms", "recipient": recipient or appointment.patient.phone, "body": body, "due_at": due_at,
            "dedupe_key": keys.appointment_message(appointment.id, kind),
            "group_key": keys.appointment_group(appointment.id)}


def _reminder_times(appointment: Appointment, now: datetime):
    site = appointment.slot.site
    for kind, hours in (("reminder", site.reminder_hours_before), ("reminder-short", site.second_reminder_hours)):
        if hours is None or (kind == "reminder-short" and hours >= site.reminder_hours_before):
            continue
        due = reminder_due(appointment.slot.starts_at, hours, site.time_zone)
        # A reminder already due is pointless just after the confirmation.
        if due > now + timedelta(hours=1):
            yield kind, due


def call_text(appointment: Appointment, now: datetime) -> str:
    slot = appointment.slot
    site = slot.site
    return voice.reminder_call(slot.starts_at, site.time_zone, site.name, site.address, site.commune.name, now,
                               site.phone)


def _call(appointment: Appointment, now: datetime, kind: str) -> dict | None:
    slot = appointment.slot
    window = (call_window if kind == "call" else retry_window)(slot.starts_at, slot.site.time_zone, now)
    if window is None:
        return None
    due, until = window
    return {"channel": "voice", "recipient": appointment.patient.phone, "body": call_text(appointment, now),
            "due_at": due, "expires_at": until, "dedupe_key": keys.appointment_message(appointment.id, kind),
            "group_key": keys.appointment_group(appointment.id)}


def plan_call(session: Session, appointment: Appointment, now: datetime, kind: str = "call") -> bool:
    """Queue the reminder call of an appointment (or its one retry); False when no decent moment is left."""
    call = _call(appointment, now, kind)
    if call is not None:
        notifications.enqueue_many(session, [call])
    return call is not None


def planned_reminder_channel(patient: Patient, slot, now: datetime) -> str:
    """The reminder channel of an appointment booked now: a call too late to place decently is no call at all
    (the desk's call list shows the patient)."""
    channel = reminder_channel(patient)
    if channel == "voice" and call_window(slot.starts_at, slot.site.time_zone, now) is None:
        return "none"
    return channel


def plan_booking_messages(session: Session, appointment: Appointment, now: datetime) -> bool:
    """Queue the confirmation and reminders of a new appointment, in one statement; return whether any SMS
    will go."""
    patient = appointment.patient
    channel = planned_reminder_channel(patient, appointment.slot, now)
    if appointment.reminder_channel != channel:  # a new appointment has it: no change for the unit of work to flush
        appointment.reminder_channel = channel
    site = appointment.slot.site
    messages = []
    if channel == "sms":
        messages.append(_sms(appointment, "confirmation", confirmation_text(appointment),
                             morning_after(now, site.time_zone)))
        text = reminder_text(appointment)
        messages += [_sms(appointment, kind, text, due) for kind, due in _reminder_times(appointment, now)]
    elif channel == "caregiver":
        visit, link = visit_of(appointment), cancel_url(appointment)
        messages.append(_sms(appointment, "confirmation", sms.for_caregiver(visit, patient.first_name, link, False),
                             morning_after(now, site.time_zone), patient.caregiver_phone))
        text = sms.for_caregiver(visit, patient.first_name, link, True)
        messages += [_sms(appointment, kind, text, due, patient.caregiver_phone)
                     for kind, due in _reminder_times(appointment, now)]
    elif channel == "voice":
        messages.append(_call(appointment, now, "call"))
    notifications.enqueue_many(session, messages)
    return channel in ("sms", "caregiver")


def plan_cancellation_messages(session: Session, appointment: Appointment, by_patient: bool, now: datetime) -> None:
    """Withdraw an appointment's pending messages and tell the patient (or their caregiver) it is cancelled."""
    notifications.cancel_group(session, keys.appointment_group(appointment.id))
    if appointment.slot.starts_at <= now:
        return
    patient = appointment.patient
    body = cancelled_by_patient_text(appointment) if by_patient else cancelled_by_site_text(appointment)
    due = morning_after(now, appointment.slot.site.time_zone)
    if can_receive_sms(patient):
        notifications.enqueue_many(session, [_sms(appointment, "cancelled", body, due)])
    elif caregiver_reachable(patient) and appointment.reminder_channel == "caregiver":
        notifications.enqueue_many(session, [_sms(appointment, "cancelled", body, due, patient.caregiver_phone)])
