"""Ask for feedback after an attended consultation (one SMS), and record the one answer."""

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import notifications
from booking.appointments.messages import can_receive_sms, visit_of
from booking.appointments.models import Appointment
from booking.appointments.rules import local_day, morning_after
from booking.errors import Conflict, InvalidInput, NotFound
from booking.feedback.models import ALTERNATIVES, FeedbackAnswer
from booking.outgoing import keys, sms
from booking.signing import sign
from booking.text import row_id
from booking.urls import public_url

ASK_WITHIN_DAYS = 14


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def feedback_token(appointment: Appointment) -> str:
    return f"{appointment.id}-{sign(_secret(), f'feedback:{appointment.id}:{appointment.reference}')}"


def _appointment_key(appointment_id: int) -> str:
    return hmac.new(_secret().encode(), f"feedback-answer:{appointment_id}".encode(), hashlib.sha256).hexdigest()


def ask_feedback(session: Session, appointment: Appointment, phone: str | None, now: datetime) -> None:
    """Queue the one SMS that asks how useful the consultation was (the next morning)."""
    if not phone:
        return
    link = public_url(f"/avis/{feedback_token(appointment)}")
    notifications.enqueue(session, channel="sms", recipient=phone,
                          due_at=morning_after(now, appointment.slot.site.time_zone),
                          body=sms.feedback_request(visit_of(appointment), link),
                          dedupe_key=keys.appointment_message(appointment.id, "feedback"),
                          group_key=keys.appointment_group(appointment.id))


def ask_feedback_after_attendance(session: Session, appointment_id: int, now: datetime) -> None:
    """Once « venu » is committed: ask the person, when an SMS reaches them (a reaction to ATTENDED)."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is not None and appointment.status == "attended" and can_receive_sms(appointment.patient):
        ask_feedback(session, appointment, appointment.patient.phone, now)


def appointment_for_feedback(session: Session, token: str, now: datetime) -> Appointment:
    """The attended appointment a feedback link names, or NotFound (forged, unknown, too old)."""
    head, _, signature = (token or "").partition("-")
    appointment_id = row_id(head)
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or not hmac.compare_digest(
            sign(_secret(), f"feedback:{appointment.id}:{appointment.reference}"), signature):
        raise NotFound("Ce lien n’est pas valable.")
    if appointment.status != "attended" or (now - appointment.slot.starts_at).days > ASK_WITHIN_DAYS:
        raise NotFound("Ce lien n’est plus valable.")
    return appointment


def already_answered(session: Session, appointment: Appointment) -> bool:
    return session.scalar(select(func.count()).select_from(FeedbackAnswer).where(
        FeedbackAnswer.appointment_key == _appointment_key(appointment.id))) > 0


def record_feedback(session: Session, appointment: Appointment, useful: int, alternative: str,
                    now: datetime) -> FeedbackAnswer:
    """Keep the answer without the person: site, profession, day; once per appointment."""
    if useful not in range(1, 6):
        raise InvalidInput("Choisissez une note de 1 à 5.", field="useful")
    if alternative not in ALTERNATIVES:
        raise InvalidInput("Choisissez ce que vous auriez fait.", field="alternative")
    if already_answered(session, appointment):
        raise Conflict("Votre avis sur ce rendez-vous est déjà enregistré. Merci !")
    slot = appointment.slot
    answer = FeedbackAnswer(appointment_key=_appointment_key(appointment.id), site_id=slot.site_id,
                            profession=slot.practitioner.profession,
                            consulted_on=local_day(slot.starts_at, slot.site.time_zone), useful=useful,
                            alternative=alternative, created_at=now)
    session.add(answer)
    session.flush()
    return answer
