"""The migrations build the whole schema, and the database itself refuses bad rows."""

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from booking.auth.models import User
from booking.extensions import db
from booking.models import ALL_METADATA
from tests import builders


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, ALL_METADATA)
    assert differences == []


def test_unknown_role_is_refused_by_the_database(session):
    session.add(User(email="x@example.test", password_hash="x", role="superuser"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_user_needs_an_email_or_a_phone(session):
    session.add(User(password_hash="x", role="resident"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_site_has_exactly_one_operator(session):
    with pytest.raises(IntegrityError):
        builders.make_site(session, operator_epci_siren=builders.EPCI_A, operator_commune_insee=builders.COMMUNE_A)
    session.rollback()


def test_a_slot_cannot_hold_more_bookings_than_its_capacity(session, world):
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE slots SET booked_count = 2 WHERE id = :id"), {"id": world.slot_a.id})
    session.rollback()


def test_two_active_appointments_cannot_hold_the_same_seat(session, world):
    other = builders.make_patient(session, first_name="Paul")
    with pytest.raises(IntegrityError):
        builders.make_appointment(session, world.slot_a, other, seat=1)
    session.rollback()


def test_a_cancelled_appointment_frees_its_seat_for_the_database(session, world):
    world.appointment_a.status = "cancelled"
    world.slot_a.booked_count = 0
    session.flush()
    other = builders.make_patient(session, first_name="Paul")
    builders.make_appointment(session, world.slot_a, other, seat=1)
    session.commit()


def test_slots_are_unique_per_practitioner_and_start(session, world):
    with pytest.raises(IntegrityError):
        builders.make_slot(session, world.practitioner_a, world.site_a, world.slot_a.starts_at)
    session.rollback()


def test_unknown_profession_is_refused_by_the_database(session):
    with pytest.raises(IntegrityError):
        builders.make_practitioner(session, profession="sorcier")
    session.rollback()


def test_datetimes_come_back_aware_in_utc(session, world, now):
    session.expire_all()
    slot = session.get(type(world.slot_a), world.slot_a.id)
    assert slot.starts_at == now + timedelta(days=2)
    assert slot.starts_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session, world):
    world.slot_a.starts_at = world.slot_a.starts_at.replace(tzinfo=None)
    with pytest.raises(Exception, match="naive"):
        session.flush()
    session.rollback()


def test_upgrade_from_nothing_downgrade_and_upgrade_again(database_url, tmp_path):
    """Build the schema with the real commands on a database of each backend that starts empty."""
    import sqlalchemy as sa

    from tests.conftest import _create_postgres_database, _drop_postgres_database, make_app

    if database_url.startswith("sqlite"):
        name, url = None, f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        name, url = _create_postgres_database()
    try:
        app = make_app(url)
        runner = app.test_cli_runner()
        for command in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
            result = runner.invoke(args=command)
            assert result.exit_code == 0, result.output
        with app.app_context():
            tables = set(sa.inspect(db.engine).get_table_names())
            db.engine.dispose()
        assert {"communes", "sites", "slots", "appointments", "notifications", "users"} <= tables
    finally:
        if name:
            _drop_postgres_database(name)
