"""Findings of the hardening review (issue 13): each is tested on both databases where one is involved."""

import pytest
import time_machine
from sqlalchemy import func, select

from booking.slots.models import AvailabilityRule, Slot
from tests.conftest import NOW
from tests.integration.test_api import RULE, Api, _error


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("change, field", [
    ({"rrule": "FREQ=SECONDLY"}, "rrule"),
    ({"rrule": "FREQ=MINUTELY;INTERVAL=1"}, "rrule"),
    ({"rrule": "FREQ=HOURLY"}, "rrule"),
    ({"rrule": "FREQ=YEARLY"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=1,2,3"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;INTERVAL=99;BYDAY=TU"}, "rrule"),
    ({"rrule": "FREQ=DAILY;COUNT=999999"}, "rrule"),
    ({"start_date": "0001-01-01", "until": None}, "start_date"),
    ({"start_date": "9999-12-31", "until": None}, "start_date"),
    ({"until": "9999-12-31"}, "until"),
])
def test_unbounded_rules_are_refused_naming_the_field(client, session, world, travel, change, field):
    practitioner = Api(client, session, world.practitioner_user_a)
    before = session.scalar(select(func.count(AvailabilityRule.id))), session.scalar(select(func.count(Slot.id)))
    response = practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules",
                                 {**RULE, "site_id": world.site_a.id, **change})
    error = _error(response, 422)
    assert field in error["fields"] and error["fields"][field] == error["message"]
    assert (session.scalar(select(func.count(AvailabilityRule.id))), session.scalar(select(func.count(Slot.id)))) \
        == before


def test_the_rhythms_of_the_form_are_accepted(client, session, world, travel):
    practitioner = Api(client, session, world.practitioner_user_a)
    for rrule in ("FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "FREQ=MONTHLY;BYDAY=-1FR"):
        response = practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules",
                                     {**RULE, "site_id": world.site_a.id, "rrule": rrule, "start_time": "14:00",
                                      "end_time": "14:20", "until": "2027-06-30"})
        assert response.status_code == 201, response.get_data(as_text=True)
