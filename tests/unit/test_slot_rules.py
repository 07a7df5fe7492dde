"""Rule → slot expansion: local wall-clock time is the truth."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking.errors import InvalidInput
from booking.slots.rules import day_slot_starts, expand, occurrence_days, validate_rrule

PARIS = ZoneInfo("Europe/Paris")


def _local(slots, zone=PARIS):
    return [s.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") for s in slots]


def test_weekly_tuesday_morning_in_twenty_minute_slots():
    slots = expand("FREQ=WEEKLY;BYDAY=TU", date(2027, 3, 2), time(9), time(12), 20, "Europe/Paris", count=1)
    assert [s.split()[1] for s in _local(slots)] == ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40",
                                                      "11:00", "11:20", "11:40"]
    assert all(s.starts_at.tzinfo == UTC for s in slots)


def test_every_other_week():
    days = occurrence_days("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", date(2027, 3, 3), count=3)
    assert days == [date(2027, 3, 3), date(2027, 3, 17), date(2027, 3, 31)]


def test_first_monday_of_the_month():
    days = occurrence_days("FREQ=MONTHLY;BYDAY=1MO", date(2027, 1, 1), until=date(2027, 4, 30))
    assert days == [date(2027, 1, 4), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 5)]


def test_end_by_date_is_inclusive_and_end_by_count():
    assert occurrence_days("FREQ=WEEKLY;BYDAY=TU", date(2027, 3, 2), until=date(2027, 3, 16))[-1] == date(2027, 3, 16)
    assert len(occurrence_days("FREQ=WEEKLY;BYDAY=TU,TH", date(2027, 3, 2), count=5)) == 5


def test_buffer_between_slots():
    assert day_slot_starts(time(9), time(10), 20, 10) == [time(9), time(9, 30)]
    assert day_slot_starts(time(9), time(10), 25, 0) == [time(9), time(9, 25)]


@pytest.mark.parametrize("first_day, utc_hours", [
    (date(2027, 3, 23), [8, 8]),   # winter time: 09:00 local is 08:00 UTC
    (date(2027, 3, 30), [7, 7]),   # after the 28 March change: 09:00 local is 07:00 UTC
])
def test_spring_daylight_saving_change_keeps_nine_o_clock(first_day, utc_hours):
    slots = expand("FREQ=WEEKLY;BYDAY=TU", first_day, time(9), time(9, 40), 20, "Europe/Paris", count=1)
    assert [s.starts_at.hour for s in slots] == utc_hours
    assert _local(slots)[0].endswith("09:00")


def test_autumn_daylight_saving_change_keeps_nine_o_clock():
    slots = expand("FREQ=WEEKLY;BYDAY=TU", date(2027, 10, 26), time(9), time(9, 20), 20, "Europe/Paris",
                   count=2)
    # 26 October is before the change (31 October): summer time; 2 November is winter time.
    assert [s.starts_at.hour for s in slots] == [7, 8]
    assert _local(slots) == ["2027-10-26 09:00", "2027-11-02 09:00"]


def test_a_local_time_that_does_not_exist_is_skipped():
    # On Sunday 28 March 2027 the clocks jump from 02:00 to 03:00 in Paris.
    slots = expand("FREQ=DAILY", date(2027, 3, 28), time(1, 30), time(3, 30), 30, "Europe/Paris", count=1)
    assert _local(slots) == ["2027-03-28 01:30", "2027-03-28 03:00"]


def test_an_ambiguous_local_time_is_produced_once():
    # On Sunday 31 October 2027 02:00–03:00 happens twice in Paris.
    slots = expand("FREQ=DAILY", date(2027, 10, 31), time(2), time(3), 30, "Europe/Paris", count=1)
    assert _local(slots) == ["2027-10-31 02:00", "2027-10-31 02:30"]
    assert len({s.starts_at for s in slots}) == 2


@pytest.mark.parametrize("zone, utc_hour", [
    ("America/Guadeloupe", 13), ("Indian/Reunion", 5), ("America/Cayenne", 12), ("Indian/Mayotte", 6),
])
def test_overseas_zones_have_no_daylight_saving(zone, utc_hour):
    slots = expand("FREQ=WEEKLY;BYDAY=TU", date(2027, 3, 23), time(9), time(9, 20), 20, zone, count=2)
    assert [s.starts_at.hour for s in slots] == [utc_hour, utc_hour]
    assert _local(slots, ZoneInfo(zone)) == ["2027-03-23 09:00", "2027-03-30 09:00"]


def test_window_limits_the_slots():
    start = datetime(2027, 3, 9, 0, 0, tzinfo=UTC)
    end = datetime(2027, 3, 17, 0, 0, tzinfo=UTC)
    slots = expand("FREQ=WEEKLY;BYDAY=TU", date(2027, 3, 2), time(9), time(10), 30, "Europe/Paris",
                   window_start=start, window_end=end)
    assert _local(slots) == ["2027-03-09 09:00", "2027-03-09 09:30", "2027-03-16 09:00", "2027-03-16 09:30"]


@pytest.mark.parametrize("text", ["", "WEEKLY", "FREQ=SOMETIMES", "DTSTART:20270101;FREQ=DAILY"])
def test_unreadable_recurrences_are_refused_in_french(text):
    with pytest.raises(InvalidInput, match="[Rr]écurrence"):
        validate_rrule(text)


def test_hours_must_be_in_order():
    with pytest.raises(InvalidInput, match="heure de fin"):
        day_slot_starts(time(12), time(9), 20, 0)


@pytest.mark.parametrize("rrule", ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=YEARLY",
                                   "FREQ=WEEKLY;BYSECOND=1", "FREQ=WEEKLY;INTERVAL=0;BYDAY=MO",
                                   "FREQ=WEEKLY;INTERVAL=5;BYDAY=MO", "FREQ=MONTHLY", "FREQ=WEEKLY;;BYDAY=MO",
                                   "FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "FREQ=DAILY;COUNT=0"])
def test_only_the_rhythms_of_the_form_are_allowed(rrule):
    with pytest.raises(InvalidInput) as refused:
        validate_rrule(rrule)
    assert refused.value.field == "rrule"


def test_rule_dates_are_bounded_around_today():
    from booking.slots.rules import check_rule_dates

    today = date(2027, 3, 1)
    check_rule_dates(date(2026, 3, 1), date(2029, 2, 28), today)
    for start, until, field in ((date(1, 1, 1), None, "start_date"), (date(9999, 12, 31), None, "start_date"),
                                (date(2027, 3, 1), date(9999, 12, 31), "until")):
        with pytest.raises(InvalidInput) as refused:
            check_rule_dates(start, until, today)
        assert refused.value.field == field
    check_rule_dates(date(2001, 1, 1), None, today, start_kept=True)  # editing a long-running rule


def test_expansion_walks_only_to_the_window():
    # A rule that started a year ago: only the window's days are produced.
    slots = expand("FREQ=DAILY", date(2026, 3, 1), time(9), time(9, 20), 20, "Europe/Paris",
                   window_start=datetime(2027, 3, 1, tzinfo=UTC),
                   window_end=datetime(2027, 3, 4, tzinfo=UTC))
    assert _local(slots) == ["2027-03-01 09:00", "2027-03-02 09:00", "2027-03-03 09:00"]


def test_the_person_is_told_how_the_consultation_happens():
    from booking.slots.rules import consultation_mode

    assert consultation_mode("on_site", False) == "Sur place, en présence du professionnel"
    assert "une personne vous accompagne" in consultation_mode("remote", True)
    assert "depuis son cabinet" in consultation_mode("remote", False)
