"""Engine settings that every connection needs."""

from flask import Flask
from sqlalchemy import event

from booking.extensions import db


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
    # hold at commit. PostgreSQL needs none of this.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_database(app: Flask) -> None:
    """Attach per-connection settings to the application's engine."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
