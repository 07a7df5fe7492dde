"""Turn an availability rule into slot times. Pure functions: no database, no Flask."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from booking.errors import InvalidInput
from booking.formatting import WEEKDAY_LABELS


@dataclass(frozen=True)
class SlotTime:
    starts_at: datetime  # aware, UTC
    ends_at: datetime    # aware, UTC


# The rhythms the publication form builds, and nothing finer: a rule that recurs
# every second (or every minute) would be expanded into millions of slots.
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT", "WKST"}
MAX_INTERVAL = 4
RULE_PAST_DAYS = 366       # a rule may start up to a year ago (a rhythm that already runs)
RULE_FUTURE_DAYS = 2 * 366  # and end at most two years ahead


def _rrule_parts(cleaned: str) -> dict[str, str]:
    parts = {}
    for part in cleaned.split(";"):
        name, equals, value = part.partition("=")
        if not equals or not value or name in parts:
            raise InvalidInput(f"Récurrence illisible : {part or cleaned}.", field="rrule")
        parts[name] = value
    return parts


def validate_rrule(text: str) -> str:
    """Return the RRULE normalised to upper case, or raise InvalidInput with a French message.

    Only the rhythms of the publication form are accepted: daily, weekly (every 1 to 4 weeks) and
    monthly on given weekdays (the first Monday, the last Friday…).
    """
    cleaned = (text or "").strip().upper()
    if cleaned.startswith("RRULE:"):
        cleaned = cleaned[len("RRULE:"):]
    if not cleaned.startswith("FREQ=") or "DTSTART" in cleaned:
        raise InvalidInput("La récurrence doit être une règle RRULE commençant par FREQ= (sans DTSTART).",
                           field="rrule")
    parts = _rrule_parts(cleaned)
    if parts["FREQ"] not in ALLOWED_FREQUENCIES:
        raise InvalidInput("Récurrence non permise : chaque jour (DAILY), chaque semaine (WEEKLY) ou chaque mois "
                           "(MONTHLY) seulement.", field="rrule")
    unknown = sorted(set(parts) - ALLOWED_PARTS)
    if unknown:
        raise InvalidInput(f"Récurrence : {', '.join(unknown)} n’est pas permis (FREQ, INTERVAL, BYDAY, "
                           "UNTIL, COUNT seulement).", field="rrule")
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= MAX_INTERVAL:
        raise InvalidInput(f"Récurrence : INTERVAL va de 1 à {MAX_INTERVAL}.", field="rrule")
    if parts["FREQ"] == "MONTHLY" and "BYDAY" not in parts:
        raise InvalidInput("Récurrence mensuelle : précisez le jour (BYDAY=1MO pour le premier lundi).",
                           field="rrule")
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= 1000):
        raise InvalidInput("Récurrence : COUNT va de 1 à 1 000.", field="rrule")
    try:
        rrulestr(cleaned, dtstart=datetime(2000, 1, 3))
    except (ValueError, TypeError, OverflowError):
        raise InvalidInput(f"Récurrence illisible : {text}.", field="rrule") from None
    return cleaned


def rule_weekdays(rrule: str, start_date: date) -> list[int]:
    """The weekdays (0 = Monday) a validated rule falls on."""
    parts = _rrule_parts(rrule)
    if "BYDAY" in parts:
        return sorted({WEEKDAYS.index(code[-2:]) for code in parts["BYDAY"].split(",")})
    if parts.get("FREQ") == "DAILY":
        return list(range(7))
    return [start_date.weekday()]


def check_rule_dates(start_date: date, until: date | None, today: date, start_kept: bool = False) -> None:
    """Refuse a rule that starts more than a year ago or runs more than two years ahead."""
    earliest, latest = today - timedelta(days=RULE_PAST_DAYS), today + timedelta(days=RULE_FUTURE_DAYS)
    if not start_kept and not earliest <= start_date <= latest:
        raise InvalidInput(f"La date de début doit se situer entre le {earliest:%d/%m/%Y} et le {latest:%d/%m/%Y}.",
                           field="start_date")
    if until is not None and not start_date <= until <= latest:
        raise InvalidInput(f"La date de fin doit suivre la date de début et précéder le {latest:%d/%m/%Y}.",
                           field="until")


def occurrence_days(rrule: str, start_date: date, until: date | None = None, count: int | None = None,
                    last_day: date | None = None, first_day: date | None = None) -> list[date]:
    """Return the local days on which the rule recurs, from first_day (default start_date) up to last_day."""
    parts = [validate_rrule(rrule)]
    if count is not None and "COUNT=" not in parts[0] and "UNTIL=" not in parts[0]:
        parts.append(f"COUNT={count}")
    if until is not None:  # RFC 5545 forbids UNTIL beside COUNT: the end date is applied below
        last_day = min(last_day or until, until)
    recurrence = rrulestr(";".join(parts), dtstart=datetime.combine(start_date, time()))
    # The rule starts at most a year ago at most daily (validate_rrule, check_rule_dates): walking
    # from its start costs a few hundred steps; only the days inside the window are kept.
    days = []
    for moment in recurrence:
        if last_day is not None and moment.date() > last_day:
            break
        if first_day is None or moment.date() >= first_day:
            days.append(moment.date())
    return days


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """Return the UTC instant of a local wall-clock time, None when that time does not exist.

    An ambiguous time (the repeated hour in autumn) gives its first occurrence only.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two ambiguous instants
    instant = local.astimezone(UTC)
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
    first_day = window_start.astimezone(zone).date() - timedelta(days=1) if window_start else None
    starts = day_slot_starts(start_time, end_time, slot_minutes, buffer_minutes)
    length = timedelta(minutes=slot_minutes)
    slots = []
    for day in occurrence_days(rrule, start_date, until, count, last_day, first_day):
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


def consultation_mode(modality: str, requires_assistant: bool) -> str:
    """How the consultation happens, as the person must know it before coming."""
    if modality != "remote":
        return "Sur place, en présence du professionnel"
    if requires_assistant:
        return "Téléconsultation sur place : le professionnel vous voit en vidéo, une personne vous accompagne"
    return "Téléconsultation sur place : le professionnel vous voit en vidéo depuis son cabinet"
