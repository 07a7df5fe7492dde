"""Engine settings that every connection needs, and the unit of work that every use case runs in."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import ColumnElement, Engine, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from booking.extensions import db

log = logging.getLogger(__name__)
READ_ONLY = "booking_read_only"


def _sqlite_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers work during a write.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Every transaction takes the write lock when it starts. A deferred one that
    # reads and then writes fails at once ("database is locked") when another
    # writer got in between; an immediate one waits its turn instead, so that
    # checks made inside the transaction (room conflicts, seats left) still
    # hold at commit. PostgreSQL needs none of this. A read-only session (a feed
    # streamed for minutes) begins deferred: under WAL it reads a snapshot and
    # keeps no writer waiting.
    connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def read_only_session(engine: Engine) -> Session:
    """Open a session for a long read that must never hold SQLite's write lock (on PostgreSQL, a plain one)."""
    return Session(engine.execution_options(**{READ_ONLY: True}))


def init_database(app: Flask) -> None:
    """Attach per-connection settings to the application's engine."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)


def one_of(column, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` in the list bound as ``name`` when the statement runs.

    On PostgreSQL ``= ANY(array)``: the statement's text is the same whatever the list's length, so psycopg
    prepares it and PostgreSQL plans it once per connection (planning took longer than running the search's
    statements). Elsewhere an expanding ``IN``.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


AFTER_COMMIT = "booking.after_commit"


def after_commit(session: Session, reaction: Callable[[Session], object]) -> None:
    """Run ``reaction(session)`` in its own unit of work once the current one has committed; never on rollback."""
    session.info.setdefault(AFTER_COMMIT, []).append(reaction)


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Run one use case in one transaction: commit at the end, roll back on any error, then run its reactions.

    Services only flush; the view, API handler, CLI command or job that calls them owns this boundary.
    """
    session = session if session is not None else db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        session.info.pop(AFTER_COMMIT, None)
        raise
    for reaction in session.info.pop(AFTER_COMMIT, []):
        # A reaction (offer a freed slot to the waiting list…) is a use case of its own: its failure
        # is logged and never undoes the booking or cancellation that triggered it.
        try:
            with unit_of_work(session):
                reaction(session)
        except Exception:
            log.exception("Réaction après validation en échec : %r", reaction)
