"""Turn an availability rule into slot times. Pure functions: no database, no Flask."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from booking.errors import InvalidInput


@dataclass(frozen=True)
class SlotTime:
    starts_at: datetime  # aware, UTC
    ends_at: datetime    # aware, UTC


def validate_rrule(text: str) -> str:
    """Return the RRULE normalised to upper case, or raise InvalidInput with a French message."""
    cleaned = (text or "").strip().upper()
    if cleaned.startswith("RRULE:"):
        cleaned = cleaned[len("RRULE:"):]
    if not cleaned.startswith("FREQ=") or "DTSTART" in cleaned:
        raise InvalidInput("La récurrence doit être une règle RRULE commençant par FREQ= (sans DTSTART).")
    try:
        rrulestr(cleaned, dtstart=datetime(2000, 1, 3))
    except (ValueError, TypeError):
        raise InvalidInput(f"Récurrence illisible : {text}.") from None
    return cleaned


def occurrence_days(rrule: str, start_date: date, until: date | None = None, count: int | None = None,
                    last_day: date | None = None) -> list[date]:
    """Return the local days on which the rule recurs, from start_date up to last_day."""
    parts = [validate_rrule(rrule)]
    if until is not None and "UNTIL=" not in parts[0]:
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    if count is not None and "COUNT=" not in parts[0]:
        parts.append(f"COUNT={count}")
    recurrence = rrulestr(";".join(parts), dtstart=datetime.combine(start_date, time()))
    days = []
    for moment in recurrence:
        if last_day is not None and moment.date() > last_day:
            break
        days.append(moment.date())
    return days


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """Return the UTC instant of a local wall-clock time, None when that time does not exist.

    An ambiguous time (the repeated hour in autumn) gives its first occurrence only.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two ambiguous instants
    instant = local.astimezone(timezone.utc)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by a spring-forward change
    return instant


def day_slot_starts(start_time: time, end_time: time, slot_minutes: int, buffer_minutes: int) -> list[time]:
    """Return the local start times of the slots that fit between start_time and end_time."""
    if slot_minutes <= 0:
        raise InvalidInput("La durée d’un créneau doit être positive.")
    if end_time <= start_time:
        raise InvalidInput("L’heure de fin doit suivre l’heure de début.")
    starts = []
    cursor = datetime.combine(date(2000, 1, 1), start_time)
    end = datetime.combine(date(2000, 1, 1), end_time)
    step = timedelta(minutes=slot_minutes + buffer_minutes)
    length = timedelta(minutes=slot_minutes)
    while cursor + length <= end:
        starts.append(cursor.time())
        cursor += step
    return starts


def expand(rrule: str, start_date: date, start_time: time, end_time: time, slot_minutes: int,
           time_zone: str, *, buffer_minutes: int = 0, until: date | None = None, count: int | None = None,
           window_start: datetime | None = None, window_end: datetime | None = None) -> list[SlotTime]:
    """Return the slots of a rule in UTC, keeping local wall-clock times across DST changes."""
    zone = ZoneInfo(time_zone)
    last_day = window_end.astimezone(zone).date() if window_end else None
    starts = day_slot_starts(start_time, end_time, slot_minutes, buffer_minutes)
    length = timedelta(minutes=slot_minutes)
    slots = []
    for day in occurrence_days(rrule, start_date, until, count, last_day):
        for at in starts:
            instant = local_to_utc(day, at, zone)
            if instant is None:
                continue
            if window_start is not None and instant < window_start:
                continue
            if window_end is not None and instant >= window_end:
                continue
            slots.append(SlotTime(instant, instant + length))
    return slots


WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_LABELS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
FREQUENCIES = {
    "weekly": "Chaque semaine",
    "biweekly": "Une semaine sur deux",
    "monthly": "Une fois par mois (le 1er, 2e… jour de la semaine du mois)",
}
POSITIONS = {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"}


def build_rrule(frequency: str, days: list[str], position: int | None = None) -> str:
    """Build an RRULE from the choices of the publication form."""
    days = [day for day in WEEKDAYS if day in days]
    if not days:
        raise InvalidInput("Choisissez au moins un jour de la semaine.")
    if frequency == "weekly":
        return f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    if frequency == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={','.join(days)}"
    if frequency == "monthly":
        if position not in POSITIONS:
            raise InvalidInput("Choisissez la semaine du mois (premier, deuxième… dernier).")
        return "FREQ=MONTHLY;BYDAY=" + ",".join(f"{position}{day}" for day in days)
    raise InvalidInput("Rythme inconnu.")


def describe_rrule(rrule: str) -> str:
    """Describe a rule in French ("chaque mardi", "le premier lundi du mois")."""
    parts = dict(part.split("=", 1) for part in rrule.split(";") if "=" in part)
    by_day = [d for d in parts.get("BYDAY", "").split(",") if d]

    def day_name(code: str) -> str:
        return WEEKDAY_LABELS[WEEKDAYS.index(code[-2:])] if code[-2:] in WEEKDAYS else code

    names = [day_name(d) for d in by_day]
    joined = ", ".join(names[:-1]) + (" et " if len(names) > 1 else "") + names[-1] if names else ""
    if parts.get("FREQ") == "WEEKLY":
        if parts.get("INTERVAL") == "2":
            return f"un {joined} sur deux" if len(names) == 1 else f"une semaine sur deux, le {joined}"
        return f"chaque {joined}"
    if parts.get("FREQ") == "MONTHLY" and by_day:
        position = by_day[0][:-2]
        label = POSITIONS.get(int(position), position) if position.lstrip("-").isdigit() else ""
        return f"le {label} {joined} du mois"
    return rrule
