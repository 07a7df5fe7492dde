"""Pure booking rules: references, lateness."""

import secrets
from datetime import UTC, date, datetime, time, timedelta
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
    return wall.replace(tzinfo=zone).astimezone(UTC)


def morning_after(moment: datetime, time_zone: str, start: int = QUIET_START_HOUR,
                  end: int = QUIET_END_HOUR) -> datetime:
    """Return the instant itself, or the next morning's opening hour when it falls in the night."""
    if not in_quiet_hours(moment, time_zone, start, end):
        return moment
    zone = ZoneInfo(time_zone)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.hour >= start else local.date()
    return datetime.combine(day, time(end), tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, time_zone: str) -> date:
    """The calendar day an instant falls on in a site's time zone."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


CALL_FIRST_HOUR, CALL_LAST_HOUR = 9, 19   # reminder calls ring between 09:00 and 19:00, site time
CALL_HOUR = 10                            # the day before, at 10:00
CALL_RETRY_AFTER = timedelta(hours=2)


def _calling_day(day: date) -> date:
    return day - timedelta(days=1) if day.weekday() == 6 else day  # never on Sunday: Saturday instead


def call_window(slot_start: datetime, time_zone: str, now: datetime) -> tuple[datetime, datetime] | None:
    """When a reminder call may ring (from, until), or None when no decent moment is left before the visit.

    The day before (Saturday for a Monday), from 10:00; until 19:00 that day. Booked later than that
    moment but before 18:00 the day before, the call rings at once.
    """
    zone = ZoneInfo(time_zone)
    visit_day = slot_start.astimezone(zone).date()
    day = _calling_day(visit_day - timedelta(days=1))
    due = datetime.combine(day, time(CALL_HOUR), tzinfo=zone)
    until = datetime.combine(day, time(CALL_LAST_HOUR), tzinfo=zone)
    if due >= now:
        return due, until
    local_now = now.astimezone(zone)
    if (local_now.date() < visit_day and local_now.weekday() != 6
            and CALL_FIRST_HOUR <= local_now.hour < CALL_LAST_HOUR - 1):
        return now, datetime.combine(local_now.date(), time(CALL_LAST_HOUR), tzinfo=zone)
    return None


def retry_window(slot_start: datetime, time_zone: str, now: datetime) -> tuple[datetime, datetime] | None:
    """When an unanswered call is tried once more: two hours later, or the next calling day's 10:00,
    always before the day of the visit; None when no such moment is left."""
    zone = ZoneInfo(time_zone)
    visit_day = slot_start.astimezone(zone).date()
    later = (now + CALL_RETRY_AFTER).astimezone(zone)
    if later.hour < CALL_LAST_HOUR and later.weekday() != 6 and later.hour >= CALL_FIRST_HOUR:
        due = later
    else:
        day = _calling_day(later.date() + timedelta(days=1) if later.hour >= CALL_LAST_HOUR else later.date())
        if day.weekday() == 6:
            day += timedelta(days=1)
        due = datetime.combine(day, time(CALL_HOUR), tzinfo=zone)
    if due.date() >= visit_day:
        return None
    return due.astimezone(UTC), datetime.combine(due.date(), time(CALL_LAST_HOUR), tzinfo=zone)


CANCELLED_BY = {"patient": "annulé par le patient", "practitioner": "annulé par le praticien",
                "site": "annulé par le lieu (fermeture)"}


ATTENDANCE_CORRECTION_DAYS = 30  # a misclick at the desk is put right within a month, audited, never later


def attendance_correctable(status: str, starts_at: datetime, time_zone: str, now: datetime) -> bool:
    """Whether « venu » or « absent » may still be taken back: up to 30 days after the appointment's local day."""
    if status not in ("attended", "no_show") or starts_at > now:
        return False
    return (local_day(now, time_zone) - local_day(starts_at, time_zone)).days <= ATTENDANCE_CORRECTION_DAYS


def state_label(status: str, starts_at: datetime, now: datetime, cancel_reason: str | None = None) -> str:
    """Say what became of an appointment, as the database holds it: « à venir » only when booked and ahead."""
    if status == "cancelled":
        return CANCELLED_BY.get(cancel_reason or "", "annulé")
    if status == "attended":
        return "venu"
    if status == "no_show":
        return "absent"
    return "à venir" if starts_at > now else "passé, présence à noter"
