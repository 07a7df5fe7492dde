"""Pure rules of the statistics: small-count suppression, rates, age bands, months."""

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

SUPPRESSED = "< 5"
# A count hidden only so that a small one cannot be recomputed from it: it may be large, so it says so.
SECRET = "secret statistique"
AGE_BANDS = ("0–17 ans", "18–59 ans", "60–74 ans", "75 ans et plus", "âge inconnu")


@dataclass
class Table:
    """One table of figures, as every view shows it: the dashboard, the CSV, the API and the PDF."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    # Rows whose cells (after the label) add up to the last one, their published total.
    additive: bool = False
    # Counts of people (patients, appointments): small ones are suppressed. Counts of slots are not.
    sensitive: bool = True
    # Columns computed from the row's counts (a rate): hidden with the row's hidden counts.
    derived: tuple[int, ...] = ()
    # What a figure means, said beside it wherever the table is shown.
    note: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "columns": self.columns, "rows": self.rows}


@dataclass(frozen=True, order=True)
class Cell:
    """Where a figure stands in a release: table, row, column."""

    table: str
    row: int
    column: int


# A fact anyone can use to recompute a figure: the cells times their coefficients add up to zero
# (``{a: 1, b: 1, total: -1}`` says a + b = total).
Relation = dict[Cell, int]


def row_relations(table: Table) -> list[Relation]:
    """What an additive table says by itself: each row's cells add up to its last one."""
    if not table.additive:
        return []
    relations = []
    for r, row in enumerate(table.rows):
        counts = [c for c in range(1, len(row)) if _is_count(row[c])]
        if len(counts) >= 2 and counts[-1] == len(row) - 1:
            relation = {Cell(table.key, r, c): 1 for c in counts[:-1]}
            relation[Cell(table.key, r, counts[-1])] = -1
            relations.append(relation)
    return relations


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def suppress_release(tables: list[Table], relations: list[Relation], threshold: int,
                     keep: tuple[str, ...] = ("headline",)) -> list[Table]:
    """Hide the small counts of a whole release, and enough other cells that none can be recomputed.

    Primary suppression hides every count of people from 1 to ``threshold`` − 1 (« < 5 »). Then, as long as
    some hidden cell can be solved from what is published (each additive row, and the ``relations`` that tie
    tables together: the same total shown twice, sums across tables), a published count that the solving
    relations share with it is hidden too, as « secret statistique » (it may be large): the one in the fewest
    relations, then the smallest, the tables in ``keep`` last; a figure shown in several places is hidden in all
    of them. Derived columns
    (rates) of a row with a hidden count are hidden as well, since a rate and one count give the other back.
    """
    label = SUPPRESSED if threshold == 5 else f"< {threshold}"
    by_key = {table.key: table for table in tables}
    values = {Cell(t.key, r, c): v for t in tables for r, row in enumerate(t.rows) for c, v in enumerate(row)
              if c > 0 and _is_count(v)}
    primary = {cell for cell, value in values.items() if by_key[cell.table].sensitive and 0 < value < threshold}
    # A relation that does not hold on these figures (an appointment without a reminder channel…) gives nobody
    # a right answer: only those that hold are a reader's knowledge.
    known = [relation for relation in [*relations, *(r for table in tables for r in row_relations(table))]
             if all(cell in values for cell in relation)
             and sum(coefficient * values[cell] for cell, coefficient in relation.items()) == 0]
    # The same figure shown in several places (a = b: the bookings in the key figures, the demand and the
    # outcome) is one figure, hidden everywhere or nowhere: the search works on these classes.
    parent = {cell: cell for cell in values}

    def root(cell: Cell) -> Cell:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    sums = []
    for relation in known:
        # A published zero adds nothing: without it, « sms + 0 + 0 = came » says that two figures are one.
        relation = {cell: coefficient for cell, coefficient in relation.items() if values[cell] or cell in primary}
        if len(relation) == 2 and sorted(relation.values()) == [-1, 1]:
            first, second = sorted(root(cell) for cell in relation)
            parent[second] = first
        else:
            sums.append(relation)
    between = []
    for relation in sums:
        merged: dict[Cell, int] = {}
        for cell, coefficient in relation.items():
            merged[root(cell)] = merged.get(root(cell), 0) + coefficient
        if merged := {cell: coefficient for cell, coefficient in merged.items() if coefficient}:
            between.append(merged)
    hidden = {root(cell) for cell in primary}
    key_figures = {root(cell) for cell in values if cell.table in keep}
    complements = set()
    while (exposed := solvable(hidden, between)):
        figure = min(exposed)
        candidates = {other for relation in between if figure in relation for other in relation
                      if other not in hidden and values[other] > 0}
        if not candidates:
            break
        # The key figures last (the élus read them first), then the figure in the fewest relations (hiding it
        # exposes the least), then the smallest.
        choice = min(candidates, key=lambda other: (other in key_figures,
                                                     sum(other in relation for relation in between),
                                                     values[other], other))
        complements.add(choice)
        hidden.add(choice)
    complements = {cell for cell in values if root(cell) in complements}
    hidden = {cell for cell in values if root(cell) in hidden}
    primary = hidden - complements
    result = []
    for table in tables:
        rows = []
        for r, row in enumerate(table.rows):
            cells = list(row)
            for c in range(1, len(cells)):
                if Cell(table.key, r, c) in primary:
                    cells[c] = label
                elif Cell(table.key, r, c) in complements:
                    cells[c] = SECRET
            if any(Cell(table.key, r, c) in hidden for c in range(1, len(cells))):
                for c in table.derived:
                    cells[c] = None
            rows.append(cells)
        result.append(dataclasses.replace(table, rows=rows))
    return result


def solvable(hidden: set[Cell], relations: list[Relation]) -> set[Cell]:
    """The hidden cells that the published ones and the relations determine exactly (linear algebra over Q).

    With the published cells moved to the right-hand side, each relation is an equation in the hidden ones; a
    hidden cell is determined when its unit vector lies in the equations' row space, that is when the reduced
    row echelon form has a row with that cell alone.
    """
    unknowns = sorted({cell for relation in relations for cell in relation if cell in hidden})
    index = {cell: i for i, cell in enumerate(unknowns)}
    matrix = [[Fraction(0)] * len(unknowns) for _ in relations]
    for row, relation in zip(matrix, relations, strict=True):
        for cell, coefficient in relation.items():
            if cell in index:
                row[index[cell]] += coefficient
    matrix = [row for row in matrix if any(row)]
    pivot_row = 0
    for column in range(len(unknowns)):
        pivot = next((r for r in range(pivot_row, len(matrix)) if matrix[r][column]), None)
        if pivot is None:
            continue
        matrix[pivot_row], matrix[pivot] = matrix[pivot], matrix[pivot_row]
        lead = matrix[pivot_row][column]
        matrix[pivot_row] = [value / lead for value in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][column]:
                factor = matrix[r][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)]
        pivot_row += 1
    return {unknowns[row.index(1)] for row in matrix[:pivot_row] if sum(1 for value in row if value) == 1}


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




def format_cell(value) -> str:
    """Write a cell the French way: decimal comma, "< 5" kept, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)
