"""The migrations build the whole schema, and the database itself refuses bad rows."""

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from booking.auth.models import User
from booking.extensions import db
from booking.models import ALL_METADATA, compared_with_models
from tests import builders


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_object": compared_with_models})
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
    again = builders.make_appointment(session, world.slot_a, other, seat=1)
    session.commit()
    seats = session.execute(text("SELECT id, status FROM appointments WHERE slot_id = :slot AND seat = 1 ORDER BY id"),
                            {"slot": world.slot_a.id}).all()
    assert [(row.id, row.status) for row in seats] == [(world.appointment_a.id, "cancelled"), (again.id, "booked")]


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


def test_upgrade_keeps_existing_data(database_url, tmp_path):
    """Upgrading a database that already holds sites, slots and appointments works and keeps them."""
    import sqlalchemy as sa

    from tests.conftest import GEO_FIXTURE, _create_postgres_database, _drop_postgres_database, make_app

    if database_url.startswith("sqlite"):
        name, url = None, f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        name, url = _create_postgres_database()
    try:
        app = make_app(url)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade", "db47c3951e01"]).exit_code == 0
        assert runner.invoke(args=["geo", "import", str(GEO_FIXTURE)]).exit_code == 0
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO sites (id, kind, name, address, postal_code, commune_insee, operator_commune_insee,"
                    " time_zone, equipment, accessibility, booking_open, drop_in_only, max_future_bookings,"
                    " reminder_hours_before, created_at) VALUES (1, 'teleconsultation', 'Cabine', 'Mairie', '15140',"
                    " '15174', '15174', 'Europe/Paris', '[]', '[]', true, false, 2, 24, '2027-01-01 00:00:00')"))
                connection.execute(sa.text(
                    "INSERT INTO practitioners (id, first_name, last_name, profession, consults_remotely, created_at)"
                    " VALUES (1, 'Hélène', 'Vidal', 'medecin_generaliste', false, '2027-01-01 00:00:00')"))
                connection.execute(sa.text(
                    "INSERT INTO slots (id, practitioner_id, site_id, starts_at, ends_at, modality, capacity,"
                    " booked_count, status, created_at) VALUES (1, 1, 1, '2027-03-02 08:00:00',"
                    " '2027-03-02 08:20:00', 'on_site', 1, 0, 'open', '2027-01-01 00:00:00')"))
            db.engine.dispose()
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            with db.engine.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM slots")).scalar() == 1
                assert connection.execute(sa.text("SELECT second_reminder_hours FROM sites")).scalar() == 2
            db.engine.dispose()
    finally:
        if name:
            _drop_postgres_database(name)
