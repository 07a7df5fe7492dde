"""iCalendar output: a practitioner's private feed and a resident's single appointment."""

import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.auth.permissions import Action
from booking.auth.tokens import token_hash
from booking.errors import NotFound
from booking.sites.models import Practitioner, Site
from booking.sites.services import get_practitioner_for
from booking.slots.models import Slot

PRODID = "-//Rendez-vous sante des communes//FR"
UID_DOMAIN = "rendez-vous-sante"
FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 180


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _location(site: Site) -> str:
    return f"{site.address}, {site.postal_code} {site.commune.name}"


def _event(uid: str, start: datetime, end: datetime, summary: str, stamp: datetime, location: str | None = None,
           description: str | None = None) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)  # aware UTC: written with a Z, no VTIMEZONE needed
    event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    return event


def new_calendar_token(session: Session, actor: User, practitioner_id: int) -> str:
    """Give a practitioner a new private feed secret (the old URL stops working); return it once."""
    practitioner = get_practitioner_for(session, actor, practitioner_id, Action.MANAGE)
    token = secrets.token_urlsafe(24)
    practitioner.calendar_token_hash = token_hash(token)
    session.flush()
    return token


def revoke_calendar_token(session: Session, actor: User, practitioner_id: int) -> None:
    """Turn a practitioner's feed off."""
    practitioner = get_practitioner_for(session, actor, practitioner_id, Action.MANAGE)
    practitioner.calendar_token_hash = None
    session.flush()


def practitioner_feed(session: Session, token: str, now: datetime) -> bytes:
    """Return the practitioner's appointments and blocked periods as iCalendar, found by feed secret."""
    practitioner = session.scalar(select(Practitioner).where(Practitioner.calendar_token_hash == token_hash(token)))
    if practitioner is None:
        raise NotFound("Ce calendrier n’existe pas ou a été révoqué.")
    start, end = now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=FEED_FUTURE_DAYS)
    calendar = _calendar(f"Consultations – {practitioner.full_name}")
    appointments = session.scalars(
        select(Appointment).join(Slot).options(selectinload(Appointment.slot).selectinload(Slot.site),
                                               selectinload(Appointment.slot).selectinload(Slot.rule))
        .where(Slot.practitioner_id == practitioner.id, Slot.starts_at >= start, Slot.starts_at < end,
               Appointment.status.in_(("booked", "attended", "no_show")))
        .order_by(Slot.starts_at))
    for appointment in appointments:
        slot = appointment.slot
        # Seen on a phone in a waiting room, this must say nothing medical: no reason, no name.
        video = slot.rule.video_url if slot.modality == "remote" and slot.rule else None
        lines = [f"Référence {appointment.reference}"] + ([f"Visioconsultation : {video}"] if video else [])
        event = _event(f"appointment-{appointment.id}", slot.starts_at, slot.ends_at,
                       f"{'Téléconsultation' if slot.modality == 'remote' else 'Consultation'} – {slot.site.name}",
                       now, _location(slot.site), "\n".join(lines))
        if video:
            event.add("url", video)  # calendar apps show it as a link to join
        calendar.add_component(event)
    blocked = session.scalars(
        select(Slot).options(selectinload(Slot.site))
        .where(Slot.practitioner_id == practitioner.id, Slot.status == "blocked", Slot.starts_at >= start,
               Slot.starts_at < end).order_by(Slot.site_id, Slot.starts_at))
    for first, last in _runs(list(blocked)):
        calendar.add_component(_event(
            f"blocked-{practitioner.id}-{first.site_id}-{first.starts_at:%Y%m%dT%H%M}", first.starts_at,
            last.ends_at, f"Indisponible – {first.site.name}", now, _location(first.site)))
    return calendar.to_ical()


def _runs(slots: list[Slot]) -> list[tuple[Slot, Slot]]:
    """Group back-to-back blocked slots of one site into periods."""
    runs: list[tuple[Slot, Slot]] = []
    for slot in slots:
        if runs and runs[-1][1].site_id == slot.site_id and slot.starts_at - runs[-1][1].ends_at <= timedelta(hours=1):
            runs[-1] = (runs[-1][0], slot)
        else:
            runs.append((slot, slot))
    return runs


def appointment_ics(appointment: Appointment, now: datetime) -> bytes:
    """Return one appointment as an .ics file for the patient's own calendar."""
    slot = appointment.slot
    site = slot.site
    calendar = _calendar("Rendez-vous santé")
    lines = [f"Référence : {appointment.reference}"]
    if site.instructions:
        lines.append(site.instructions)
    if site.phone:
        from booking.phones import format_phone

        lines.append(f"Pour annuler ou pour toute question : {format_phone(site.phone)}")
    calendar.add_component(_event(f"appointment-{appointment.id}", slot.starts_at, slot.ends_at,
                                  f"Rendez-vous – {site.name}", now, _location(site), "\n".join(lines)))
    return calendar.to_ical()
