"""The booking service lets the database decide who gets the last seat."""

from datetime import timedelta

import pytest

from booking.appointments.services import SlotUnavailable, book_slot
from booking.database import unit_of_work
from booking.errors import Conflict
from booking.slots.models import Slot
from tests import builders


def test_the_last_seat_goes_to_one_patient_only(session, world, now):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, now + timedelta(days=3))
    other = builders.make_patient(session, first_name="Paul")
    session.commit()
    with unit_of_work(session):
        first = book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=now)
    assert first.reference[3] == "-" and len(first.reference) == 7
    with pytest.raises(SlotUnavailable), unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=other.id, channel="online", now=now)
    session.expire_all()
    assert session.get(Slot, slot.id).booked_count == 1


def test_seats_of_a_shared_slot_are_reused_after_a_cancellation(session, world, now):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, now + timedelta(days=3), capacity=2)
    patients = [builders.make_patient(session, first_name=name) for name in ("Paul", "Zoé", "Inès")]
    session.commit()
    with unit_of_work(session):
        first = book_slot(session, slot_id=slot.id, patient_id=patients[0].id, channel="reception", now=now)
    with unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=patients[1].id, channel="reception", now=now)
    first.status = "cancelled"
    session.get(Slot, slot.id).booked_count = 1
    session.commit()
    with unit_of_work(session):
        third = book_slot(session, slot_id=slot.id, patient_id=patients[2].id, channel="reception", now=now)
    assert third.seat == 1


def test_a_patient_cannot_hold_the_same_slot_twice(session, world, now):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, now + timedelta(days=3), capacity=3)
    session.commit()
    with unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=now)
    with pytest.raises(Conflict), unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=now)


def test_past_and_blocked_slots_cannot_be_booked(session, world, now):
    past = builders.make_slot(session, world.practitioner_a, world.site_a, now - timedelta(hours=1))
    blocked = builders.make_slot(session, world.practitioner_a, world.site_a, now + timedelta(days=5),
                                 status="blocked")
    session.commit()
    for slot in (past, blocked):
        with pytest.raises(SlotUnavailable), unit_of_work(session):
            book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=now)
