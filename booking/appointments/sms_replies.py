"""What the platform does when a patient answers an SMS, or when a number turns out unreachable."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.appointments.messages import cancelled_by_patient_text
from booking.appointments.models import Appointment
from booking.patients.models import Patient
from booking.slots.models import Slot
from notifications.gsm import to_gsm7
from notifications.models import Notification

HELP = ("Pour annuler votre prochain rendez-vous, répondez ANNULER. "
        "Pour ne plus recevoir de SMS, répondez STOP. Questions : votre mairie.")


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
        return to_gsm7("Vous ne recevrez plus de SMS de notre part. Pour les réactiver, adressez-vous à votre mairie.")
    if keyword == "OUI":
        waiting = [p for p in patients if p.sms_confirmation_asked_at is not None and p.sms_opted_out_at is None]
        if not waiting:
            return to_gsm7(HELP)
        for patient in waiting:
            patient.sms_consent, patient.sms_confirmation_asked_at = True, None
        return to_gsm7("Merci : vous recevrez par SMS les rappels de vos rendez-vous. Pour les arrêter, "
                       "répondez STOP.")
    if keyword == "ANNULER":
        appointment = session.scalar(
            select(Appointment).join(Slot)
            .where(Appointment.patient_id.in_([p.id for p in patients]), Appointment.status == "booked",
                   Slot.starts_at > now)
            .order_by(Slot.starts_at).limit(1))
        if appointment is None:
            return to_gsm7("Aucun rendez-vous à venir n'est associé à ce numéro.")
        cancel(session, appointment, None, "patient", now)  # committed with the inbound message by the webhook
        return cancelled_by_patient_text(appointment)
    return to_gsm7(HELP)
