"""Publishing, editing and deleting rules; conflicts; horizon; blocking; cancellation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.appointments.services import book_slot, cancel_appointment
from booking.database import unit_of_work
from booking.errors import Forbidden, InvalidInput, NotFound
from booking.sites.models import Room, SitePractitioner
from booking.slots.models import Slot
from booking.slots.services import (
    RuleInput,
    SlotConflict,
    block_period,
    delete_rule,
    extend_horizon,
    publish_rule,
    unblock_period,
    update_rule,
)
from notifications.models import Notification
from tests import builders

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # Monday 1 March 2027, 09:00 in Paris


def tuesday_mornings(site, **overrides) -> RuleInput:
    values = dict(site_id=site.id, rrule="FREQ=WEEKLY;BYDAY=TU", start_date=date(2027, 3, 2),
                  start_time=time(9), end_time=time(12), slot_minutes=20)
    values.update(overrides)
    return RuleInput(**values)


def _slots(session, **filters):
    query = select(Slot).order_by(Slot.starts_at)
    for name, value in filters.items():
        query = query.where(getattr(Slot, name) == value)
    return list(session.scalars(query))


def test_publish_creates_local_slots_over_the_horizon(session, world):
    with unit_of_work(session):
        result = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                              tuesday_mornings(world.site_a), NOW, horizon_days=35)
    slots = _slots(session, rule_id=result.rule.id)
    assert result.created == len(slots) == 5 * 9
    local = [s.starts_at.astimezone(PARIS) for s in slots]
    assert {(t.hour, t.minute) for t in local} == {(9, 0), (9, 20), (9, 40), (10, 0), (10, 20), (10, 40),
                                                   (11, 0), (11, 20), (11, 40)}
    assert {t.weekday() for t in local} == {1}
    # 30 March is after the spring change: still 09:00 local, now 07:00 UTC.
    assert min(s.starts_at for s in slots if s.starts_at.date() == date(2027, 3, 30)).hour == 7


def test_two_rules_in_one_room_conflict_and_the_message_names_it(session, world):
    other = builders.make_practitioner(session, [world.site_a], user=builders.make_user(session, "practitioner"),
                                       last_name="Delmas")
    session.commit()
    with unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, tuesday_mornings(world.site_a), NOW)
    with pytest.raises(SlotConflict) as refused, unit_of_work(session):
        publish_rule(session, other.user, other.id, tuesday_mornings(world.site_a, start_time=time(11),
                                                                       end_time=time(13)), NOW)
    assert "la salle « Salle 1 » est déjà occupée" in refused.value.message
    assert "mardi 2 mars à 11 h" in refused.value.message
    assert _slots(session, practitioner_id=other.id) == []


def test_the_same_two_rules_succeed_with_two_rooms(session, world):
    world.site_a.rooms.append(Room(name="Salle 2"))
    other = builders.make_practitioner(session, [world.site_a], user=builders.make_user(session, "practitioner"))
    session.commit()
    with unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, tuesday_mornings(world.site_a), NOW)
    with unit_of_work(session):
        result = publish_rule(session, other.user, other.id, tuesday_mornings(world.site_a), NOW)
    assert result.created > 0
    rooms = {s.room.name for s in _slots(session, practitioner_id=other.id)}
    assert rooms == {"Salle 2"}


def test_a_practitioner_is_not_in_two_places_at_once(session, world):
    session.add(SitePractitioner(site=world.site_epci, practitioner=world.practitioner_a, status="accepted"))
    session.commit()
    with unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, tuesday_mornings(world.site_a), NOW)
    with pytest.raises(SlotConflict, match="vous consultez déjà à Cabine de Saint-Bonnet"), unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                     tuesday_mornings(world.site_epci, start_time=time(11, 30), end_time=time(12, 30)), NOW)
    with unit_of_work(session):
        afternoon = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                                 tuesday_mornings(world.site_epci, start_time=time(14), end_time=time(16)), NOW)
    assert afternoon.created > 0


@pytest.mark.parametrize("field", ["room_id", "practitioner_id"])
def test_postgresql_itself_refuses_overlapping_slots(session, world, field):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL; SQLite relies on the write-locked check")
    other = builders.make_practitioner(session, [world.site_a])
    start = world.slot_a.starts_at + timedelta(minutes=10)
    practitioner = world.practitioner_a if field == "practitioner_id" else other
    room = world.slot_a.room if field == "room_id" else None
    with pytest.raises(IntegrityError, match="ex_slots_"):
        builders.make_slot(session, practitioner, world.site_a, start, room=room)
    session.rollback()


def test_only_accepted_practitioners_publish_their_own_slots(session, world):
    with pytest.raises(NotFound), unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, tuesday_mornings(world.site_b),
                     NOW)
    with pytest.raises(NotFound), unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_b.id, tuesday_mornings(world.site_a),
                     NOW)
    with pytest.raises((Forbidden, NotFound)), unit_of_work(session):
        publish_rule(session, world.agent_a, world.practitioner_a.id, tuesday_mornings(world.site_a), NOW)
    with unit_of_work(session):
        assert publish_rule(session, world.admin, world.practitioner_a.id, tuesday_mornings(world.site_a), NOW).created


@pytest.mark.parametrize("overrides, message", [
    ({"rrule": "FREQ=NEVER"}, "Récurrence"),
    ({"end_time": time(8)}, "heure de fin"),
    ({"modality": "remote"}, "lien de votre outil"),
    ({"modality": "remote", "video_url": "http://visio"}, "https://"),
    ({"capacity": 0}, "capacité"),
    ({"until": date(2027, 1, 1)}, "date de fin"),
])
def test_bad_rules_are_refused_in_french(session, world, overrides, message):
    with pytest.raises(InvalidInput, match=message), unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                     tuesday_mornings(world.site_a, **overrides), NOW)


def _book_first(session, world, rule_id, patient=None):
    slot = _slots(session, rule_id=rule_id)[0]
    with unit_of_work(session):
        return book_slot(session, slot_id=slot.id, patient_id=(patient or world.patient_a).id, channel="online",
                         now=NOW)


def test_editing_a_rule_keeps_its_bookings_and_reports_those_outside(session, world):
    with unit_of_work(session):
        rule = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                            tuesday_mornings(world.site_a), NOW, horizon_days=28).rule
    appointment = _book_first(session, world, rule.id)  # 2 March, 09:00
    with unit_of_work(session):
        result = update_rule(session, world.practitioner_user_a, rule.id,
                             tuesday_mornings(world.site_a, start_time=time(14), end_time=time(16)), NOW,
                             horizon_days=28)
    session.expire_all()
    assert [s.id for s in result.booked_outside] == [appointment.slot_id]
    assert session.get(type(appointment), appointment.id).status == "booked"
    assert session.get(Slot, appointment.slot_id).status == "open"
    hours = {s.starts_at.astimezone(PARIS).hour for s in _slots(session, rule_id=rule.id)}
    assert hours == {9, 14, 15}  # the kept booking at 9, the new afternoons
    assert result.removed == 4 * 9 - 1


def test_editing_slot_length_keeps_a_booking_that_still_fits(session, world):
    with unit_of_work(session):
        rule = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                            tuesday_mornings(world.site_a), NOW, horizon_days=7).rule
    appointment = _book_first(session, world, rule.id)
    with unit_of_work(session):
        result = update_rule(session, world.practitioner_user_a, rule.id,
                             tuesday_mornings(world.site_a, slot_minutes=30), NOW, horizon_days=7)
    assert result.booked_outside and result.booked_outside[0].id == appointment.slot_id
    local = sorted(s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in _slots(session, rule_id=rule.id))
    # 09:00–09:20 stays booked; 09:00–09:30 would overlap it, so the new series starts at 09:30.
    assert local == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def test_deleting_a_rule_keeps_bookings_and_withdraws_slots_with_history(session, world):
    with unit_of_work(session):
        rule = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                            tuesday_mornings(world.site_a), NOW, horizon_days=7).rule
    slots = _slots(session, rule_id=rule.id)
    with unit_of_work(session):
        kept = book_slot(session, slot_id=slots[0].id, patient_id=world.patient_a.id, channel="online", now=NOW)
    with unit_of_work(session):
        cancelled = book_slot(session, slot_id=slots[1].id, patient_id=world.patient_a.id, channel="online", now=NOW)
    with unit_of_work(session):
        cancel_appointment(session, world.resident_a, cancelled.id, "patient", NOW)
    with unit_of_work(session):
        result = delete_rule(session, world.practitioner_user_a, rule.id, NOW)
    assert [s.id for s in result.booked_outside] == [kept.slot_id]
    remaining = {s.id: s.status for s in _slots(session, rule_id=rule.id)}
    assert remaining == {kept.slot_id: "open", cancelled.slot_id: "withdrawn"}
    # The freed time can be published again: the withdrawn slot does not hold it.
    with unit_of_work(session):
        again = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                             tuesday_mornings(world.site_a), NOW, horizon_days=7)
    assert again.created == 8


def test_extend_is_idempotent_and_follows_the_clock(session, world, runner):
    with unit_of_work(session):
        publish_rule(session, world.practitioner_user_a, world.practitioner_a.id, tuesday_mornings(world.site_a),
                     NOW, horizon_days=14)
    count = session.scalar(select(func.count()).select_from(Slot))
    assert extend_horizon(session, NOW, horizon_days=14) == 0
    result = runner.invoke(args=["slots", "extend", "--now", "2027-03-01T08:00:00Z", "--days", "14"])
    assert "0 créneau créé" in result.output
    assert session.scalar(select(func.count()).select_from(Slot)) == count
    result = runner.invoke(args=["slots", "extend", "--now", "2027-03-08T08:00:00Z", "--days", "14"])
    assert "9 créneaux créés" in result.output
    starts = list(session.scalars(select(Slot.starts_at).where(Slot.practitioner_id == world.practitioner_a.id)))
    assert len(starts) == len(set(starts))


def test_blocking_a_holiday_blocks_free_slots_and_lists_bookings(session, world):
    with unit_of_work(session):
        rule = publish_rule(session, world.practitioner_user_a, world.practitioner_a.id,
                            tuesday_mornings(world.site_a), NOW, horizon_days=14).rule
    appointment = _book_first(session, world, rule.id)
    with unit_of_work(session):
        result = block_period(session, world.practitioner_user_a, world.practitioner_a.id, date(2027, 3, 2),
                              date(2027, 3, 2), NOW)
    assert result.blocked == 8
    from booking.appointments.queries import booked_appointments

    assert [a.id for a in booked_appointments(session, result.booked_slot_ids)] == [appointment.id]
    statuses = {s.status for s in _slots(session, rule_id=rule.id) if s.starts_at.date() == date(2027, 3, 2)}
    assert statuses == {"blocked", "open"}
    with unit_of_work(session):
        assert unblock_period(session, world.practitioner_user_a, world.practitioner_a.id, date(2027, 3, 2),
                              date(2027, 3, 2), NOW) == 8
    with pytest.raises(NotFound), unit_of_work(session):
        block_period(session, world.practitioner_user_b, world.practitioner_a.id, date(2027, 3, 2),
                     date(2027, 3, 2), NOW)


def test_cancelling_frees_the_seat_flags_late_and_withdraws_messages(session, world):
    import notifications

    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(hours=10))
    session.commit()
    with unit_of_work(session):
        appointment = book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=NOW)
    notifications.enqueue(session, channel="sms", recipient="+33600000001", body="Rappel", due_at=NOW,
                          dedupe_key=f"reminder:{appointment.id}", group_key=f"appointment:{appointment.id}")
    session.commit()
    with unit_of_work(session):
        cancelled = cancel_appointment(session, world.practitioner_user_a, appointment.id, "practitioner", NOW)
    assert cancelled.status == "cancelled" and cancelled.cancelled_late
    assert session.get(Slot, slot.id).booked_count == 0
    assert session.scalar(select(Notification.status)) == "cancelled"
    with pytest.raises(Exception, match="plus à venir"), unit_of_work(session):
        cancel_appointment(session, world.practitioner_user_a, appointment.id, "practitioner", NOW)
