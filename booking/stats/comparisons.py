"""Each commune's key figures beside the medians of its EPCI, its département and France's communes of its size
(among the communes that run a site).

The figures of finished months are kept (``monthly_figures``) by the monthly job, so that a comparison reads a
few hundred rows instead of recomputing every commune. A group of fewer than five communes is not shown: a
median of two would describe the other commune.
"""

from dataclasses import dataclass
from datetime import date, datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.formatting import month_label
from booking.geo.models import Commune, epci_members
from booking.sites.models import Site
from booking.stats.models import MonthlyFigures
from booking.stats.rules import SUPPRESSED

MIN_GROUP = 5
SIZE_BANDS = ((0, 500, "moins de 500 habitants"), (500, 2000, "500 à 1 999 habitants"),
              (2000, 5000, "2 000 à 4 999 habitants"), (5000, 20000, "5 000 à 19 999 habitants"),
              (20000, 10 ** 9, "20 000 habitants et plus"))
FIGURES = (("appointments_booked", "Rendez-vous pris"), ("occupancy_rate", "Taux d’occupation (%)"),
           ("no_show_rate", "Taux d’absence (%)"), ("median_lead_days", "Délai médian (jours)"))


def size_band(population: int | None) -> tuple[int, int, str]:
    people = population or 0
    return next(band for band in SIZE_BANDS if band[0] <= people < band[1])


def communes_running_sites(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(Site.operator_commune_insee)
                                         .where(Site.operator_commune_insee.is_not(None)))))


def record_month(session: Session, year: int, month: int, now: datetime, communes: list[str] | None = None) -> int:
    """Keep the key figures of every commune that runs a site of its own (or of ``communes``), for a month.

    Only those: a member of an EPCI without a site of its own has the EPCI's figures, and counting it would
    let one EPCI's figures weigh as many times as it has members in every median (and cost one computation
    per member at national scale).
    """
    from booking.stats.services import compute

    key = f"{year:04d}-{month:02d}"
    start, end = date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)
    kept = 0
    for insee in communes if communes is not None else communes_running_sites(session):
        # Raw values: a median over communes is suppressed where shown, not before.
        figures = compute(session, insee, start, end, now, headline_only=True, threshold=1).headline
        row = session.scalar(select(MonthlyFigures).where(MonthlyFigures.commune_insee == insee,
                                                          MonthlyFigures.month == key)) \
            or MonthlyFigures(commune_insee=insee, month=key)
        row.appointments_booked = int(figures["Rendez-vous pris"] or 0)
        row.occupancy_rate, row.no_show_rate = figures["Taux d’occupation (%)"], figures["Taux d’absence (%)"]
        row.median_lead_days, row.computed_at = figures["Délai médian (jours)"], now
        session.add(row)
        kept += 1
    session.flush()
    return kept


@dataclass
class Comparison:
    label: str
    commune: object
    epci: object
    departement: object
    national: object


def _median(values: list, threshold: int, count_like: bool):
    values = [v for v in values if v is not None]
    if len(values) < MIN_GROUP:
        return None  # the template says « groupe trop petit »
    middle = median(values)
    if count_like and 0 < middle < threshold:
        return SUPPRESSED
    return round(middle, 1)


def compare(session: Session, commune: Commune, month: str, own_headline: dict,
            threshold: int = 5) -> tuple[list[Comparison], str]:
    """The commune's key figures of a month (as its dashboard shows them) beside its groups' medians."""
    low, high, band_label = size_band(commune.population)
    # Only the figures of the three groups, as plain rows: every report of a month used to load every
    # commune's figures as objects (3,000 × 3,000 at national scale).
    columns = [getattr(MonthlyFigures, attribute) for attribute, _ in FIGURES]
    people = func.coalesce(Commune.population, 0)

    def figures(*where) -> list:
        return session.execute(select(*columns).join(Commune, Commune.insee == MonthlyFigures.commune_insee)
                               .where(MonthlyFigures.month == month, *where)).all()

    own_epcis = select(epci_members.c.epci_siren).where(epci_members.c.commune_insee == commune.insee)
    groups = {
        "epci": figures(MonthlyFigures.commune_insee.in_(
            select(epci_members.c.commune_insee).where(epci_members.c.epci_siren.in_(own_epcis)))),
        "departement": figures(Commune.departement_code == commune.departement_code),
        "national": figures(people >= low, people < high),
    }
    comparisons = []
    for index, (attribute, label) in enumerate(FIGURES):
        count_like = attribute == "appointments_booked"
        comparisons.append(Comparison(label, own_headline.get(label), *[
            _median([row[index] for row in groups[name]], threshold, count_like)
            for name in ("epci", "departement", "national")]))
    return comparisons, band_label


def comparison_table(session: Session, commune: Commune, start: date, end: date, own_headline: dict,
                     threshold: int):
    """The comparisons as one more table of the statistics (so every output has them), for a whole month."""
    from booking.stats.rules import Table

    whole_month = start.day == 1 and end == date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    if not whole_month:
        return None
    month = f"{start:%Y-%m}"
    comparisons, band = compare(session, commune, month, own_headline, threshold)
    recorded = session.scalar(select(MonthlyFigures.id).where(MonthlyFigures.month == month).limit(1)) is not None
    if not recorded:
        note = (f"Pas encore de médianes pour {month_label(start.year, start.month)} : elles sont calculées "
                "chaque 1er du mois, pour le mois écoulé et les mois précédents qui n’en ont pas ; elles "
                "apparaîtront ici après le prochain calcul.")
    elif any(value is None for c in comparisons for value in (c.epci, c.departement, c.national)):
        note = (f"Case vide : moins de {MIN_GROUP} communes du groupe ont un lieu de soins et des chiffres ce "
                "mois-là ; une médiane de si peu de communes décrirait chacune d’elles, elle n’est pas montrée.")
    else:
        note = ""
    return Table("comparisons", f"Comparaisons (médianes des communes ; national : {band})",
                 ["Indicateur", "La commune", "Intercommunalité", "Département", "France, même taille"],
                 [[c.label, c.commune, c.epci, c.departement, c.national] for c in comparisons], sensitive=False,
                 note=note)
