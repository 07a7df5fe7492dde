"""One scheduler at a time: the lease in the database decides."""

from datetime import UTC, datetime, timedelta

import time_machine

from booking.appointments.services import book_slot
from booking.database import unit_of_work
from booking.jobs.services import acquire_lease, release_lease
from notifications.models import Notification
from tests import builders

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def test_only_one_holder_until_the_lease_expires(session):
    assert acquire_lease(session, "a", NOW, seconds=90)
    assert not acquire_lease(session, "b", NOW + timedelta(seconds=30), seconds=90)
    assert acquire_lease(session, "a", NOW + timedelta(seconds=60), seconds=90)  # renewal
    assert not acquire_lease(session, "b", NOW + timedelta(seconds=120), seconds=90)
    assert acquire_lease(session, "b", NOW + timedelta(seconds=151), seconds=90)  # a stopped renewing
    assert not acquire_lease(session, "a", NOW + timedelta(seconds=160), seconds=90)


def test_a_released_lease_is_taken_over_at_once(session):
    assert acquire_lease(session, "a", NOW)
    release_lease(session, "a")
    assert acquire_lease(session, "b", NOW)


def test_scheduler_once_runs_the_jobs_when_it_holds_the_lease(runner, session, world):
    # In the daytime: a confirmation booked in the evening waits for the next morning (quiet hours).
    with time_machine.travel(NOW, tick=True):
        _scheduler_once_runs_the_jobs_when_it_holds_the_lease(runner, session, world)


def _scheduler_once_runs_the_jobs_when_it_holds_the_lease(runner, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a,
                              datetime.now(UTC) + timedelta(days=3))
    session.commit()
    with unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online",
                  now=datetime.now(UTC))
    acquire_lease(session, "someone-else", datetime.now(UTC))
    session.commit()
    result = runner.invoke(args=["scheduler", "--once"])
    assert "dispatch : non" in result.output
    assert session.query(Notification).filter_by(status="sent").count() == 0
    release_lease(session, "someone-else")
    result = runner.invoke(args=["scheduler", "--once"])
    assert "dispatch : fait" in result.output and "extend_slots : fait" in result.output
    session.expire_all()
    assert session.query(Notification).filter_by(status="sent").count() == 1  # the confirmation
