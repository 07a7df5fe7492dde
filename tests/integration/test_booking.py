"""Booking use cases: races, limits, windows, reschedule, attendance, patients, waiting list."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from booking.appointments.models import Appointment
from booking.appointments.services import (
    BookingLimitReached,
    SlotUnavailable,
    book,
    book_slot,
    cancel_appointment,
    check_in,
    mark_attendance,
    reschedule,
)
from booking.database import unit_of_work
from booking.errors import Conflict, Forbidden, InvalidInput, NotFound
from booking.extensions import db
from booking.patients.services import PatientInput, create_patient, find_patients
from booking.slots.models import Slot
from booking.waitlist.models import WaitlistEntry
from booking.waitlist.services import accept_offer, expire_offers, join_waitlist, offer_token
from notifications.models import Notification
from tests import builders

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def _slot(session, world, days=3, **overrides):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=days), **overrides)
    session.commit()
    return slot


@pytest.mark.parametrize("capacity", [1, 3])
def test_fifty_concurrent_bookings_of_one_slot(app, session, world, capacity):
    slot = _slot(session, world, capacity=capacity)
    patient_ids = [builders.make_patient(session, first_name=f"P{i}", phone=None, phone_kind=None).id
                   for i in range(50)]
    slot_id = slot.id
    session.commit()
    db.session.remove()  # let the threads have the database
    start = threading.Barrier(50)
    outcomes = []

    def attempt(patient_id):
        with app.app_context():
            start.wait()
            try:
                with unit_of_work(db.session):
                    book_slot(db.session, slot_id=slot_id, patient_id=patient_id, channel="online", now=NOW)
                outcomes.append("booked")
            except SlotUnavailable:
                outcomes.append("refused")
            except Exception as error:  # pragma: no cover - reported by the assertion
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(pid,)) for pid in patient_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(outcomes)) == ["booked", "refused"]
    assert outcomes.count("booked") == capacity and outcomes.count("refused") == 50 - capacity
    assert db.session.get(Slot, slot_id).booked_count == capacity
    active = db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.slot_id == slot_id, Appointment.status == "booked"))
    assert active == capacity


def test_a_resident_books_for_a_relative_within_the_limits(session, world):
    father = builders.make_patient(session, first_name="Marcel", account_id=world.resident_a.id,
                                   relationship_label="père")
    world.site_a.max_future_bookings = 2
    slots = [_slot(session, world, days=d) for d in (3, 4, 5)]
    with unit_of_work(session):
        first = book(session, world.resident_a, slot_id=slots[0].id, patient_id=father.id, now=NOW, reason="contrôle")
    assert first.appointment.channel == "online" and first.sms
    with unit_of_work(session):
        book(session, world.resident_a, slot_id=slots[1].id, patient_id=father.id, now=NOW)
    with pytest.raises(BookingLimitReached, match="maximum"), unit_of_work(session):
        book(session, world.resident_a, slot_id=slots[2].id, patient_id=father.id, now=NOW)
    with pytest.raises(NotFound), unit_of_work(session):
        book(session, world.resident_b, slot_id=slots[2].id, patient_id=father.id, now=NOW)


def test_booking_window_is_enforced(session, world):
    closed = _slot(session, world, days=1, closes_at=NOW - timedelta(minutes=1))
    early = _slot(session, world, days=80, opens_at=NOW + timedelta(days=20))
    for slot, message in ((closed, "close"), (early, "pas encore ouvert")):
        with pytest.raises(SlotUnavailable, match=message), unit_of_work(session):
            book(session, world.resident_a, slot_id=slot.id, patient_id=world.patient_a.id, now=NOW)


def test_agents_book_with_consent_only_at_their_sites(session, world):
    slot_a, slot_b = _slot(session, world), builders.make_slot(session, world.practitioner_b, world.site_b,
                                                               NOW + timedelta(days=3))
    session.commit()
    with pytest.raises(InvalidInput, match="accord"), unit_of_work(session):
        book(session, world.agent_a, slot_id=slot_a.id, patient_id=world.patient_a.id, now=NOW)
    with unit_of_work(session):
        booked = book(session, world.agent_a, slot_id=slot_a.id, patient_id=world.patient_a.id, now=NOW, consent=True)
    assert booked.appointment.channel == "reception" and booked.appointment.booked_by_id == world.agent_a.id
    with pytest.raises(NotFound), unit_of_work(session):
        book(session, world.agent_a, slot_id=slot_b.id, patient_id=world.patient_a.id, now=NOW, consent=True)
    with pytest.raises(NotFound), unit_of_work(session):
        book(session, world.agent_b, slot_id=slot_a.id, patient_id=world.patient_a.id, now=NOW, consent=True)


def test_a_booking_leaves_nothing_for_the_unit_of_work_to_compare(session, world):
    """Every statement flushes the session first: an object marked changed, even to the value it holds, made
    SQLAlchemy compare the whole session at each of the booking's statements (12 % of an API booking)."""
    slot = _slot(session, world)
    session.commit()
    flushed = []

    def record(flushing, _context, _instances):
        flushed.extend(flushing.dirty | flushing.new)

    event.listen(session, "before_flush", record)
    try:
        with unit_of_work(session):
            booked = book(session, world.resident_a, slot_id=slot.id, patient_id=world.patient_a.id, now=NOW)
    finally:
        event.remove(session, "before_flush", record)
    assert flushed == [] and booked.appointment.reminder_channel == "sms"


def test_late_cancellation_is_flagged(session, world):
    world.site_a.max_future_bookings = 5
    early = _slot(session, world, days=3)
    late = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(hours=5))
    session.commit()
    with unit_of_work(session):
        a = book(session, world.resident_a, slot_id=early.id, patient_id=world.patient_a.id, now=NOW).appointment
    with unit_of_work(session):
        b = book(session, world.resident_a, slot_id=late.id, patient_id=world.patient_a.id, now=NOW).appointment
    with unit_of_work(session):
        assert not cancel_appointment(session, world.resident_a, a.id, "other", NOW).cancelled_late
    with unit_of_work(session):
        assert cancel_appointment(session, world.resident_a, b.id, "patient", NOW).cancelled_late
    assert session.get(Appointment, a.id).cancel_reason == "patient"  # a resident's cancellation is theirs


def test_reschedule_takes_the_new_seat_before_releasing_the_old(session, world):
    world.site_a.max_future_bookings = 5
    old_slot, new_slot, taken = _slot(session, world, days=3), _slot(session, world, days=4), _slot(session, world,
                                                                                                    days=5)
    with unit_of_work(session):
        old = book(session, world.resident_a, slot_id=old_slot.id, patient_id=world.patient_a.id, now=NOW).appointment
    other = builders.make_patient(session, first_name="Paul")
    session.commit()
    with unit_of_work(session):
        book_slot(session, slot_id=taken.id, patient_id=other.id, channel="online", now=NOW)
    with pytest.raises(SlotUnavailable), unit_of_work(session):
        reschedule(session, world.resident_a, old.id, taken.id, NOW)
    session.expire_all()
    assert session.get(Appointment, old.id).status == "booked"
    assert session.get(Slot, old_slot.id).booked_count == 1
    with unit_of_work(session):
        moved = reschedule(session, world.resident_a, old.id, new_slot.id, NOW)
    session.expire_all()
    assert session.get(Appointment, old.id).status == "cancelled"
    assert moved.slot_id == new_slot.id and moved.status == "booked"
    assert session.get(Slot, old_slot.id).booked_count == 0 and session.get(Slot, new_slot.id).booked_count == 1
    pending = session.scalars(select(Notification.dedupe_key).where(Notification.status == "pending")).all()
    assert all(f"appointment:{old.id}:" not in key for key in pending)
    assert any(f"appointment:{moved.id}:reminder" in key for key in pending)


def test_attendance_is_marked_after_the_slot_and_never_guessed(session, world):
    with pytest.raises(Conflict, match="commencé"), unit_of_work(session):
        mark_attendance(session, world.practitioner_user_a, world.appointment_a.id, "attended", NOW)
    later = world.slot_a.starts_at + timedelta(minutes=5)
    with unit_of_work(session):
        check_in(session, world.agent_a, world.appointment_a.id, later)
    with unit_of_work(session):
        assert mark_attendance(session, world.practitioner_user_a, world.appointment_a.id, "no_show",
                               later).status == "no_show"
    with pytest.raises(NotFound), unit_of_work(session):
        mark_attendance(session, world.agent_b, world.appointment_a.id, "attended", later)
    with pytest.raises(Forbidden), unit_of_work(session):
        mark_attendance(session, world.resident_a, world.appointment_a.id, "attended", later)


def test_patients_are_created_with_what_they_have(session, world):
    with unit_of_work(session):
        guadeloupe = create_patient(session, world.admin, PatientInput("Zoé", "Lefèvre-N'Diaye", date(1950, 1, 2),
                                                                       "97101", "0690 12 34 56", sms_consent=True), NOW)
    assert guadeloupe.phone == "+590690123456" and guadeloupe.phone_kind == "mobile" and guadeloupe.sms_consent
    assert guadeloupe.last_name == "Lefèvre-N'Diaye"
    with unit_of_work(session):
        landline = create_patient(session, world.agent_a, PatientInput("Odette", "Aymar", date(1944, 4, 4), "15174",
                                                                       "04 71 40 00 00", sms_consent=True), NOW)
    assert landline.phone_kind == "landline" and not landline.sms_consent  # a landline gets no SMS
    with unit_of_work(session):
        nothing = create_patient(session, world.agent_a, PatientInput("Jean", "Puech", date(1938, 8, 8), "15174"), NOW)
    assert nothing.phone is None
    with pytest.raises(InvalidInput, match="téléphone"), unit_of_work(session):
        create_patient(session, world.agent_a, PatientInput("A", "B", date(1990, 1, 1), "15174", "12"), NOW)


def test_find_patients_ignores_accents_and_suggests_close_spellings(session, world):
    born = date(1944, 5, 2)
    exact = builders.make_patient(session, last_name="Lefèvre", birth_date=born)
    typo = builders.make_patient(session, last_name="Lefebvre", birth_date=born)
    builders.make_patient(session, last_name="Lefèvre", birth_date=date(1950, 1, 1))
    builders.make_patient(session, last_name="Lefèvre", birth_date=born, commune_insee=builders.COMMUNE_B)
    session.commit()
    with unit_of_work(session):
        found = find_patients(session, world.agent_a, "LEFEVRE", born, NOW)
    assert exact.id in [p.id for p in found.exact] and world.patient_a.id in [p.id for p in found.exact]
    assert [p.id for p in found.suggestions] == [typo.id]
    assert all(p.commune_insee != builders.COMMUNE_B for p in found.exact)  # commune B's patient stays hidden


def test_waiting_list_offers_a_freed_slot_for_thirty_minutes_then_the_next(app, session, world):
    slot, taker, booked, first = builders.book_then_wait(session, world, NOW, slot=_slot(session, world))
    day = slot.starts_at.date()
    second_patient = builders.make_patient(session, first_name="Inès", phone="+33600000099")
    session.commit()
    with unit_of_work(session):
        second = join_waitlist(session, world.admin, second_patient.id, world.site_a.id, "medecin_generaliste",
                               day, day + timedelta(days=2), NOW)
    with unit_of_work(session):
        cancel_appointment(session, world.agent_a, booked.id, "patient", NOW)
    session.expire_all()
    entry = session.get(WaitlistEntry, first.id)
    assert entry.status == "offered" and session.get(Slot, slot.id).held_for_id == first.id
    offer = session.scalar(select(Notification).where(Notification.group_key == f"waitlist:{first.id}"))
    assert "30 min" in offer.body and offer.recipient == world.patient_a.phone
    # Held: nobody else may take it meanwhile.
    with pytest.raises(SlotUnavailable), unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=taker.id, channel="reception",
                  now=NOW + timedelta(minutes=5))
    # Thirty minutes pass: the offer goes to the next person.
    assert expire_offers(NOW + timedelta(minutes=29)) == 0
    assert expire_offers(NOW + timedelta(minutes=30)) == 1
    session.expire_all()
    assert session.get(WaitlistEntry, first.id).status == "expired"
    nxt = session.get(WaitlistEntry, second.id)
    assert nxt.status == "offered"
    with pytest.raises(NotFound), unit_of_work(session):
        accept_offer(session, f"{first.id}-whatever", NOW + timedelta(minutes=31))
    with unit_of_work(session):
        appointment = accept_offer(session, offer_token(nxt), NOW + timedelta(minutes=40))
    assert appointment.patient_id == second_patient.id
    assert session.get(WaitlistEntry, second.id).status == "booked"
