"""What the keys pressed during a reminder call do, and the one retry of an unanswered call."""

from datetime import datetime

from sqlalchemy.orm import Session

from booking.appointments.messages import plan_call
from booking.appointments.models import Appointment
from booking.outgoing import voice
from booking.text import row_id
from notifications.models import Notification

RETRY = "call-retry"


def _appointment_of(session: Session, call: Notification) -> Appointment | None:
    prefix, _, rest = (call.group_key or "").partition(":")
    appointment_id = row_id(rest) if prefix == "appointment" else None
    return session.get(Appointment, appointment_id) if appointment_id else None


def answer_keypress(session: Session, call: Notification, digit: str, now: datetime) -> tuple[str | None, str]:
    """1 confirms, 2 cancels through the same service as the SMS link (the slot goes to the waiting list)."""
    from booking.appointments.services import cancel

    appointment = _appointment_of(session, call)
    if appointment is None or appointment.status != "booked" or appointment.slot.starts_at <= now:
        return None, voice.answer("", None)
    phone = appointment.slot.site.phone
    if digit == "1":
        return "confirmed", voice.answer("1", phone)
    if digit == "2":
        cancel(session, appointment, None, "patient", now)  # committed with the key's record by the webhook
        return "cancelled", voice.answer("2", phone)
    return None, "Cette touche ne correspond à rien. Au revoir."


def after_call(session: Session, call: Notification, now: datetime) -> None:
    """An unanswered or busy first call is tried once more, at a decent hour before the visit; never twice."""
    if call.outcome not in ("no_answer", "busy") or (call.dedupe_key or "").endswith(f":{RETRY}"):
        return
    appointment = _appointment_of(session, call)
    if appointment is not None and appointment.status == "booked" and appointment.slot.starts_at > now:
        plan_call(session, appointment, now, kind=RETRY)
