"""Where communes are: the import of their positions (a point inside each, WGS 84), area and 2015 population."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from booking.errors import InvalidInput
from booking.geo.models import Commune

SHIPPED_POSITIONS = Path(__file__).parent / "data" / "communes-positions.csv"
COLUMNS = ("insee", "latitude", "longitude", "area_km2", "population_2015", "population_2021")
MAX_ERRORS_SAID = 20


@dataclass
class PositionsReport:
    updated: int
    unknown: list[str]  # INSEE codes of the file that name no commune of the reference data
    without_position: int  # communes the file does not place (said so wherever a distance would be shown)


def _number(text: str, kind, low: float, high: float):
    value = kind(text)
    if not low <= value <= high:
        raise ValueError(f"{text} hors de [{low}, {high}]")
    return value


def _read(text: str) -> dict[str, dict]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or tuple(name.strip() for name in reader.fieldnames)[:3] != COLUMNS[:3]:
        raise InvalidInput(f"En-tête attendu : {','.join(COLUMNS)}.")
    rows, errors = {}, []
    for line, row in enumerate(reader, start=2):
        insee = (row.get("insee") or "").strip().upper()
        try:
            if len(insee) != 5 or not insee.replace("A", "0").replace("B", "0").isdigit():
                raise ValueError(f"code INSEE « {insee} »")
            if insee in rows:
                raise ValueError(f"{insee} déjà donné plus haut")
            rows[insee] = {
                "latitude": _number(row["latitude"], float, -90, 90),
                "longitude": _number(row["longitude"], float, -180, 180),
                "area_km2": _number(row["area_km2"], float, 0, 20000) if (row.get("area_km2") or "").strip()
                else None,
                "population_2015": _number(row["population_2015"], int, 0, 5_000_000)
                if (row.get("population_2015") or "").strip() else None,
                "population_2021": _number(row["population_2021"], int, 0, 5_000_000)
                if (row.get("population_2021") or "").strip() else None,
            }
        except (ValueError, KeyError, TypeError) as error:
            errors.append(f"ligne {line} : {error}")
    if errors:
        more = f" (et {len(errors) - MAX_ERRORS_SAID} autres)" if len(errors) > MAX_ERRORS_SAID else ""
        raise InvalidInput("Fichier refusé, rien n’est importé : " + " ; ".join(errors[:MAX_ERRORS_SAID]) + more)
    return rows


def import_positions(session: Session, path: Path) -> PositionsReport:
    """All or nothing: a file with a bad line changes nothing and names its bad lines."""
    rows = _read(path.read_text(encoding="utf-8-sig"))
    known = set(session.scalars(select(Commune.insee)))
    found = [{"key": insee, **values} for insee, values in rows.items() if insee in known]
    if found:
        table = Commune.__table__
        session.execute(update(table).where(table.c.insee == bindparam("key")).values(
            latitude=bindparam("latitude"), longitude=bindparam("longitude"), area_km2=bindparam("area_km2"),
            population_2015=bindparam("population_2015"), population_2021=bindparam("population_2021"))
            .execution_options(synchronize_session=False), found)
    without = len(known) - len(found)
    return PositionsReport(len(found), sorted(set(rows) - known), without)


def count_placed(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Commune).where(Commune.latitude.is_not(None)))
