"""Small counts stay secret across a whole release: no hidden cell can be solved from what is published.

The hand-made world reproduces the three leaks found in November 2026, one month each, at Saint-Bonnet's cabin:
- January 2027: 22 came, 3 absent; the twelve-month trend repeats the month's appointments and those who came,
  so the outcome's « < 5 » absent was 25 − 22.
- February 2027: 26 bookings online, 16 at the desk, 2 by phone: the demand's total gave the phone's 2 back.
- March 2027: reminded by an automatic call, 6 came and 1 was absent; reminded by SMS, 11 came and 0 were
  absent: the reminder channels add up to the outcome's published total of those absent.

Each month's open-data release (what anyone can download) is solved as a reader would: every published number
is known, each relation a reader can know is an equation, and no hidden cell may have a single value. The
relations are written here from the meaning of the tables, not taken from the code under test.
"""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
import time_machine

from booking.stats.open_data import keyed
from booking.stats.services import compute
from tests import builders
from tests.integration.test_stats import counted  # noqa: F401  (the fixture)

PUBLISHED = datetime(2027, 4, 10, 8, 0, tzinfo=UTC)
MONTHS = {"2027-01": date(2027, 1, 1), "2027-02": date(2027, 2, 1), "2027-03": date(2027, 3, 1)}
HIDDEN = ("< 5", "secret statistique")


@pytest.fixture
def leaky_world(session, world):
    site, practitioner = world.site_a, world.practitioner_a
    later = PUBLISHED + timedelta(days=60)  # the world's own appointment: out of every month counted
    world.slot_a.starts_at, world.slot_a.ends_at = later, later + timedelta(minutes=20)
    plans = {
        date(2027, 1, 4): [("attended", "online", "sms")] * 22 + [("no_show", "online", "sms")] * 3,
        date(2027, 2, 1): ([("attended", "online", "sms")] * 26 + [("attended", "reception", "sms")] * 16
                           + [("attended", "phone", "sms")] * 2),
        date(2027, 3, 1): ([("attended", "reception", "voice")] * 6 + [("no_show", "reception", "voice")]
                           + [("attended", "online", "sms")] * 11),
    }
    number = 0
    for first_day, plan in plans.items():
        for index, (status, channel, reminder) in enumerate(plan):
            number += 1
            starts = datetime.combine(first_day + timedelta(days=index // 6), datetime.min.time(),
                                      tzinfo=UTC) + timedelta(hours=8, minutes=20 * (index % 6))
            slot = builders.make_slot(session, practitioner, site, starts)
            patient = builders.make_patient(session, first_name=f"P{number}", birth_date=date(1950, 1, 1))
            builders.make_appointment(session, slot, patient, status=status, channel=channel,
                                      reminder_channel=reminder, created_at=starts - timedelta(days=5))
    session.commit()
    return world


def _cells(release: dict) -> dict:
    """Every published number and hidden cell of a release: {(table, row, column): value}."""
    cells = {("headline", "value", figure["key"]): figure["value"] for figure in release["headline"]}
    for table in release["tables"]:
        for row in table["rows"]:
            for column, value in row["values"].items():
                cells[(table["key"], row["key"], column)] = value
    return cells


def _reader_relations(cells: dict, month_label: str, true: dict) -> list[dict]:
    """What anyone reading the tables knows: sums to a total, the same figure shown twice.

    Kept where it holds on the ``true`` figures: a reader who trusts a relation that is false here finds a wrong
    number, not a secret (and the strongest reader knows which ones hold).
    """
    relations = []

    def add(left: list, right: list):
        if all(cell in cells for cell in left + right):
            relation = {}
            for cell in left:
                relation[cell] = relation.get(cell, 0) + 1
            for cell in right:
                relation[cell] = relation.get(cell, 0) - 1
            relations.append(relation)

    by_table: dict = {}
    for table, row, column in cells:
        by_table.setdefault(table, {}).setdefault(row, []).append(column)
    for table, rows in by_table.items():  # a row with a total: its other counts add up to it
        for row, columns in rows.items():
            if columns[-1] == "total" and table != "headline":
                add([(table, row, column) for column in columns[:-1]], [(table, row, "total")])
    demand = [key for key in by_table.get("demand", {}) if key.startswith("reservations_")
              and key != "reservations_total"]
    total = ("demand", "reservations_total", "nombre")
    add([("demand", key, "nombre") for key in demand], [total])
    add([("headline", "value", "appointments_booked")], [total])
    add([("outcome", "nombre", "total")], [total])
    add([("age", "patients", "total")], [("loyalty", "patients", "total")])
    add([("residence", key, "patients") for key in by_table.get("residence", {})], [("age", "patients", "total")])
    for key in by_table.get("trend", {}):  # every appointment of a past month came or did not, most often
        add([("trend", key, "rendez_vous")], [("trend", key, "venus"), ("trend", key, "absents")])
    for column in ("venus", "absents"):
        add([("reminder_channels", key, column) for key in by_table.get("reminder_channels", {})],
            [("outcome", "nombre", column)])
        add([("reminders", key, column) for key in by_table.get("reminders", {})], [("outcome", "nombre", column)])
        add([("trend", month_label, column)], [("outcome", "nombre", column)])
    add([("trend", month_label, "rendez_vous")],
        [("outcome", "nombre", name) for name in ("venus", "absents", "non_renseignes", "a_venir")])
    return [relation for relation in relations
            if sum(coefficient * true[cell] for cell, coefficient in relation.items()) == 0]


def _release(client, session, month: str) -> tuple[dict, dict]:
    """The published release of a month (what anyone downloads) and the true figures behind it."""
    with time_machine.travel(PUBLISHED, tick=False):
        release = client.get(f"/donnees-ouvertes/communes/15174/{month}.json").get_json()
    start = date.fromisoformat(f"{month}-01")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    true = keyed(compute(session, "15174", start, end, PUBLISHED, threshold=1))  # nothing is small under 1
    return _cells(release), _cells(true)


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [list(row) for row in rows]
    rank = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(rank + 1, len(rows)):
            factor = rows[r][column] / rows[rank][column]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=False)]
        rank += 1
    return rank


def _solved(cells: dict, relations: list[dict]) -> list:
    """The hidden cells that the published ones and the relations pin to a single value."""
    hidden = sorted(cell for cell, value in cells.items() if value in HIDDEN)
    index = {cell: i for i, cell in enumerate(hidden)}
    matrix = [[Fraction(relation.get(cell, 0)) for cell in hidden] for relation in relations
              if any(cell in index for cell in relation)]
    base = _rank(matrix)
    return [cell for cell in hidden if _rank(matrix + [[Fraction(int(other == cell)) for other in hidden]]) == base]


@pytest.mark.parametrize("month", MONTHS)
def test_no_hidden_cell_of_a_release_can_be_solved(client, session, leaky_world, month):
    label = {"2027-01": "janvier_2027", "2027-02": "fevrier_2027", "2027-03": "mars_2027"}[month]
    cells, true = _release(client, session, month)
    assert any(value in HIDDEN for value in cells.values()), "each month has a small count to keep secret"
    assert _solved(cells, _reader_relations(cells, label, true)) == []
    # A rate beside a hidden count would give it back: none is published.
    for (table, row, column), value in cells.items():
        if column.startswith("taux") and table in ("reminders", "reminder_channels") and value is not None:
            assert cells[(table, row, "absents")] not in HIDDEN and cells[(table, row, "venus")] not in HIDDEN
    if cells[("outcome", "nombre", "absents")] in HIDDEN or cells[("outcome", "nombre", "venus")] in HIDDEN:
        assert cells[("headline", "value", "no_show_rate")] == "secret statistique"


@pytest.mark.parametrize("month", MONTHS)
def test_a_cell_hidden_to_protect_another_says_secret_not_small(session, leaky_world, month):
    start = MONTHS[month]
    end = date(start.year, start.month + 1, 1)
    published = compute(session, "15174", start, end, PUBLISHED)
    raw = compute(session, "15174", start, end, PUBLISHED, threshold=1)  # nothing is small under 1
    for shown, true in zip(published.tables, raw.tables, strict=False):
        for shown_row, true_row in zip(shown.rows, true.rows, strict=False):
            for value, count in zip(shown_row[1:], true_row[1:], strict=False):
                if value == "< 5":
                    assert 0 < count < 5, (shown.key, shown_row[0], count)
                if value == "secret statistique":
                    assert count >= 5, (shown.key, shown_row[0], count)


def test_the_dashboard_says_why_a_rate_is_not_published(client, auth, session, leaky_world):
    with time_machine.travel(PUBLISHED, tick=False):
        auth.login(leaky_world.commune_admin_a.email)
        page = client.get("/gestion/communes/15174/statistiques", query_string={"du": "2027-01-01",
                                                                               "au": "2027-01-31"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Le taux d’absence n’est pas publié" in text
    assert "secret statistique" in text and "Aucune présence n’a encore été notée" not in text


def test_the_hand_counted_world_of_the_statistics_tests_keeps_its_secrets_too(client, session, counted):  # noqa: F811
    cells, true = _release(client, session, "2027-03")
    assert cells[("demand", "reservations_par_telephone", "nombre")] == "< 5"
    assert _solved(cells, _reader_relations(cells, "mars_2027", true)) == []
