"""The PostgreSQL cursor that describes a statement's result once per connection."""

import psycopg
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.pgcursor import MAX_DESCRIBED, DescribedOnceCursor


@pytest.fixture
def raw(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the cursor is psycopg's; SQLite's driver has its own")
    connection = db.engine.raw_connection()
    yield connection.driver_connection
    connection.close()


def _described(cursor) -> list[tuple]:
    return [(column.name, column.type_code) for column in cursor.description]


def test_the_application_s_connections_use_it(raw):
    assert isinstance(raw.cursor(), DescribedOnceCursor)


def test_a_statement_is_described_as_psycopg_describes_it_and_only_once(raw):
    statement = "SELECT insee, name, %s::integer AS n FROM communes WHERE insee = %s"
    cursor = raw.cursor()
    first = cursor.execute(statement, (1, "15014")).description
    plain = psycopg.Cursor(raw).execute(statement, (1, "15014"))
    assert _described(cursor) == _described(plain) == [("insee", 1043), ("name", 1043), ("n", 23)]
    assert cursor.execute(statement, (2, "15187")).description is first

    assert _described(cursor.execute("SELECT 1 AS one, now() AS at")) == [("one", 23), ("at", 1184)]
    assert cursor.execute("UPDATE communes SET name = name WHERE false").description is None
    assert cursor.execute(statement, (3, "15014")).fetchall()[0][2] == 3


def test_a_parameter_typed_by_its_value_is_described_with_that_type(raw):
    cursor = raw.cursor()
    assert _described(cursor.execute("SELECT %s AS v", (1,))) == [("v", 21)]
    assert _described(cursor.execute("SELECT %s AS v", ("un",))) == [("v", 25)]
    assert _described(cursor.execute("SELECT %s AS v", (2,))) == [("v", 21)]


def test_what_is_not_an_execute_is_described_afresh(raw):
    cursor = raw.cursor()
    cursor.executemany("SELECT %s::text AS word", [("a",), ("b",)], returning=True)
    assert _described(cursor) == [("word", 25)]
    assert cursor.fetchall() == [("a",)]


def test_the_memory_of_one_connection_is_bounded(raw):
    cursor = raw.cursor()
    for number in range(MAX_DESCRIBED + 10):
        cursor.execute(f"SELECT {number} AS n").fetchall()
    assert 0 < len(raw.__dict__["_described"]) <= MAX_DESCRIBED
    assert cursor.execute("SELECT 7 AS n").fetchone() == (7,)


def test_the_orm_reads_through_it(app):
    rows = db.session.execute(sa.text("SELECT insee, name FROM communes ORDER BY insee LIMIT 2")).all()
    again = db.session.execute(sa.text("SELECT insee, name FROM communes ORDER BY insee LIMIT 2")).all()
    assert rows == again and rows[0]._fields == ("insee", "name")
