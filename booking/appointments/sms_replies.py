"""What the platform does when a patient answers an SMS, or when a number turns out unreachable."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.appointments.messages import cancelled_by_patient_text
from booking.appointments.models import Appointment
from booking.outgoing import sms
from booking.patients.models import Patient
from booking.slots.models import Slot
from notifications.models import Notification


def flag_unreachable_phone(session: Session, notification: Notification) -> None:
    """Mark the patients of a number the provider cannot reach, for the reception desk to fix."""
    problem = f"SMS impossible (code {notification.error_code or 'inconnu'}) : numéro à vérifier."
    for patient in session.scalars(select(Patient).where(Patient.phone == notification.recipient)):
        patient.phone_problem = problem


def answer_sms(session: Session, phone: str, keyword: str, now: datetime) -> str:
    """Act on an SMS reply (ANNULER, STOP) and return the answer to send back."""
    from booking.appointments.services import cancel

    patients = list(session.scalars(select(Patient).where(Patient.phone == phone)))
    if keyword == "STOP":
        for patient in patients:
            patient.sms_opted_out_at = now
        return sms.reply_stopped()
    if keyword == "OUI":
        waiting = [p for p in patients if p.sms_confirmation_asked_at is not None and p.sms_opted_out_at is None]
        if not waiting:
            return sms.reply_help()
        for patient in waiting:
            patient.sms_consent, patient.sms_confirmation_asked_at = True, None
        return sms.reply_subscribed()
    if keyword == "ANNULER":
        appointment = session.scalar(
            select(Appointment).join(Slot)
            .where(Appointment.patient_id.in_([p.id for p in patients]), Appointment.status == "booked",
                   Slot.starts_at > now)
            .order_by(Slot.starts_at).limit(1))
        if appointment is None:
            return sms.reply_nothing_to_cancel()
        cancel(session, appointment, None, "patient", now)  # committed with the inbound message by the webhook
        return cancelled_by_patient_text(appointment)
    return sms.reply_help()
