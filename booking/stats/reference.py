"""The practitioners counted in each commune by an outside reference (an ARS or INSEE file), imported by the
administrator, so that figures say how many practitioners serve 10,000 inhabitants, beyond the platform's offer.

File format (UTF-8, a header line, ``;`` or ``,``): ``commune_insee;profession;year;count`` — for example
``15174;medecin_generaliste;2026;1``. Professions are the platform's codes (``/admin/professions``).
"""

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.errors import InvalidInput
from booking.geo.models import Commune
from booking.sites.professions import PROFESSIONS
from booking.stats.models import PractitionerCount
from booking.stats.rules import Table

COLUMNS = ["commune_insee", "profession", "year", "count"]


def import_counts(session: Session, text: str, source: str | None = None) -> int:
    """Read the file and replace the counts it gives (all or nothing); return how many lines were kept."""
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text.strip() else "a;b", delimiters=";,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), dialect))
    if not rows or [cell.strip().lower() for cell in rows[0]] != COLUMNS:
        raise InvalidInput(f"La première ligne doit être : {';'.join(COLUMNS)}.")
    known = set(session.scalars(select(Commune.insee)))
    problems, parsed = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            insee, profession, year, count = (cell.strip() for cell in row)
            year_value, count_value = int(year), int(count)
        except ValueError:
            problems.append(f"ligne {number} : quatre valeurs attendues, année et nombre entiers")
            continue
        if insee.upper() not in known:
            problems.append(f"ligne {number} : commune {insee} inconnue")
        elif profession not in PROFESSIONS:
            problems.append(f"ligne {number} : profession {profession} inconnue")
        elif not 2000 <= year_value <= 2100 or count_value < 0:
            problems.append(f"ligne {number} : année ou nombre hors des bornes")
        else:
            parsed.append((insee.upper(), profession, year_value, count_value))
    if problems:
        raise InvalidInput("Rien n’est importé : " + " ; ".join(problems[:10])
                           + (f" (et {len(problems) - 10} autres)" if len(problems) > 10 else "") + ".")
    for insee, profession, year, count in parsed:
        existing = session.scalar(select(PractitionerCount).where(
            PractitionerCount.commune_insee == insee, PractitionerCount.profession == profession,
            PractitionerCount.year == year))
        row = existing or PractitionerCount(commune_insee=insee, profession=profession, year=year)
        row.count, row.source = count, (source or "")[:200] or None
        session.add(row)
    session.flush()
    return len(parsed)


def density_table(session: Session, commune_codes: set[str]) -> Table | None:
    """Practitioners per 10,000 inhabitants, by profession and year, where a reference file gave counts."""
    rows = session.execute(
        select(PractitionerCount.profession, PractitionerCount.year, func.sum(PractitionerCount.count))
        .where(PractitionerCount.commune_insee.in_(commune_codes))
        .group_by(PractitionerCount.profession, PractitionerCount.year)
        .order_by(PractitionerCount.profession, PractitionerCount.year)).all()
    if not rows:
        return None
    population = session.scalar(select(func.sum(Commune.population)).where(Commune.insee.in_(commune_codes))) or 0
    return Table("practitioners_per_10000", "Praticiens pour 10 000 habitants (fichier de référence importé ; "
                 "population actuelle)", ["Profession", "Année", "Praticiens", "Habitants", "Pour 10 000 habitants"],
                 [[PROFESSIONS.get(profession, profession), year, int(count), population,
                   round(10000 * int(count) / population, 2) if population else None]
                  for profession, year, count in rows], sensitive=False)
