"""The few ORM shortcuts the booking path takes for speed, each behind a name that says what it does.

A booking is one conditional UPDATE (take a seat), one INSERT (the appointment) and the messages it plans. The
ORM's general machinery around those two statements cost more than the statements themselves (the bench's
booking figures in docs/benchmarks.md), so the use case calls these instead; what they skip is said in each.
Nothing here knows a feature: models and statements are passed in.
"""

from functools import cache

from sqlalchemy import Table
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from notifications.sqltypes import dialect_insert


def execute_core(session: Session, statement, parameters: dict):
    """Run a Core statement on the session's connection and transaction.

    Through ``session.execute`` the ORM copies an UPDATE at every call (and keys it again for its cache) to
    keep loaded objects in step; ``tell_loaded`` does that part for less.
    """
    return session.connection().execute(statement, parameters)


def tell_loaded(session: Session, model, key, **committed) -> None:
    """Give an object already loaded in the session the values a statement just wrote, without reading the row
    again (and without marking them as changes to flush)."""
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        for name, value in committed.items():
            set_committed_value(loaded, name, value)


def forget_loaded(session: Session, model, key) -> None:
    """Let an object already loaded be read again after a statement changed its row behind the ORM's back."""
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)


def add_as_inserted(session: Session, obj) -> None:
    """Put in the session an object whose row a statement has just inserted, as persistent, without a SELECT."""
    make_transient_to_detached(obj)
    session.add(obj)


@cache
def insert_unless_taken(dialect: str, table: Table, unique_column: str):
    """INSERT … ON CONFLICT (unique_column) DO NOTHING RETURNING id, built once per dialect: no row back means
    the unique value was taken, and the caller draws another."""
    return (dialect_insert(dialect)(table).on_conflict_do_nothing(index_elements=[unique_column])
            .returning(table.c.id))
