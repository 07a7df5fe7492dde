"""Who assists téléconsultation patients, day by day, at the sites that need it.

A téléconsultation slot at such a site is published as usual but stays unbookable
(``Slot.awaiting_assistant``) until the rota names someone for its day: one flag, so that the
single definition of a bookable slot stays one cheap SQL condition.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.auth.models import User
from booking.auth.permissions import Action, fetch, works_at_desk
from booking.auth.services import record_audit
from booking.errors import Forbidden, InvalidInput
from booking.sites.models import AssistantDuty, Site
from booking.slots.models import Slot

MAX_ROTA_DAYS = 366


def duty_days(session: Session, site: Site, first: date, last: date) -> set[date]:
    """The days someone assists at a site between two local days (inclusive)."""
    return set(session.scalars(select(AssistantDuty.day).where(
        AssistantDuty.site_id == site.id, AssistantDuty.day >= first, AssistantDuty.day <= last)))


def awaits_assistant(site: Site, modality: str, day: date, on_duty: set[date]) -> bool:
    """Whether a slot of this modality on this day must wait for someone on duty."""
    return site.requires_assistant and modality == "remote" and day not in on_duty


def refresh_assistant_flags(session: Session, site: Site, now: datetime) -> int:
    """Recompute which future téléconsultation slots of a site wait for an assistant; return how many do."""
    zone = ZoneInfo(site.time_zone)
    slots = list(session.scalars(select(Slot).where(Slot.site_id == site.id, Slot.starts_at > now,
                                                    Slot.status.in_(("open", "blocked")))))
    if not slots:
        return 0
    days = [slot.starts_at.astimezone(zone).date() for slot in slots]
    on_duty = duty_days(session, site, min(days), max(days))
    waiting = 0
    for slot, day in zip(slots, days, strict=True):
        slot.awaiting_assistant = awaits_assistant(site, slot.modality, day, on_duty)
        waiting += slot.awaiting_assistant
    session.flush()
    return waiting


def _site_for_rota(session: Session, actor: User, site_id: int) -> Site:
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.VIEW)
    if not works_at_desk(actor):
        raise Forbidden("Le planning de l’assistante se tient à l’accueil de la mairie.")
    return site


def put_on_duty(session: Session, actor: User, site_id: int, first_day: date, last_day: date, assistant: str,
                now: datetime) -> int:
    """Name who assists each day of a period (the site's opening days only); return how many days."""
    site = _site_for_rota(session, actor, site_id)
    name = " ".join((assistant or "").split())[:100]
    if not name:
        raise InvalidInput("Indiquez qui assiste les patients (un prénom suffit).", field="assistant")
    if last_day < first_day:
        raise InvalidInput("Le dernier jour précède le premier.", field="last_day")
    if (last_day - first_day).days >= MAX_ROTA_DAYS:
        raise InvalidInput("Un planning couvre un an au plus.", field="last_day")
    open_weekdays = {row.weekday for row in site.hours} or set(range(7))
    day, count = first_day, 0
    while day <= last_day:
        if day.weekday() in open_weekdays:
            duty = session.get(AssistantDuty, (site.id, day)) or AssistantDuty(site_id=site.id, day=day)
            duty.assistant = name
            session.add(duty)
            count += 1
        day += timedelta(days=1)
    session.flush()
    refresh_assistant_flags(session, site, now)
    record_audit(session, user=actor, action="site.assistant_rota", object_type="site", object_id=site.id,
                 details={"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "days": count},
                 now=now)
    return count


def take_off_duty(session: Session, actor: User, site_id: int, day: date, now: datetime) -> int:
    """Nobody assists that day any more: its téléconsultations stop being bookable; return how many are booked."""
    site = _site_for_rota(session, actor, site_id)
    duty = session.get(AssistantDuty, (site.id, day))
    if duty is not None:
        session.delete(duty)
        session.flush()
    refresh_assistant_flags(session, site, now)
    zone = ZoneInfo(site.time_zone)
    start = datetime.combine(day, time(), tzinfo=zone)
    return len([slot for slot in session.scalars(select(Slot).where(
        Slot.site_id == site.id, Slot.starts_at >= start, Slot.starts_at < start + timedelta(days=1),
        Slot.modality == "remote", Slot.booked_count > 0))])


def upcoming_duties(session: Session, site: Site, today: date, days: int = 60) -> list[AssistantDuty]:
    return list(session.scalars(select(AssistantDuty).where(
        AssistantDuty.site_id == site.id, AssistantDuty.day >= today,
        AssistantDuty.day <= today + timedelta(days=days)).order_by(AssistantDuty.day)))
