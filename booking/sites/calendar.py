"""A site's calendar: public holidays of its département, its closures, and its opening hours.

Slots are never created on a day the site is closed; opening hours bind the slots of a site that
receives its patients with a reception desk or an assistant (``schedule_mode == "opening_hours"``).
"""

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from itertools import pairwise

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.errors import InvalidInput
from booking.formatting import WEEKDAY_LABELS, format_day, format_hour
from booking.sites.models import CLOSURE_REASONS, HolidayOpening, OpeningHours, Site, SiteClosure

# The holidays package names the local calendars of Alsace-Moselle and of each overseas département.
_HOLIDAY_SUBDIVISIONS = {"57": "57", "67": "6AE", "68": "6AE", "971": "971", "972": "972", "973": "973",
                         "974": "974", "976": "976"}


@lru_cache(maxsize=256)
def _holidays_of_year(departement_code: str, year: int) -> dict[date, str]:
    subdivision = _HOLIDAY_SUBDIVISIONS.get(departement_code)
    # French typography: « Jour de l’an », not the package's straight apostrophe.
    return {day: name.replace("'", "’") for day, name in
            holidays.France(years=year, subdiv=subdivision, language="fr").items()}


def public_holidays(departement_code: str, first: date, last: date) -> dict[date, str]:
    """Return the public holidays of a département between two days (inclusive), with their French names."""
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        found |= {day: name for day, name in _holidays_of_year(departement_code, year).items() if first <= day <= last}
    return found


def describe_hours(hours: list[OpeningHours]) -> list[str]:
    """Say opening hours as people do: « mardi de 9 h à 12 h et de 14 h à 17 h »."""
    by_day: dict[int, list[OpeningHours]] = {}
    for row in sorted(hours, key=lambda h: (h.weekday, h.opens)):
        by_day.setdefault(row.weekday, []).append(row)
    return [f"{WEEKDAY_LABELS[day]} " + " et ".join(f"de {_clock(r.opens)} à {_clock(r.closes)}" for r in rows)
            for day, rows in by_day.items()]


_RANGE = re.compile(r"(?:de\s*)?(\d{1,2})\s*(?:h|:)?\s*(\d{2})?\s*(?:-|–|à|a)\s*(\d{1,2})\s*(?:h|:)?\s*(\d{2})?",
                    re.IGNORECASE)


def parse_day_ranges(text: str, day_label: str) -> list[tuple[time, time]]:
    """Read a day's opening ranges as people type them: « 9h-12h, 14h-17h30 », « de 9 h à 12 h », « 9:00-12:00 »."""
    cleaned = (text or "").strip()
    if not cleaned or cleaned.lower() in ("fermé", "ferme", "-"):
        return []
    ranges = []
    rest = _RANGE.sub("", cleaned)
    if re.search(r"\d", rest):
        raise InvalidInput(f"{day_label} : horaires illisibles. Écrivez par exemple « 9h-12h, 14h-17h30 ».")
    for match in _RANGE.finditer(cleaned):
        h1, m1, h2, m2 = match.groups()
        try:
            opens, closes = time(int(h1), int(m1 or 0)), time(int(h2), int(m2 or 0))
        except ValueError:
            raise InvalidInput(f"{day_label} : {match.group(0).strip()} n’est pas une heure.") from None
        if opens >= closes:
            raise InvalidInput(f"{day_label} : l’ouverture ({_clock(opens)}) doit précéder la fermeture "
                               f"({_clock(closes)}).")
        ranges.append((opens, closes))
    if not ranges:
        raise InvalidInput(f"{day_label} : horaires illisibles. Écrivez par exemple « 9h-12h, 14h-17h30 », "
                           f"ou laissez vide si le lieu est fermé.")
    ranges.sort()
    for (_, closes), (opens, _) in pairwise(ranges):
        if opens < closes:
            raise InvalidInput(f"{day_label} : deux plages se chevauchent.")
    return ranges


def _clock(at: time) -> str:
    return format_hour(at)


def outside_hours(hours: list[OpeningHours], weekday: int, start: time, end: time) -> str | None:
    """Return why [start, end) on this weekday falls outside the opening hours, or None when it fits."""
    ranges = [row for row in hours if row.weekday == weekday]
    if any(row.opens <= start and end <= row.closes for row in ranges):
        return None
    day = WEEKDAY_LABELS[weekday]
    if not ranges:
        return f"Le lieu est fermé le {day}."
    said = " et ".join(f"de {_clock(r.opens)} à {_clock(r.closes)}" for r in ranges)
    return f"Le lieu n’est ouvert le {day} que {said}."


@dataclass
class SiteCalendar:
    """The closed days of one site over a period: whole days, and days a single room is closed."""

    closed: dict[date, str] = field(default_factory=dict)        # day → why (« Noël », « élections »)
    rooms_closed: dict[int, set[date]] = field(default_factory=dict)

    def why_closed(self, day: date, room_id: int | None = None) -> str | None:
        if day in self.closed:
            return self.closed[day]
        if room_id is not None and day in self.rooms_closed.get(room_id, ()):
            return "salle fermée"
        return None


def site_calendar(session: Session, site: Site, first: date, last: date) -> SiteCalendar:
    """Load a site's holidays (minus the ones it opens on) and closures between two local days."""
    calendar = SiteCalendar()
    opened = set(session.scalars(select(HolidayOpening.day).where(
        HolidayOpening.site_id == site.id, HolidayOpening.day >= first, HolidayOpening.day <= last)))
    for day, name in public_holidays(site.commune.departement_code, first, last).items():
        if day not in opened:
            calendar.closed[day] = f"jour férié ({name})"
    for closure in session.scalars(select(SiteClosure).where(
            SiteClosure.site_id == site.id, SiteClosure.first_day <= last, SiteClosure.last_day >= first)):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            if closure.room_id is None:
                calendar.closed.setdefault(day, CLOSURE_REASONS[closure.reason])
            else:
                calendar.rooms_closed.setdefault(closure.room_id, set()).add(day)
            day += timedelta(days=1)
    return calendar


def upcoming_closures(session: Session, site: Site, today: date, days: int = 60) -> list[str]:
    """What the public page says: « fermé le mardi 14 juillet (jour férié : Fête nationale) »."""
    last = today + timedelta(days=days)
    said = []
    for closure in session.scalars(select(SiteClosure).where(
            SiteClosure.site_id == site.id, SiteClosure.room_id.is_(None), SiteClosure.last_day >= today,
            SiteClosure.first_day <= last).order_by(SiteClosure.first_day)):
        when = (f"le {format_day(closure.first_day)}" if closure.first_day == closure.last_day
                else f"du {format_day(closure.first_day)} au {format_day(closure.last_day)}")
        said.append((closure.first_day, f"Fermé {when} ({CLOSURE_REASONS[closure.reason]})"))
    opened = set(session.scalars(select(HolidayOpening.day).where(HolidayOpening.site_id == site.id)))
    for day, name in public_holidays(site.commune.departement_code, today, last).items():
        if day not in opened and (site.schedule_mode == "opening_hours" and _open_that_weekday(site, day)):
            said.append((day, f"Fermé le {format_day(day)} (jour férié : {name})"))
    return [text for _, text in sorted(said)]


def _open_that_weekday(site: Site, day: date) -> bool:
    return any(row.weekday == day.weekday() for row in site.hours)


def hours_text(hours: list[OpeningHours], weekday: int) -> str:
    """A weekday's ranges written back as the form takes them (« 9h-12h, 14h-17h30 »)."""
    def short(at: time) -> str:
        return f"{at.hour}h{at.minute:02d}" if at.minute else f"{at.hour}h"
    return ", ".join(f"{short(r.opens)}-{short(r.closes)}" for r in sorted(hours, key=lambda h: h.opens)
                     if r.weekday == weekday)


def set_opening_hours(session: Session, actor, site_id: int, schedule_mode: str, agents_may_close: bool,
                      ranges: dict[int, list[tuple[time, time]]], requires_assistant: bool | None = None) -> Site:
    """Replace a site's opening hours and say whether they bind the practitioners' slots."""
    from booking.auth.permissions import Action, fetch
    from booking.sites.models import SCHEDULE_MODES

    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.MANAGE)
    if schedule_mode not in SCHEDULE_MODES:
        raise InvalidInput("Choisissez quand les praticiens peuvent publier.", field="schedule_mode")
    if schedule_mode == "opening_hours" and not any(ranges.values()):
        raise InvalidInput("Indiquez au moins une plage d’ouverture, ou laissez les praticiens publier quand ils "
                           "le souhaitent.", field="schedule_mode")
    site.hours = [OpeningHours(weekday=day, opens=opens, closes=closes)
                  for day, day_ranges in sorted(ranges.items()) for opens, closes in day_ranges]
    site.schedule_mode, site.agents_may_close = schedule_mode, agents_may_close
    if requires_assistant is not None:
        site.requires_assistant = requires_assistant
    session.flush()
    return site
