"""Pure rules of the statistics: small-count suppression, rates, age bands, months."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SUPPRESSED = "< 5"
AGE_BANDS = ("0–17 ans", "18–59 ans", "60–74 ans", "75 ans et plus", "âge inconnu")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


@dataclass
class Table:
    """One table of figures, as every view shows it: the dashboard, the CSV, the API and the PDF."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    # Rows whose cells (after the label) add up to a published total: a second cell is
    # suppressed when one is, so that no suppressed count can be recovered by subtraction.
    additive: bool = False
    # Counts of people (patients, appointments): small ones are suppressed. Counts of slots are not.
    sensitive: bool = True

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "columns": self.columns, "rows": self.rows}


def suppress_table(table: Table, threshold: int) -> Table:
    """Replace counts from 1 to threshold − 1 by "< 5" (primary and, for additive rows, secondary suppression)."""
    if not table.sensitive:
        return table
    label = SUPPRESSED if threshold == 5 else f"< {threshold}"
    rows = []
    for row in table.rows:
        cells = list(row)
        counts = [(i, v) for i, v in enumerate(cells) if i > 0 and isinstance(v, int) and not isinstance(v, bool)]
        hidden = {i for i, v in counts if 0 < v < threshold}
        if table.additive and len(hidden) == 1:
            others = sorted((v, i) for i, v in counts if i not in hidden and v > 0 and i != len(cells) - 1)
            if others:
                hidden.add(others[0][1])
            else:
                hidden.add(len(cells) - 1)  # the total itself would give the hidden cell away
        for i in hidden:
            cells[i] = label
        rows.append(cells)
    return Table(table.key, table.title, table.columns, rows, table.additive, table.sensitive)


def rate(numerator: int, denominator: int, threshold: int) -> float | None:
    """Return a percentage rounded to one decimal, or None when it would reveal a small count."""
    if denominator < max(threshold, 1) or 0 < numerator < threshold or 0 < denominator - numerator < threshold:
        return None
    return round(100 * numerator / denominator, 1)


def nearest_rank(n: int, percent: int) -> int:
    """Return the 1-based rank of a percentile by the nearest-rank method."""
    return max(1, (n * percent + 99) // 100)


def age_band_limits(reference: date) -> list[date]:
    """Return the birth dates that separate the age bands at a reference date (18, 60 and 75 years)."""
    def years_before(years: int) -> date:
        try:
            return reference.replace(year=reference.year - years)
        except ValueError:  # 29 February
            return reference.replace(year=reference.year - years, day=28)

    return [years_before(18), years_before(60), years_before(75)]


def month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants where a local calendar month starts and ends."""
    tz = ZoneInfo(zone)
    start = datetime.combine(date(year, month, 1), time(), tzinfo=tz)
    end = datetime.combine(date(year + (month == 12), month % 12 + 1, 1), time(), tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def previous_months(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """Return ``count`` months ending with (year, month), oldest first."""
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))


def month_label(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


def format_cell(value) -> str:
    """Write a cell the French way: decimal comma, "< 5" kept, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)
