"""Closing a site for a day or a period, and opening it on a public holiday.

Free slots of the closed days go at once; booked appointments are never cancelled silently: the
staff sees them, then confirms, and each patient is told by SMS (with the link to other slots) or
appears with their phone number on the list the desk calls.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.appointments.messages import written_channel
from booking.appointments.models import Appointment
from booking.appointments.queries import booked_appointments
from booking.appointments.services import cancel
from booking.auth.models import User
from booking.auth.permissions import Action, fetch, require
from booking.auth.services import record_audit
from booking.errors import InvalidInput, NotFound
from booking.reactions import SLOTS_PUBLISHED, announce
from booking.sites.calendar import public_holidays
from booking.sites.models import CLOSURE_REASONS, HolidayOpening, Room, Site, SiteClosure
from booking.slots import rules
from booking.slots.models import AvailabilityRule
from booking.slots.services import (
    materialize_rule,
    slots_on_closed_days,
    withdraw_on_closed_days,
)

MAX_CLOSURE_DAYS = 366


@dataclass
class ClosureResult:
    closure: SiteClosure
    withdrawn: int = 0
    booked: list[Appointment] = field(default_factory=list)  # still booked on the closed days


@dataclass
class CancelledForClosure:
    told_in_writing: list[Appointment] = field(default_factory=list)  # by SMS or by e-mail
    to_call: list[Appointment] = field(default_factory=list)  # no SMS reaches them: the desk phones



def close_site(session: Session, actor: User, site_id: int, first_day: date, last_day: date, reason: str,
               now: datetime, note: str | None = None, room_id: int | None = None) -> ClosureResult:
    """Close a site (or one room) from first_day to last_day: its free slots go, its bookings are listed."""
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.CLOSE)
    today = now.astimezone(ZoneInfo(site.time_zone)).date()
    if reason not in CLOSURE_REASONS:
        raise InvalidInput("Choisissez la raison de la fermeture.", field="reason")
    if last_day < first_day:
        raise InvalidInput("Le dernier jour précède le premier.", field="last_day")
    if first_day < today:
        raise InvalidInput("Une fermeture commence aujourd’hui ou plus tard.", field="first_day")
    if (last_day - first_day).days >= MAX_CLOSURE_DAYS:
        raise InvalidInput("Une fermeture dure un an au plus : pour fermer le lieu, retirez-le de la réservation.",
                           field="last_day")
    if room_id is not None and session.get(Room, room_id) not in site.rooms:
        raise InvalidInput("Cette salle n’appartient pas à ce lieu.", field="room_id")
    closure = SiteClosure(site_id=site.id, room_id=room_id, first_day=first_day, last_day=last_day, reason=reason,
                          note=(note or "").strip()[:200] or None, created_by_id=actor.id, created_at=now)
    session.add(closure)
    session.flush()
    start, end = _period_bounds(site, first_day, last_day, now)
    withdrawn = withdraw_on_closed_days(session, start, end, site_ids=[site.id])
    record_audit(session, user=actor, action="site.close", object_type="site", object_id=site.id,
                 details={"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "reason": reason,
                          "room_id": room_id}, now=now)
    return ClosureResult(closure, withdrawn, booked_during(session, closure, now))


def _period_bounds(site: Site, first_day: date, last_day: date, now: datetime) -> tuple[datetime, datetime]:
    zone = ZoneInfo(site.time_zone)
    start = rules.local_to_utc(first_day, time(), zone)
    end = rules.local_to_utc(last_day + timedelta(days=1), time(), zone)
    return max(start, now), end


def booked_during(session: Session, closure: SiteClosure, now: datetime) -> list[Appointment]:
    """The appointments still booked on a closure's days (in its room, for a room's closure)."""
    start, end = _period_bounds(closure.site, closure.first_day, closure.last_day, now)
    slot_ids = [slot.id for slot in slots_on_closed_days(session, closure.site, start, end) if slot.booked_count]
    return sorted(booked_appointments(session, slot_ids), key=lambda a: a.slot.starts_at)


def get_closure(session: Session, actor: User, closure_id: int) -> SiteClosure:
    closure = session.get(SiteClosure, closure_id)
    if closure is None:
        raise NotFound("Cette fermeture n’existe pas.")
    require(actor, Action.CLOSE, closure.site)
    return closure


def cancel_for_closure(session: Session, actor: User, closure_id: int, now: datetime) -> CancelledForClosure:
    """Cancel, once the staff confirms, every appointment booked on a closure's days, and tell each patient."""
    closure = get_closure(session, actor, closure_id)
    done = CancelledForClosure()
    for appointment in booked_during(session, closure, now):
        reachable = written_channel(appointment.patient) is not None
        cancel(session, appointment, actor, "site", now)
        (done.told_in_writing if reachable else done.to_call).append(appointment)
    return done


def reopen(session: Session, actor: User, closure_id: int, now: datetime) -> int:
    """Lift a closure: the slots of its days come back (from the practitioners' rules); return how many."""
    closure = get_closure(session, actor, closure_id)
    site = closure.site
    session.delete(closure)
    session.flush()
    record_audit(session, user=actor, action="site.reopen", object_type="site", object_id=site.id,
                 details={"first_day": closure.first_day.isoformat(), "last_day": closure.last_day.isoformat()},
                 now=now)
    return _rematerialize(session, site, now)


def _rematerialize(session: Session, site: Site, now: datetime) -> int:
    created = 0
    for rule in session.scalars(select(AvailabilityRule).where(AvailabilityRule.site_id == site.id,
                                                               AvailabilityRule.active)):
        created += materialize_rule(session, rule, now)
    if created:
        announce(session, SLOTS_PUBLISHED, site_id=site.id, now=now)  # people waiting may get one
    return created


def open_on_holiday(session: Session, actor: User, site_id: int, day: date, now: datetime) -> int:
    """Let a site open on a public holiday after all; return how many slots the rules then create."""
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.CLOSE)
    if day not in public_holidays(site.commune.departement_code, day, day):
        raise InvalidInput("Ce jour n’est pas férié.", field="day")
    if session.get(HolidayOpening, (site.id, day)) is None:
        session.add(HolidayOpening(site_id=site.id, day=day))
        session.flush()
    record_audit(session, user=actor, action="site.open_on_holiday", object_type="site", object_id=site.id,
                 details={"day": day.isoformat()}, now=now)
    return _rematerialize(session, site, now)


def close_on_holiday_again(session: Session, actor: User, site_id: int, day: date, now: datetime) -> int:
    """Undo open_on_holiday: the day's free slots go; return how many."""
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.CLOSE)
    opening = session.get(HolidayOpening, (site.id, day))
    if opening is not None:
        session.delete(opening)
        session.flush()
    start, end = _period_bounds(site, day, day, now)
    return withdraw_on_closed_days(session, start, end, site_ids=[site.id])


def site_closures(session: Session, site: Site, today: date) -> list[SiteClosure]:
    """The closures of a site that are not over."""
    return list(session.scalars(select(SiteClosure).where(SiteClosure.site_id == site.id,
                                                          SiteClosure.last_day >= today)
                                .order_by(SiteClosure.first_day)))
