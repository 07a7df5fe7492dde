"""Read use cases on patients and appointments, each one scoped and audited."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from booking.appointments.access import visible_appointments
from booking.appointments.models import Appointment
from booking.appointments.rules import local_day
from booking.auth.models import User
from booking.auth.permissions import Action, fetch, sees_residents_of
from booking.auth.services import record_audit
from booking.errors import NotFound
from booking.geo.models import Commune
from booking.outgoing import keys
from booking.outgoing.keys import appointment_message_sql
from booking.patients.models import Patient
from booking.sites.access import site_ids_run_by
from booking.sites.models import Site
from booking.slots.models import Slot
from booking.slots.services import DEFAULT_HORIZON_DAYS, slots_on_closed_days
from notifications.models import Notification


def read_appointment(session: Session, user: User, appointment_id: int, now: datetime) -> Appointment:
    """Return one appointment for someone allowed to see it, writing the read to the audit log."""
    appointment = fetch(session, Appointment, appointment_id, "Ce rendez-vous n’existe pas.", user=user,
                        action=Action.VIEW)
    if user.is_staff:
        record_audit(session, user=user, action="appointment.read", object_type="appointment",
                     object_id=appointment.id, patient_id=appointment.patient_id, now=now)
        session.flush()
    return appointment


def _appointment_group():
    return appointment_message_sql(Appointment.id)


def commune_outbox(session: Session, user: User, insee: str, limit: int = 50) -> dict:
    """Return the messages of a commune's sites: counts by status, recent failures, phones to fix."""
    commune = fetch(session, Commune, insee, "Commune inconnue.", user=user, action=Action.VIEW)
    sites = site_ids_run_by({insee})
    counts = dict(session.execute(
        select(Notification.status, func.count(Notification.id))
        .join(Appointment, Notification.group_key == _appointment_group())
        .join(Slot, Slot.id == Appointment.slot_id).where(Slot.site_id.in_(sites))
        .group_by(Notification.status)).all())
    # Counts for whoever reads the commune's figures; people (names, phones, references) only for who may see them.
    failures = list(session.execute(
        select(Notification, Appointment).join(Appointment, Notification.group_key == _appointment_group())
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Slot.site_id.in_(sites), Notification.status.in_(("failed", "undelivered")),
               visible_appointments(user))
        .order_by(Notification.updated_at.desc()).limit(limit)).all())
    booked_here = Patient.id.in_(select(Appointment.patient_id).join(Slot).where(Slot.site_id.in_(sites),
                                                                                 visible_appointments(user)))
    residents = sees_residents_of(user, insee)
    patients = list(session.scalars(
        select(Patient).where(Patient.phone_problem.is_not(None), Patient.erased_at.is_(None),
                              or_(Patient.commune_insee == insee, booked_here) if residents else booked_here)
        .order_by(Patient.last_name, Patient.first_name)))
    return {"commune": commune, "counts": counts, "failures": failures, "patients": patients,
            "people_hidden": not residents}


def appointment_from_link(session: Session, secret: str, token: str, now: datetime) -> Appointment:
    """Return the appointment behind a signed cancel link while it can still be cancelled."""
    from booking.appointments.links import read_cancel_token

    def reference_of(appointment_id: int) -> str | None:
        found = session.get(Appointment, appointment_id)
        return found.reference if found else None

    appointment_id = read_cancel_token(secret, token, reference_of)
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    # Single use (a cancelled appointment stays cancelled) and dead once the appointment has begun.
    if appointment is None or appointment.status != "booked" or appointment.slot.starts_at <= now:
        raise NotFound("Ce lien n’est plus valable : le rendez-vous est passé ou déjà annulé. "
                       "Pour toute question, appelez votre mairie.")
    return appointment


def days_to_mark(session: Session, user: User, sites: list, now: datetime, days_back: int = 60) -> dict:
    """The past days, per site, whose appointments still wait for "venu" or "absent": {site: [(day, count)]}."""
    by_id = {site.id: site for site in sites}
    if not by_id:
        return {}
    rows = session.execute(
        select(Slot.site_id, Slot.starts_at).select_from(Appointment).join(Slot, Slot.id == Appointment.slot_id)
        .where(Appointment.status == "booked", Slot.site_id.in_(by_id), Slot.starts_at < now,
               Slot.starts_at >= now - timedelta(days=days_back), visible_appointments(user))
        .order_by(Slot.starts_at.desc())).all()
    counts: dict = {}
    for site_id, starts_at in rows:
        site = by_id[site_id]
        counts.setdefault(site, Counter())[local_day(starts_at, site.time_zone)] += 1
    return {site: sorted(days.items(), reverse=True) for site, days in counts.items()}


@dataclass
class ToCall:
    appointment: Appointment
    why: str  # why no automatic reminder reaches this patient


REACHED = ("answered", "confirmed", "cancelled")


def _why_not_reminded(patient: Patient) -> str:
    if patient.email_problem:
        return "e-mail refusé par sa messagerie"
    if patient.calls_refused and patient.phone:
        return "appels refusés"
    return "aucun téléphone" if not patient.phone else "aucun rappel possible"


def call_list(session: Session, user: User, sites: list, now: datetime, days: int = 2) -> list[ToCall]:
    """Tomorrow's and the day after's appointments that no SMS or answered call reminds: the desk phones them."""
    if not sites:
        return []
    zone = ZoneInfo(sites[0].time_zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(), tzinfo=zone)
    booked = list(session.scalars(
        select(Appointment).join(Slot, Slot.id == Appointment.slot_id)
        .options(selectinload(Appointment.patient), selectinload(Appointment.slot).selectinload(Slot.site))
        .where(Appointment.status == "booked", Slot.site_id.in_([s.id for s in sites]), Slot.starts_at >= start,
               Slot.starts_at < start + timedelta(days=days), visible_appointments(user))
        .order_by(Slot.starts_at)))
    groups = {keys.appointment_group(a.id): a for a in booked if a.reminder_channel == "voice"}
    calls: dict[str, list] = {}
    for call in session.scalars(select(Notification).where(Notification.group_key.in_(groups),
                                                           Notification.channel == "voice")):
        calls.setdefault(call.group_key, []).append(call)
    listed = []
    for appointment in booked:
        channel = appointment.reminder_channel
        if channel == "desk" or appointment.desk_called_at is not None:
            listed.append(ToCall(appointment, "déjà appelé par l’accueil"))
        elif channel in (None, "none"):
            patient = appointment.patient
            listed.append(ToCall(appointment, _why_not_reminded(patient)))
        elif channel == "voice":
            placed = calls.get(keys.appointment_group(appointment.id), [])
            pending = any(c.status in ("pending", "sending", "sent") for c in placed)
            reached = any(c.outcome in REACHED for c in placed)
            if not pending and not reached:
                listed.append(ToCall(appointment, "l’appel automatique n’a pas abouti"))
    return listed


def letters_to_post(session: Session, user: User, sites: list, first: datetime, last: datetime) -> list[Appointment]:
    """Appointments in a period of patients no phone reaches (no phone, no caregiver): their convocation is posted."""
    return list(session.scalars(
        select(Appointment).join(Slot, Slot.id == Appointment.slot_id).join(Patient)
        .options(selectinload(Appointment.patient), selectinload(Appointment.slot).selectinload(Slot.site))
        .where(Appointment.status == "booked", Slot.site_id.in_([s.id for s in sites]), Slot.starts_at >= first,
               Slot.starts_at < last, Patient.phone.is_(None), Patient.caregiver_phone.is_(None),
               visible_appointments(user))
        .order_by(Slot.starts_at)))

def booked_appointments(session: Session, slot_ids: list[int],
                        statuses: tuple[str, ...] = ("booked",)) -> list[Appointment]:
    """Return the appointments of some slots (by default the ones still to come), with their patients."""
    if not slot_ids:
        return []
    return list(session.scalars(select(Appointment).options(selectinload(Appointment.patient))
                                .where(Appointment.slot_id.in_(slot_ids), Appointment.status.in_(statuses))
                                .order_by(Appointment.seat)))

def booked_on_closed_days(session: Session, sites: list[Site], now: datetime,
                          days: int = DEFAULT_HORIZON_DAYS) -> list[Appointment]:
    """Appointments booked on a day their site turned out to be closed: the staff calls or cancels them."""
    end = now + timedelta(days=days)
    booked = []
    for site in sites:
        slot_ids = [slot.id for slot in slots_on_closed_days(session, site, now, end) if slot.booked_count]
        booked += booked_appointments(session, slot_ids)
    return sorted(booked, key=lambda appointment: appointment.slot.starts_at)


def read_patient(session: Session, user: User, patient_id: int, now: datetime) -> tuple[Patient, list[Appointment]]:
    """Return a patient and their appointments for a staff member, writing the read to the audit log."""
    patient = fetch(session, Patient, patient_id, "Ce patient n’existe pas.", user=user, action=Action.VIEW)
    appointments = list(session.scalars(
        select(Appointment).join(Slot).where(Appointment.patient_id == patient.id, visible_appointments(user))
        .order_by(Slot.starts_at.desc())
    ))
    record_audit(session, user=user, action="patient.read", object_type="patient", object_id=patient.id,
                 patient_id=patient.id, now=now)
    session.flush()
    return patient, appointments
