"""Pure booking rules: references, lateness."""

import secrets
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# No 0/O, 1/I/L, 5/S, 8/B: read aloud at a desk or over the phone without confusion.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXYZ234679"
LATE_CANCELLATION = timedelta(hours=24)


def new_reference() -> str:
    """Return a short human reference such as K7P-3QX."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def is_late_cancellation(slot_start: datetime, cancelled_at: datetime) -> bool:
    """Tell whether a cancellation comes less than 24 hours before the slot."""
    return slot_start - cancelled_at < LATE_CANCELLATION


QUIET_START_HOUR = 21
QUIET_END_HOUR = 8


def in_quiet_hours(moment: datetime, time_zone: str, start: int = QUIET_START_HOUR, end: int = QUIET_END_HOUR) -> bool:
    """Tell whether an instant falls in the site's night, when no SMS goes out."""
    hour = moment.astimezone(ZoneInfo(time_zone)).hour
    return hour >= start or hour < end


def reminder_due(slot_start: datetime, hours_before: int, time_zone: str, start: int = QUIET_START_HOUR,
                 end: int = QUIET_END_HOUR) -> datetime:
    """Return when a reminder goes out: ``hours_before`` the slot on the site's wall clock, or before the night.

    "The day before at 9 h" stays 9 h on the clock even when a daylight-saving
    change falls in between.
    """
    zone = ZoneInfo(time_zone)
    wall = slot_start.astimezone(zone).replace(tzinfo=None) - timedelta(hours=hours_before)
    if wall.hour >= start:
        wall = wall.replace(hour=start - 1, minute=0, second=0, microsecond=0)
    elif wall.hour < end:
        wall = (wall - timedelta(days=1)).replace(hour=start - 1, minute=0, second=0, microsecond=0)
    return wall.replace(tzinfo=zone).astimezone(timezone.utc)


def morning_after(moment: datetime, time_zone: str, start: int = QUIET_START_HOUR,
                  end: int = QUIET_END_HOUR) -> datetime:
    """Return the instant itself, or the next morning's opening hour when it falls in the night."""
    if not in_quiet_hours(moment, time_zone, start, end):
        return moment
    zone = ZoneInfo(time_zone)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.hour >= start else local.date()
    return datetime.combine(day, time(end), tzinfo=zone).astimezone(timezone.utc)


def local_day(instant: datetime, time_zone: str) -> date:
    """The calendar day an instant falls on in a site's time zone."""
    return instant.astimezone(ZoneInfo(time_zone)).date()
