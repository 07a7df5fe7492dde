"""Three plain sentences for the élus, written from the key figures (small counts stay hidden)."""

from datetime import date, timedelta

from booking.formatting import format_day, format_number, month_label
from booking.stats.rules import SECRET, SUPPRESSED, format_cell

BOOKINGS, OCCUPANCY, NO_SHOWS, MEDIAN_DELAY, UNMET = (
    "Rendez-vous pris", "Taux d’occupation (%)", "Taux d’absence (%)", "Délai médian (jours)",
    "Demandes non satisfaites")


def period_phrase(start: date, end: date) -> str:
    """« En octobre 2026 » for a calendar month, « Du 1er au 15 octobre 2026 » otherwise (end exclusive)."""
    last = end - timedelta(days=1)
    if start.day == 1 and (last + timedelta(days=1)).day == 1 and (start.year, start.month) == (last.year,
                                                                                                 last.month):
        return f"En {month_label(start.year, start.month)}"
    return f"Du {format_day(start, with_year=start.year != last.year)} au {format_day(last)}"


def _count(value) -> str:
    return format_number(value) if isinstance(value, int) else str(value)


def summary_sentences(headline: dict, place: str, start: date, end: date) -> list[str]:
    """Say what happened in three sentences: how much the place was used, who came, what was missing."""
    booked, occupancy = headline.get(BOOKINGS), headline.get(OCCUPANCY)
    absent, median, unmet = headline.get(NO_SHOWS), headline.get(MEDIAN_DELAY), headline.get(UNMET)
    when = period_phrase(start, end)
    if not booked:
        used = f"{when}, aucun rendez-vous n’a été pris {place}."
    elif booked == SUPPRESSED:
        used = f"{when}, moins de 5 rendez-vous ont été pris {place}."
    elif booked == SECRET:
        used = f"{when}, le nombre de rendez-vous pris {place} n’est pas publié (secret statistique)."
    else:
        used = f"{when}, {_count(booked)} rendez-vous ont été pris {place}"
        used += f", qui ont occupé {format_cell(occupancy)} % des créneaux publiés." if occupancy is not None else "."
    if absent is None:
        came = "Aucune présence n’a encore été notée pour ces rendez-vous."
    elif absent == SECRET:
        came = ("Le taux d’absence n’est pas publié : il y a eu trop peu d’absents pour qu’aucun ne puisse "
                "être reconnu (secret statistique).")
    else:
        came = f"{format_cell(absent)} % des patients attendus ne sont pas venus"
        came += (f", et il a fallu en moyenne (médiane) {format_cell(median)} jours entre la réservation et "
                 f"la consultation." if median is not None else ".")
    if not unmet:
        missing = "Aucune recherche d’habitant n’est restée sans créneau libre dans les 30 jours."
    elif unmet == SUPPRESSED:
        missing = "Moins de 5 recherches d’habitants sont restées sans créneau libre dans les 30 jours."
    else:
        missing = (f"{_count(unmet)} recherches d’habitants sont restées sans créneau libre dans les 30 jours : "
                   f"un besoin à présenter aux praticiens.")
    return [used, came, missing]
