"""What patients are told by SMS, and when. The wording lives here, on the booking side.

An SMS carries the date, local time, place, reference and a link: never the
reason, the profession, the specialty or the practitioner's name.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

import notifications
from booking.appointments.links import cancel_token
from booking.appointments.models import Appointment
from booking.appointments.rules import morning_after, reminder_due
from booking.formatting import format_moment
from booking.patients.models import Patient
from notifications.gsm import to_gsm7


def can_receive_sms(patient: Patient) -> bool:
    """Tell whether the patient may get SMS: a mobile, consent, no STOP, no known fault."""
    return bool(patient.phone and patient.phone_kind == "mobile" and patient.sms_consent
                and patient.sms_opted_out_at is None and patient.erased_at is None)


def public_url(path: str = "") -> str:
    """An absolute link to a page of the platform, as it is written in SMS and emails."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _base_url() -> str:
    return public_url()


def cancel_url(appointment: Appointment) -> str:
    """Return the signed cancel link of an appointment."""
    token = cancel_token(current_app.config["SECRET_KEY"], appointment.id, appointment.reference)
    return f"{_base_url()}/a/{token}"


def _when_where(appointment: Appointment) -> tuple[str, str]:
    site = appointment.slot.site
    return format_moment(appointment.slot.starts_at, site.time_zone), f"{site.name}, {site.commune.name}"


def confirmation_text(appointment: Appointment) -> str:
    when, where = _when_where(appointment)
    return to_gsm7(f"RDV confirmé {when}, {where}. Réf. {appointment.reference}. "
                   f"Pour annuler : {cancel_url(appointment)}")


def reminder_text(appointment: Appointment) -> str:
    when, where = _when_where(appointment)
    return to_gsm7(f"Rappel RDV {when}, {where}. Réf. {appointment.reference}. "
                   f"Empêché ? Libérez la place : {cancel_url(appointment)}")


def cancelled_by_patient_text(appointment: Appointment) -> str:
    when, where = _when_where(appointment)
    return to_gsm7(f"Votre RDV du {when} ({where}) est bien annulé. Réf. {appointment.reference}. Merci.")


def cancelled_by_site_text(appointment: Appointment) -> str:
    when, where = _when_where(appointment)
    return to_gsm7(f"Désolé : votre RDV du {when} ({where}) est annulé par le lieu de soins. "
                   f"Autres créneaux : {_base_url()}/lieux/{appointment.slot.site_id}")


def relative_confirmation_text(holder_name: str) -> str:
    """Ask a relative's own mobile whether it wants the reminders someone else signed it up for."""
    holder = " ".join((holder_name or "").split())[:40] or "Un proche"
    return to_gsm7(f"Rendez-vous santé : {holder} vous a inscrit comme proche. Pour recevoir par SMS les rappels "
                   "de vos rendez-vous, répondez OUI.")


def _sms(session: Session, appointment: Appointment, kind: str, body: str, due_at: datetime) -> None:
    notifications.enqueue(session, channel="sms", recipient=appointment.patient.phone, body=body, due_at=due_at,
                          dedupe_key=f"appointment:{appointment.id}:{kind}",
                          group_key=f"appointment:{appointment.id}")


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
    notifications.cancel_group(session, f"appointment:{appointment.id}")
    if not can_receive_sms(appointment.patient) or appointment.slot.starts_at <= now:
        return
    body = cancelled_by_patient_text(appointment) if by_patient else cancelled_by_site_text(appointment)
    _sms(session, appointment, "cancelled", body, morning_after(now, appointment.slot.site.time_zone))
