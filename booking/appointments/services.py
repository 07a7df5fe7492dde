"""Booking use cases. The database decides races: no check-then-insert."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

import notifications
from booking.appointments.messages import (
    booking_emails,
    can_receive_sms,
    gets_emails,
    plan_booking_messages,
    plan_cancellation_messages,
    planned_reminder_channel,
    reminder_channel,
)
from booking.appointments.models import CHANNELS, Appointment
from booking.appointments.rules import (
    ATTENDANCE_CORRECTION_DAYS,
    attendance_correctable,
    is_late_cancellation,
    local_day,
    new_reference,
)
from booking.auth.models import User
from booking.auth.permissions import Action, fetch, is_resident, require
from booking.auth.services import record_audit
from booking.errors import Conflict, InvalidInput, NotFound
from booking.fastpath import add_as_inserted, execute_core, forget_loaded, insert_unless_taken, tell_loaded
from booking.outgoing import keys
from booking.patients.models import Patient
from booking.patients.services import apply_reminder_settings
from booking.reactions import ATTENDED, SLOT_FREED, STATUS_CHANGED, announce
from booking.sites.models import Practitioner, Site
from booking.slots.models import Slot, bookable, why_not_bookable
from notifications.sqltypes import UtcDateTime

CANCEL_REASONS = {
    "patient": "À la demande du patient",
    "practitioner": "Indisponibilité du praticien",
    "site": "Fermeture ou indisponibilité du lieu",
    "duplicate": "Rendez-vous en double",
    "other": "Autre raison",
}


class SlotUnavailable(Conflict):
    code = "slot_unavailable"

    def __init__(self,
                 message: str = "Ce créneau vient d’être réservé par quelqu’un d’autre ou n’est plus disponible."):
        super().__init__(message)


class BookingLimitReached(Conflict):
    code = "booking_limit"


def _future_bookings(patient_id, profession, now, ignore_appointment_id=0):
    """SQL: how many upcoming appointments the patient holds with practitioners of this profession."""
    booked_slot = aliased(Slot)
    return (select(func.count(Appointment.id)).join(booked_slot, Appointment.slot_id == booked_slot.id)
            .join(Practitioner, booked_slot.practitioner_id == Practitioner.id)
            .where(Appointment.patient_id == patient_id, Appointment.status == "booked", booked_slot.starts_at > now,
                   Practitioner.profession == profession, Appointment.id != ignore_appointment_id)
            .scalar_subquery())


def _on_slot(slot_id, patient_id):
    """SQL: the patient already holds a seat of this slot."""
    return exists().where(Appointment.slot_id == slot_id, Appointment.patient_id == patient_id,
                          Appointment.status != "cancelled")


@dataclass(frozen=True)
class Limit:
    """At most ``most`` upcoming appointments per patient with practitioners of ``profession`` (a site's rule)."""

    profession: str
    most: int


def _take_seat(session: Session, slot_id: int, now: datetime, hold_entry_id: int | None = None,
               patient_id: int | None = None, limit: Limit | None = None, regulator: bool = False) -> int | None:
    """Take one seat of a slot with a single conditional update; return the seat number, or None if refused.

    With ``patient_id`` the same statement refuses a patient already on the slot and, with ``limit``, a patient
    who holds enough upcoming appointments of that profession: one round trip decides it all.
    """
    # Of two concurrent bookings of the last seat, the database lets exactly one update the row.
    statement = _seat_statement(hold_entry_id is not None, patient_id is not None, limit is not None, regulator)
    taken = execute_core(session, statement, {
        "slot_id": slot_id, "now": now, "hold": hold_entry_id, "patient_id": patient_id,
        "profession": limit.profession if limit else None, "most": limit.most if limit else None}).first()
    if taken is None:
        return None
    tell_loaded(session, Slot, slot_id, booked_count=taken.booked_count, held_until=None, held_for_id=None,
                updated_at=taken.updated_at)
    if taken.capacity == 1:
        return 1
    held = set(session.scalars(select(Appointment.seat).where(
        Appointment.slot_id == slot_id, Appointment.status != "cancelled")))
    return min(set(range(1, taken.capacity + 1)) - held)


@cache
def _seat_statement(held: bool, for_patient: bool, limited: bool, regulator: bool = False):
    """The seat-taking UPDATE of each shape, built once (building the expression costs more than running it)."""
    now = bindparam("now", type_=UtcDateTime())
    conditions = [Slot.id == bindparam("slot_id"), bookable(now, bindparam("hold") if held else None, regulator)]
    if for_patient:
        conditions.append(~_on_slot(bindparam("slot_id"), bindparam("patient_id")))
    if limited:
        conditions.append(_future_bookings(bindparam("patient_id"), bindparam("profession"), now)
                          < bindparam("most"))
    return (update(Slot.__table__).where(*conditions)
            .values(booked_count=Slot.booked_count + 1, held_until=None, held_for_id=None)
            .returning(Slot.capacity, Slot.booked_count, Slot.updated_at))


def _why_refused(session: Session, slot_id: int, patient: Patient, now: datetime, limit: Limit | None) -> Conflict:
    """After a refused update (rare): which rule refused it, in words."""
    if session.scalar(_ON_SLOT, {"slot_id": slot_id, "patient_id": patient.id}):
        return Conflict("Ce patient a déjà un rendez-vous sur ce créneau.")
    if limit is not None:
        held = _held(session, patient.id, limit.profession, now)
        if held >= limit.most:
            return _limit_reached(patient, held, limit.most)
    return SlotUnavailable()


_ON_SLOT = select(_on_slot(bindparam("slot_id"), bindparam("patient_id")))
_HELD = select(_future_bookings(bindparam("patient_id"), bindparam("profession"),
                                bindparam("now", type_=UtcDateTime()), bindparam("ignore")))


def _held(session: Session, patient_id: int, profession: str, now: datetime, ignore_appointment_id: int = 0) -> int:
    """How many upcoming appointments the patient holds with practitioners of this profession."""
    return session.scalar(_HELD, {"patient_id": patient_id, "profession": profession, "now": now,
                                  "ignore": ignore_appointment_id})


def _limit_reached(patient: Patient, held: int, most: int) -> BookingLimitReached:
    return BookingLimitReached(
        f"{patient.first_name} a déjà {held} rendez-vous à venir pour cette profession : c’est le maximum "
        f"permis ici ({most}). Annulez-en un pour en prendre un autre.")


def _new_appointment(session: Session, *, slot: Slot, patient: Patient, seat: int, channel: str, now: datetime,
                     booked_by_id: int | None, reason: str | None, consent: bool,
                     sas: tuple[str, str] | None = None) -> Appointment:
    """Insert the appointment in one statement; a reference already taken (one in a thousand at national scale)
    is drawn again, without a query beforehand for every booking."""
    values = dict(slot_id=slot.id, seat=seat, patient_id=patient.id, channel=channel, booked_by_id=booked_by_id,
                  reason=(reason or "").strip()[:2000] or None, status="booked",
                  consent_recorded_at=now if consent else None, created_at=now,
                  reminder_channel=planned_reminder_channel(patient, slot, now), cancelled_at=None,
                  cancelled_by_id=None, cancel_reason=None, cancelled_late=False, checked_in_at=None,
                  attendance_marked_at=None, attendance_marked_by_id=None, desk_called_at=None,
                  desk_call_outcome=None, calendar_uid=None, calendar_sequence=0,
                  sas_id=sas[0] if sas else None, sas_operator=sas[1] if sas else None)
    statement = insert_unless_taken(session.get_bind().dialect.name, Appointment.__table__, "reference")
    while True:
        reference = new_reference()
        new_id = session.execute(statement, {"reference": reference, **values}).scalar()
        if new_id is not None:
            break
    appointment = Appointment(id=new_id, reference=reference, **values)
    add_as_inserted(session, appointment)
    return appointment


def book_slot(session: Session, *, slot_id: int, patient_id: int, channel: str, now: datetime,
              booked_by_id: int | None = None, reason: str | None = None, consent_recorded: bool = False,
              hold_entry_id: int | None = None, actor: User | None = None, limit: Limit | None = None,
              sas: tuple[str, str] | None = None) -> Appointment:
    """Book one seat of a slot for a patient, or raise SlotUnavailable (the caller then rolls back).

    With an ``actor``, the audit event is written in the same transaction as the booking. With ``sas`` (our
    identifier for the SAS, the regulator's), a regulator of the SAS books: PRO and SNP slots are theirs too.
    """
    if channel not in CHANNELS:
        raise InvalidInput(f"Canal de réservation inconnu : {channel}.")
    patient = fetch(session, Patient, patient_id, "Patient introuvable.")
    try:
        seat = _take_seat(session, slot_id, now, hold_entry_id, patient_id=patient.id, limit=limit,
                          regulator=sas is not None)
        if seat is None:
            raise _why_refused(session, slot_id, patient, now, limit)
        slot = session.get(Slot, slot_id)
        appointment = _new_appointment(session, slot=slot, patient=patient, seat=seat, channel=channel, now=now,
                                       booked_by_id=booked_by_id, reason=reason, consent=consent_recorded, sas=sas)
        plan_booking_messages(session, appointment, now)
        if actor is not None:
            record_audit(session, user=actor, action="appointment.book", object_type="appointment",
                         object_id=appointment.id, patient_id=patient.id, details={"channel": channel}, now=now)
        session.flush()
    except IntegrityError:
        raise SlotUnavailable() from None
    return appointment


def _check_bookable(session: Session, slot: Slot, patient: Patient, now: datetime,
                    ignore_appointment_id: int | None = None, hold_entry_id: int | None = None) -> None:
    site = slot.site
    refused = why_not_bookable(slot, now, hold_entry_id)
    if refused:
        raise SlotUnavailable(refused)
    if ignore_appointment_id is None:
        return  # a new booking: its conditional update applies the limit (book_slot's ``limit``)
    held = _held(session, patient.id, slot.practitioner.profession, now, ignore_appointment_id)
    if held >= site.max_future_bookings:
        raise _limit_reached(patient, held, site.max_future_bookings)


# The slot with what a booking reads of it (its site and commune, its practitioner), in one query built once.
_SLOT_TO_BOOK = (select(Slot).where(Slot.id == bindparam("slot_id"))
                 .options(joinedload(Slot.site).joinedload(Site.commune), joinedload(Slot.practitioner)))


@dataclass
class Booked:
    appointment: Appointment
    sms: bool  # False: no SMS will reach the patient; print the convocation


def book(session: Session, actor: User, *, slot_id: int, patient_id: int, now: datetime,
         channel: str | None = None, reason: str | None = None, consent: bool = False,
         hold_entry_id: int | None = None) -> Booked:
    """Book a slot for a patient on behalf of ``actor`` (a resident, an agent, an admin)."""
    patient = fetch(session, Patient, patient_id, "Patient introuvable.", actor, Action.BOOK)
    slot = session.scalar(_SLOT_TO_BOOK, {"slot_id": slot_id})
    if slot is None:
        raise NotFound("Créneau introuvable.")
    if is_resident(actor):
        channel = "online"
    else:
        require(actor, Action.BOOK, slot.site)
        channel = channel if channel in ("reception", "phone") else "reception"
        if not consent:
            raise InvalidInput("Recueillez l’accord du patient avant de réserver pour lui.")
    _check_bookable(session, slot, patient, now, hold_entry_id=hold_entry_id)
    appointment = book_slot(session, slot_id=slot.id, patient_id=patient.id, channel=channel, now=now,
                            booked_by_id=actor.id, reason=reason, consent_recorded=consent,
                            hold_entry_id=hold_entry_id, actor=actor,
                            limit=Limit(slot.practitioner.profession, slot.site.max_future_bookings))
    return Booked(appointment, can_receive_sms(patient))


def cancel_appointment(session: Session, actor, appointment_id: int, reason: str, now: datetime) -> Appointment:
    """Cancel a booked appointment as ``actor``, free its seat and tell the patient."""
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=actor,
                        action=Action.CANCEL)
    if is_resident(actor):
        reason = "patient"
    return cancel(session, appointment, actor, reason, now)


def _release(session: Session, appointment: Appointment, actor, reason: str, now: datetime) -> None:
    """Mark an appointment cancelled and free its seat, inside the caller's transaction."""
    changed = session.execute(
        update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status="cancelled", cancelled_at=now, cancelled_by_id=actor.id if actor else None,
                cancel_reason=reason, cancelled_late=is_late_cancellation(appointment.slot.starts_at, now),
                calendar_sequence=Appointment.calendar_sequence + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("Ce rendez-vous vient déjà d’être annulé.")
    session.execute(update(Slot).where(Slot.id == appointment.slot_id, Slot.booked_count > 0)
                    .values(booked_count=Slot.booked_count - 1).execution_options(synchronize_session=False))
    if reason in ("practitioner", "site"):
        # The practitioner or the site cannot hold it: the freed slot must not be offered again.
        session.execute(update(Slot).where(Slot.id == appointment.slot_id, Slot.booked_count == 0)
                        .values(status="blocked").execution_options(synchronize_session=False))
    forget_loaded(session, Slot, appointment.slot_id)
    announce(session, STATUS_CHANGED, appointment_id=appointment.id, now=now)
    session.expire(appointment)


def cancel(session: Session, appointment: Appointment, actor, reason: str, now: datetime) -> Appointment:
    """Cancel an appointment whose caller is already authorised (account, signed link, SMS reply)."""
    if reason not in CANCEL_REASONS:
        raise InvalidInput("Motif d’annulation inconnu.")
    if appointment.status != "booked":
        raise Conflict("Ce rendez-vous n’est plus à venir : il ne peut pas être annulé.")
    _release(session, appointment, actor, reason, now)
    plan_cancellation_messages(session, appointment, by_patient=reason == "patient", now=now)
    record_audit(session, user=actor, action="appointment.cancel", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, details={"reason": reason}, now=now)
    session.flush()
    announce(session, SLOT_FREED, slot_id=appointment.slot_id, now=now)
    return appointment


def reschedule(session: Session, actor: User, appointment_id: int, new_slot_id: int, now: datetime) -> Appointment:
    """Move an appointment to another slot in one step: the new seat is taken before the old is released."""
    old = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", actor, Action.CANCEL)
    new_slot = fetch(session, Slot, new_slot_id, "Créneau introuvable.")
    if not is_resident(actor):
        require(actor, Action.BOOK, new_slot.site)
    if old.status != "booked":
        raise Conflict("Ce rendez-vous n’est plus à venir : il ne peut pas être déplacé.")
    if new_slot.id == old.slot_id:
        raise InvalidInput("Choisissez un autre créneau.")
    _check_bookable(session, new_slot, old.patient, now, ignore_appointment_id=old.id)
    try:
        seat = _take_seat(session, new_slot.id, now)
        if seat is None:
            raise SlotUnavailable()
        moved = _new_appointment(session, slot=new_slot, patient=old.patient, seat=seat, channel=old.channel,
                                 now=now, booked_by_id=actor.id, reason=old.reason,
                                 consent=old.consent_recorded_at is not None)
        _release(session, old, actor, "patient", now)
        # The same event in the person's calendar, moved: its UID, a higher SEQUENCE.
        moved.calendar_uid, moved.calendar_sequence = old.event_uid, old.calendar_sequence + 1
        notifications.cancel_group(session, keys.appointment_group(old.id))
        plan_booking_messages(session, moved, now, moved_from=old)
        record_audit(session, user=actor, action="appointment.reschedule", object_type="appointment",
                     object_id=moved.id, patient_id=old.patient_id, details={"from": old.id}, now=now)
        session.flush()
    except IntegrityError:
        raise SlotUnavailable() from None
    announce(session, SLOT_FREED, slot_id=old.slot_id, now=now)
    return moved


def check_in(session: Session, actor: User, appointment_id: int, now: datetime) -> Appointment:
    """Record that the patient has arrived."""
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=actor,
                        action=Action.MARK_ATTENDANCE)
    if appointment.status != "booked":
        raise Conflict("Ce rendez-vous n’est plus à venir.")
    if not _on_its_day(appointment, now):
        raise Conflict("L’arrivée se note le jour du rendez-vous.")
    appointment.checked_in_at = appointment.checked_in_at or now
    record_audit(session, user=actor, action="appointment.check_in", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, now=now)
    session.flush()
    return appointment


def _on_its_day(appointment: Appointment, now: datetime) -> bool:
    """Whether ``now`` falls on the appointment's calendar day, in its site's time zone."""
    zone = appointment.slot.site.time_zone
    return local_day(now, zone) == local_day(appointment.slot.starts_at, zone)


def undo_attendance(session: Session, actor: User, appointment_id: int, now: datetime) -> Appointment:
    """Take back an arrival (the same day) or a « venu » / « absent » (for 30 days) noted by mistake, audited."""
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=actor,
                        action=Action.MARK_ATTENDANCE)
    if appointment.status not in ("attended", "no_show") and appointment.checked_in_at is None:
        raise Conflict("Rien à corriger : ni arrivée ni présence n’est notée.")
    if appointment.status == "booked" and not _on_its_day(appointment, now):
        raise Conflict("Une arrivée ne se corrige que le jour du rendez-vous.")
    if appointment.status != "booked" and not attendance_correctable(
            appointment.status, appointment.slot.starts_at, appointment.slot.site.time_zone, now):
        raise Conflict(f"Une présence se corrige dans les {ATTENDANCE_CORRECTION_DAYS} jours qui suivent le "
                       "rendez-vous : au-delà, adressez-vous à l’administrateur.")
    undone = appointment.status if appointment.status != "booked" else "check_in"
    if appointment.status in ("attended", "no_show"):
        appointment.status = "booked"
        appointment.attendance_marked_at = appointment.attendance_marked_by_id = None
    else:
        appointment.checked_in_at = None
    record_audit(session, user=actor, action="appointment.undo", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, details={"undone": undone}, now=now)
    if undone != "check_in":
        announce(session, STATUS_CHANGED, appointment_id=appointment.id, now=now)
    session.flush()
    return appointment


def mark_attendance(session: Session, actor: User, appointment_id: int, status: str, now: datetime) -> Appointment:
    """Mark a begun appointment attended or no-show (nothing is ever guessed)."""
    if status not in ("attended", "no_show"):
        raise InvalidInput("Présence : « attended » (venu) ou « no_show » (absent).")
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=actor,
                        action=Action.MARK_ATTENDANCE)
    if appointment.status == "cancelled":
        raise Conflict("Ce rendez-vous a été annulé.")
    if appointment.slot.starts_at > now:
        raise Conflict("La présence se note une fois le rendez-vous commencé.")
    appointment.status, appointment.attendance_marked_at = status, now
    appointment.attendance_marked_by_id = actor.id
    record_audit(session, user=actor, action=f"appointment.{status}", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, now=now)
    if status == "attended":
        announce(session, ATTENDED, appointment_id=appointment.id, now=now)
    announce(session, STATUS_CHANGED, appointment_id=appointment.id, now=now)
    session.flush()
    return appointment




DESK_CALL_OUTCOMES = {"reached": "prévenu", "unreachable": "injoignable"}


def record_desk_call(session: Session, actor: User, appointment_id: int, outcome: str, now: datetime) -> Appointment:
    """The desk phoned a patient no automatic reminder reaches: reached (« prévenu ») or not."""
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=actor,
                        action=Action.MARK_ATTENDANCE)
    if outcome not in DESK_CALL_OUTCOMES:
        raise InvalidInput("Indiquez si la personne a été prévenue.")
    appointment.desk_called_at, appointment.desk_call_outcome = now, outcome
    if outcome == "reached":
        appointment.reminder_channel = "desk"
    record_audit(session, user=actor, action="appointment.desk_call", object_type="appointment",
                 object_id=appointment.id, patient_id=appointment.patient_id, details={"outcome": outcome}, now=now)
    session.flush()
    return appointment


def update_reminders(session: Session, actor: User, patient_id: int, calls_refused: bool, caregiver_name: str | None,
                     caregiver_phone: str | None, caregiver_consent: bool, now: datetime) -> Patient:
    """Change how a patient is reminded (at the desk); appointments left without any reminder get the new one."""
    patient = fetch(session, Patient, patient_id, "Patient introuvable.", actor, Action.MANAGE)
    apply_reminder_settings(patient, calls_refused, caregiver_name, caregiver_phone, caregiver_consent, now,
                            patient.commune.departement_code if patient.commune else None)
    record_audit(session, user=actor, action="patient.reminders", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, details={"calls_refused": patient.calls_refused,
                                                 "caregiver": patient.caregiver_phone is not None}, now=now)
    upcoming = session.scalars(select(Appointment).join(Slot).where(
        Appointment.patient_id == patient.id, Appointment.status == "booked", Slot.starts_at > now))
    wanted = reminder_channel(patient)
    for appointment in upcoming:
        if appointment.reminder_channel == wanted or appointment.reminder_channel not in (None, "none", "voice"):
            continue  # SMS already planned stay as they are
        if appointment.reminder_channel == "voice":
            notifications.cancel_group(session, keys.appointment_group(appointment.id), "voice", "Appels refusés")
        if wanted == "none":
            appointment.reminder_channel = "none"
        else:
            plan_booking_messages(session, appointment, now)
    session.flush()
    return patient


def set_email(session: Session, actor: User, patient_id: int, email: str | None, also_by_email: bool,
              now: datetime) -> Patient:
    """Record a person's e-mail address and whether e-mails go as well as SMS (the person, or the desk); the
    appointments ahead get what the new choice sends (an address that changed gets its own messages)."""
    patient = fetch(session, Patient, patient_id, "Patient introuvable.", actor, Action.MANAGE)
    address = (email or "").strip().lower() or None
    if address and ("@" not in address or len(address) > 254):
        raise InvalidInput("Adresse e-mail incomplète : il manque la partie après @ ou un point.", field="email")
    if address != patient.email:
        patient.email, patient.email_problem, patient.email_unsubscribed_at = address, None, None
    patient.email_reminders = bool(address and also_by_email)
    if patient.email_reminders:
        patient.email_unsubscribed_at = None  # asking again is asking again
    record_audit(session, user=actor, action="patient.email", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, details={"email": address is not None, "also": patient.email_reminders},
                 now=now)
    upcoming = session.scalars(select(Appointment).join(Slot).where(
        Appointment.patient_id == patient.id, Appointment.status == "booked", Slot.starts_at > now))
    for appointment in upcoming:
        group = keys.appointment_group(appointment.id)
        notifications.cancel_group(session, group, "email", "Adresse e-mail changée")
        if appointment.reminder_channel in (None, "none", "email", "voice"):
            if appointment.reminder_channel == "voice" and reminder_channel(patient) != "voice":
                notifications.cancel_group(session, group, "voice", "Rappel par e-mail")
            plan_booking_messages(session, appointment, now)
        elif gets_emails(patient, appointment.reminder_channel):
            notifications.enqueue_many(session, booking_emails(appointment, now, None))
    session.flush()
    return patient
