"""Fixtures: every database test runs on SQLite and on PostgreSQL, schema built by the migrations."""

import os
import secrets
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("SMS_BACKEND", "log")

from booking import create_app  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.models import ALL_METADATA  # noqa: E402
from tests import builders  # noqa: E402

GEO_FIXTURE = Path(__file__).parent / "fixtures" / "geo"
GEO_TABLES = {"regions", "departements", "communes", "postal_codes", "former_communes", "epcis", "epci_members"}
SEEDED_TABLES = {"professions"}  # reference data a migration loads: kept between tests
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] if os.environ.get("TEST_SKIP_POSTGRES") == "1" else ["sqlite", "postgresql"]
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def statements_run(engine):
    """The SQL statements ``engine`` runs inside the block (transaction control left out)."""
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _create_postgres_database() -> tuple[str, str]:
    name = f"booking_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(name: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        "PUBLIC_BASE_URL": "http://localhost",
    }
    config.update(overrides)
    app = create_app(config)

    @app.before_request
    def forget_previous_request_user():
        # Tests keep one app context open across requests, so ``g`` outlives a
        # request as it never does in production; start each request afresh.
        from flask import g

        g.pop("_login_user", None)
        g.pop("api_user", None)

    return app


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """Yield a fresh database of each backend, migrated to head with the geo fixture loaded."""
    from flask_migrate import upgrade

    from booking.geo.services import import_reference_data

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        name = None
    else:
        name, url = _create_postgres_database()
    app = make_app(url)
    with app.app_context():
        upgrade()
        import_reference_data(db.session, GEO_FIXTURE)
        place_communes()
        db.engine.dispose()
    yield url
    if name:
        _drop_postgres_database(name)


def _empty_tables(keep_geo: bool) -> None:
    tables = [t for metadata in ALL_METADATA for t in metadata.sorted_tables if t.name not in SEEDED_TABLES]
    if keep_geo:
        tables = [t for t in tables if t.name not in GEO_TABLES]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture
def app(request, database_url):
    """An application on a clean database (reference data kept).

    Marked ``twilio``, it sends SMS through the real twilio client to the local stub; marked ``smtp``, e-mail
    through a real SMTP server (``smtp_server``).
    """
    overrides = {}
    if request.node.get_closest_marker("twilio"):
        stub = request.getfixturevalue("twilio_stub")
        overrides = dict(SMS_BACKEND="twilio", TWILIO_API_BASE_URL=stub.url, **TWILIO)
    if request.node.get_closest_marker("smtp"):
        server = request.getfixturevalue("smtp_server")
        overrides.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port,
                         MAIL_SENDER="Rendez-vous santé <rdv@mairie.example>")
    app = make_app(database_url, **overrides)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables(keep_geo=True)
        db.engine.dispose()


@pytest.fixture
def restore_geo(app):
    """Reload the geo fixture after a test that changes reference data."""
    from booking.geo.services import import_reference_data

    yield
    db.session.rollback()
    _empty_tables(keep_geo=False)
    import_reference_data(db.session, GEO_FIXTURE)
    place_communes()


def place_communes() -> None:
    """The test world's communes where they are (the extract of the shipped positions: Cantal, Corsica, overseas)."""
    from booking.database import unit_of_work
    from booking.geo.positions import import_positions

    with unit_of_work(db.session):
        import_positions(db.session, GEO_FIXTURE / "centroids.csv")


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def world(app):
    """Two communes, each with a site, staff of every role, patients and appointments.

    Built on the world's own calendar, the day before NOW (rows' creation and change times included), whatever
    day the suite runs.
    """
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        return builders.make_world(db.session, NOW)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, login: str, password: str = builders.PASSWORD):
        return self._client.post("/connexion", data={"login": login, "password": password})

    def logout(self):
        return self._client.post("/deconnexion")


@pytest.fixture
def auth(client):
    return AuthActions(client)


TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "stub-auth-token",
          "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32, "TWILIO_VOICE_FROM": "+33471000000"}


@pytest.fixture
def twilio_stub():
    from tests.twilio_stub import TwilioStub

    stub = TwilioStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def twilio_app(app):
    return app


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives.

    ``refused``: addresses it refuses for good (550); ``drop_data``: it cuts the connection in the middle of a
    message; ``data_delay``: it keeps a message but waits that many seconds before saying 250.
    """
    import asyncio

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Keep(Message):
        def __init__(self):
            super().__init__()
            self.messages, self.refused, self.drop_data, self.data_delay = [], set(), False, 0

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in self.refused:
                return "550 5.1.1 Boîte aux lettres inconnue"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if self.drop_data:
                server.transport.close()
                return "421 4.3.0 Arrêt du serveur"
            answer = await super().handle_DATA(server, session, envelope)
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            return answer

        def prepare_message(self, session, envelope):
            import email
            import email.policy

            return email.message_from_bytes(envelope.content, policy=email.policy.default)  # headers decoded

        def handle_message(self, message):
            self.messages.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.messages = handler.messages
    controller.refused = handler.refused
    yield controller
    controller.stop()
