"""iCalendar output: a practitioner's private feed and a resident's single appointment."""

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.auth.permissions import Action
from booking.auth.tokens import token_hash
from booking.errors import NotFound
from booking.sites.models import CLOSURE_REASONS, Practitioner, Site, SiteClosure, SitePractitioner
from booking.sites.services import get_practitioner_for
from booking.slots.models import Slot

PRODID = "-//Rendez-vous sante des communes//FR"
UID_DOMAIN = "rendez-vous-sante"
FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 180
# A cancelled appointment stays in the feed this long, marked CANCELLED: a calendar app that subscribed to the
# feed removes an event it is told about, not one that silently disappears.
FEED_CANCELLED_DAYS = 14


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
    event.add("dtstart", start)  # aware UTC: written with a Z; in the site's zone: with its TZID (and VTIMEZONE)
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
    appointments = list(session.scalars(
        select(Appointment).join(Slot).options(selectinload(Appointment.slot).selectinload(Slot.site),
                                               selectinload(Appointment.slot).selectinload(Slot.rule))
        .where(Slot.practitioner_id == practitioner.id, Slot.starts_at >= start, Slot.starts_at < end,
               or_(Appointment.status != "cancelled",
                   Appointment.cancelled_at >= now - timedelta(days=FEED_CANCELLED_DAYS)))
        .order_by(Slot.starts_at)))
    for appointment in _latest_per_event(appointments):
        calendar.add_component(_practitioner_event(appointment))
    _add_closures(session, calendar, practitioner, start, end)
    blocked = session.scalars(
        select(Slot).options(selectinload(Slot.site))
        .where(Slot.practitioner_id == practitioner.id, Slot.status == "blocked", Slot.starts_at >= start,
               Slot.starts_at < end).order_by(Slot.site_id, Slot.starts_at))
    for first, last in _runs(list(blocked)):
        calendar.add_component(_event(
            f"blocked-{practitioner.id}-{first.site_id}-{first.starts_at:%Y%m%dT%H%M}", first.starts_at,
            last.ends_at, f"Indisponible – {first.site.name}", now, _location(first.site)))
    return calendar.to_ical()


def _latest_per_event(appointments: list[Appointment]) -> list[Appointment]:
    """One event per UID: a rescheduled appointment's new version, not the cancelled one it replaced."""
    latest: dict[str, Appointment] = {}
    for appointment in appointments:
        known = latest.get(appointment.event_uid)
        if known is None or appointment.calendar_sequence > known.calendar_sequence:
            latest[appointment.event_uid] = appointment
    return sorted(latest.values(), key=lambda appointment: (appointment.slot.starts_at, appointment.id))


def _changes(event: Event, appointment: Appointment) -> None:
    """What lets a calendar app tell a newer version of the event: its SEQUENCE, its last change, its status."""
    event.add("sequence", appointment.calendar_sequence)
    event.add("last-modified", appointment.changed_at)
    event.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")


def _practitioner_event(appointment: Appointment) -> Event:
    slot = appointment.slot
    # Seen on a phone in a waiting room, this must say nothing medical: no reason, no name.
    video = slot.rule.video_url if slot.modality == "remote" and slot.rule else None
    lines = [f"Référence {appointment.reference}"] + ([f"Visioconsultation : {video}"] if video else [])
    summary = f"{'Téléconsultation' if slot.modality == 'remote' else 'Consultation'} – {slot.site.name}"
    if appointment.status == "cancelled":
        summary = f"Annulé : {summary}"
    event = _event(appointment.event_uid, slot.starts_at, slot.ends_at, summary, appointment.changed_at,
                   _location(slot.site), "\n".join(lines))
    _changes(event, appointment)
    if video and appointment.status != "cancelled":
        event.add("url", video)  # calendar apps show it as a link to join
    return event


def _add_closures(session: Session, calendar: Calendar, practitioner: Practitioner, start: datetime,
                  end: datetime) -> None:
    """The days a site the practitioner consults at is closed, as all-day events."""
    site_ids = select(SitePractitioner.site_id).where(SitePractitioner.practitioner_id == practitioner.id)
    closures = session.scalars(
        select(SiteClosure).options(selectinload(SiteClosure.site))
        .where(SiteClosure.site_id.in_(site_ids), SiteClosure.last_day >= start.date(),
               SiteClosure.first_day <= end.date()).order_by(SiteClosure.first_day, SiteClosure.id))
    for closure in closures:
        event = Event()
        event.add("uid", f"closure-{closure.id}@{UID_DOMAIN}")
        event.add("dtstamp", closure.created_at)
        event.add("last-modified", closure.created_at)
        event.add("dtstart", closure.first_day)
        event.add("dtend", closure.last_day + timedelta(days=1))  # DTEND of an all-day event is exclusive
        event.add("summary", f"Fermé – {closure.site.name}")
        event.add("description", f"Lieu fermé : {CLOSURE_REASONS.get(closure.reason, closure.reason)}")
        event.add("transp", "TRANSPARENT")
        event.add("location", _location(closure.site))
        calendar.add_component(event)


def invitation(appointment: Appointment, organizer: str, attendee: str, description: str) -> bytes:
    """The invitation an e-mail carries (RFC 5546): REQUEST while the appointment stands, CANCEL once cancelled.

    In the site's own time zone with its VTIMEZONE, so that the person's calendar shows the hour of the place.
    """
    slot = appointment.slot
    site = slot.site
    zone = ZoneInfo(site.time_zone)
    cancelled = appointment.status == "cancelled"
    calendar = _calendar("Rendez-vous santé")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = _event(appointment.event_uid, slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone),
                   f"Rendez-vous – {site.name}", appointment.changed_at, _location(site), description)
    _changes(event, appointment)
    organizer_address = vCalAddress(f"mailto:{_bare_address(organizer)}")
    organizer_address.params["cn"] = "Rendez-vous santé"
    event.add("organizer", organizer_address)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params.update({"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"})
    event.add("attendee", guest)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _bare_address(sender: str) -> str:
    """« Rendez-vous santé <no-reply@example.fr> » → no-reply@example.fr."""
    return sender.rpartition("<")[2].rstrip("> ").strip()


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
    event = _event(appointment.event_uid, slot.starts_at, slot.ends_at, f"Rendez-vous – {site.name}",
                   appointment.changed_at, _location(site), "\n".join(lines))
    _changes(event, appointment)
    calendar.add_component(event)
    return calendar.to_ical()
