"""French formatting of dates, times and numbers for pages and messages."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from booking.clock import DEFAULT_TIME_ZONE

LOCALE = "fr_FR"
WEEKDAY_LABELS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
WEEKDAY_ABBREVIATIONS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")  # an SMS counts its characters
MONTH_LABELS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                "novembre", "décembre")


def month_label(year: int, month: int) -> str:
    """« mars 2027 »."""
    return f"{MONTH_LABELS[month - 1]} {year}"


def local_time(moment: datetime, time_zone: str) -> datetime:
    """Return an aware UTC instant in a site's local time."""
    return moment.astimezone(ZoneInfo(time_zone))


def format_hour(moment: datetime) -> str:
    """Format a time the French way: 9 h 30, 14 h."""
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def _first_of_month(day: date | datetime, pattern: str) -> str:
    # French writes the first day of a month as an ordinal: « 1er décembre », never « 1 décembre ».
    return pattern.replace("d MMMM", "d'er' MMMM") if day.day == 1 else pattern


def format_day(day: date | datetime, with_year: bool = True) -> str:
    """Format a day as "mardi 3 mars 2027" ("mardi 1er décembre")."""
    return _format_day(day if type(day) is date else date(day.year, day.month, day.day), with_year)


@lru_cache(maxsize=4096)
def _format_day(day: date, with_year: bool) -> str:
    # Babel reads its locale data on every call: a search page names the same few days dozens of times.
    pattern = "EEEE d MMMM y" if with_year else "EEEE d MMMM"
    return format_date(day, _first_of_month(day, pattern), locale=LOCALE)


def format_birth_date(day: date) -> str:
    """Format a birth date without its weekday: "2 mai 1944", "1er mai 1944"."""
    return format_date(day, _first_of_month(day, "d MMMM y"), locale=LOCALE)


def format_moment(moment: datetime, time_zone: str, with_year: bool = False) -> str:
    """Format an instant in a site's time zone as "mardi 3 mars à 9 h 30"."""
    local = local_time(moment, time_zone)
    return f"{format_day(local, with_year)} à {format_hour(local)}"


def format_days(days: int) -> str:
    """Say a retention period as people do: « 30 jours », « 1 an », « 3 ans »."""
    years, rest = divmod(days, 365)
    if years and rest <= years:  # 3 × 365 + a leap day is still « 3 ans »
        return f"{years} an{'s' if years > 1 else ''}"
    return f"{days} jour{'s' if days > 1 else ''}"


def format_number(value: int) -> str:
    """Format an integer with French thousands separators (narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f")


def format_timestamp(moment: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    """Format an instant as a short French date and time ("03/03/2027 09:30")."""
    return format_datetime(local_time(moment, time_zone), "dd/MM/y HH:mm", locale=LOCALE)


SITE_KIND_LABELS = {
    "teleconsultation": "Point de téléconsultation",
    "consultation_avancee": "Consultation avancée",
    "permanence": "Permanence",
}

ROLE_LABELS = {
    "resident": "Usager",
    "agent": "Agent d’accueil",
    "practitioner": "Praticien",
    "commune_admin": "Référent santé de la commune",
    "epci_admin": "Administrateur de l’intercommunalité",
    "departement_viewer": "Observateur du département",
    "admin": "Administrateur",
}


def signed_in_as(display_name: str | None, role: str) -> str:
    """Who is signed in, as the header says it: the role only when the name does not already say it."""
    label = ROLE_LABELS.get(role, role)
    if not display_name:
        return label
    first_word = label.split()[0].casefold()
    if display_name.split()[0].casefold().startswith(first_word):  # « Référente santé », not « … · Référent santé »
        return display_name
    return f"{display_name} · {label}"


PAGE_PAST_DAYS = 20 * 366    # statistics and history go back years, not centuries
PAGE_FUTURE_DAYS = 3 * 366   # nothing is published more than two years ahead


def day_param(text: str | None, today: date) -> date | None:
    """Read a day from a URL parameter (YYYY-MM-DD); None when unreadable or beyond what any page shows."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    if not today - timedelta(days=PAGE_PAST_DAYS) <= day <= today + timedelta(days=PAGE_FUTURE_DAYS):
        return None
    return day
