"""Booking use cases. The database decides races: no check-then-insert."""

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.appointments.messages import plan_booking_messages, plan_cancellation_messages
from booking.appointments.models import CHANNELS, Appointment, Patient
from booking.auth.permissions import Action, require
from booking.auth.services import record_audit
from booking.appointments.rules import is_late_cancellation, new_reference
from booking.errors import Conflict, InvalidInput, NotFound
from booking.slots.models import Slot


class SlotUnavailable(Conflict):
    code = "slot_unavailable"

    def __init__(self, message: str = "Ce créneau vient d’être réservé par quelqu’un d’autre ou n’est plus disponible."):
        super().__init__(message)


def _unused_reference(session: Session) -> str:
    while True:
        reference = new_reference()
        if not session.scalar(select(exists().where(Appointment.reference == reference))):
            return reference


def book_slot(session: Session, *, slot_id: int, patient_id: int, channel: str, now: datetime,
              booked_by_id: int | None = None, reason: str | None = None,
              consent_recorded: bool = False) -> Appointment:
    """Book one seat of a slot for a patient, or raise SlotUnavailable; commits on success."""
    if channel not in CHANNELS:
        raise InvalidInput(f"Canal de réservation inconnu : {channel}.")
    if session.get(Patient, patient_id) is None:
        raise NotFound("Patient introuvable.")
    if session.scalar(select(exists().where(Appointment.slot_id == slot_id, Appointment.patient_id == patient_id,
                                            Appointment.status != "cancelled"))):
        raise Conflict("Ce patient a déjà un rendez-vous sur ce créneau.")
    reference = _unused_reference(session)
    try:
        # The conditional increment is the decision: of two concurrent bookings
        # of the last seat, the database lets exactly one update the row.
        taken = session.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.status == "open", Slot.booked_count < Slot.capacity,
                   Slot.starts_at > now)
            .values(booked_count=Slot.booked_count + 1)
            .returning(Slot.capacity)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            session.rollback()
            raise SlotUnavailable()
        held = set(session.scalars(select(Appointment.seat).where(
            Appointment.slot_id == slot_id, Appointment.status != "cancelled")))
        seat = min(set(range(1, taken.capacity + 1)) - held)
        appointment = Appointment(
            reference=reference, slot_id=slot_id, seat=seat, patient_id=patient_id, channel=channel,
            booked_by_id=booked_by_id, reason=(reason or "").strip() or None, status="booked",
            consent_recorded_at=now if consent_recorded else None, created_at=now,
        )
        session.add(appointment)
        session.flush()
        plan_booking_messages(session, appointment, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise SlotUnavailable() from None
    return appointment


CANCEL_REASONS = {
    "patient": "À la demande du patient",
    "practitioner": "Indisponibilité du praticien",
    "site": "Fermeture ou indisponibilité du lieu",
    "duplicate": "Rendez-vous en double",
    "other": "Autre raison",
}


def cancel_appointment(session: Session, actor, appointment_id: int, reason: str, now: datetime) -> Appointment:
    """Cancel a booked appointment as ``actor``, free its seat and tell the patient; commits."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("Ce rendez-vous n’existe pas.")
    require(actor, Action.CANCEL, appointment)
    return cancel(session, appointment, actor, reason, now)


def cancel(session: Session, appointment: Appointment, actor, reason: str, now: datetime) -> Appointment:
    """Cancel an appointment whose caller is already authorised (account, signed link, SMS reply)."""
    if reason not in CANCEL_REASONS:
        raise InvalidInput("Motif d’annulation inconnu.")
    if appointment.status != "booked":
        raise Conflict("Ce rendez-vous n’est plus à venir : il ne peut pas être annulé.")
    slot = appointment.slot
    # Conditional on the status, so that two cancellations at once free one seat only.
    changed = session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status="cancelled", cancelled_at=now, cancelled_by_id=actor.id if actor else None,
                cancel_reason=reason, cancelled_late=is_late_cancellation(slot.starts_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        session.rollback()
        raise Conflict("Ce rendez-vous vient déjà d’être annulé.")
    session.execute(update(Slot).where(Slot.id == slot.id, Slot.booked_count > 0)
                    .values(booked_count=Slot.booked_count - 1).execution_options(synchronize_session=False))
    plan_cancellation_messages(session, appointment, by_patient=reason == "patient", now=now)
    record_audit(session, user=actor, action="appointment.cancel", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, details={"reason": reason}, now=now)
    session.commit()
    session.refresh(appointment)
    return appointment
