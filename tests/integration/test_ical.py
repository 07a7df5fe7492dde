"""iCalendar feeds parse back with icalendar and with vobject, and say nothing medical."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject

from booking.appointments.ical import new_calendar_token, practitioner_feed, revoke_calendar_token
from booking.database import unit_of_work
from booking.errors import NotFound
from tests import builders

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def feed_world(session, world):
    world.appointment_a.reason = "douleurs thoraciques"
    builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3), status="blocked")
    builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3, minutes=20),
                       status="blocked")
    session.commit()
    return world


def test_practitioner_feed_parses_with_two_parsers(session, feed_world):
    with unit_of_work(session):
        token = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    body = practitioner_feed(session, token, NOW)
    parsed = icalendar.Calendar.from_ical(body)
    events = [c for c in parsed.walk("VEVENT")]
    assert len(events) == 2
    appointment = next(e for e in events if str(e["uid"]).startswith("appointment-"))
    assert appointment.decoded("dtstart") == feed_world.slot_a.starts_at
    assert str(appointment["summary"]) == "Consultation – Cabine de Saint-Bonnet"
    assert feed_world.appointment_a.reference in str(appointment["description"])
    assert "15140" in str(appointment["location"])
    blocked = next(e for e in events if str(e["summary"]).startswith("Indisponible"))
    assert blocked.decoded("dtend") - blocked.decoded("dtstart") == timedelta(minutes=40)

    second = vobject.readOne(body.decode())
    uids = sorted(event.uid.value for event in second.vevent_list)
    assert uids == sorted(str(e["uid"]) for e in events)
    assert second.vevent_list[0].dtstart.value.utcoffset() == timedelta(0)


def test_feed_says_nothing_medical(session, feed_world):
    with unit_of_work(session):
        token = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    text = practitioner_feed(session, token, NOW).decode()
    assert "douleurs" not in text
    assert feed_world.patient_a.last_name not in text
    assert "généraliste" not in text.lower()


def test_uids_are_stable_between_fetches(session, feed_world):
    with unit_of_work(session):
        token = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    first = icalendar.Calendar.from_ical(practitioner_feed(session, token, NOW))
    later = icalendar.Calendar.from_ical(practitioner_feed(session, token, NOW + timedelta(hours=1)))
    assert [str(e["uid"]) for e in first.walk("VEVENT")] == [str(e["uid"]) for e in later.walk("VEVENT")]


def test_a_new_token_revokes_the_old_one(session, feed_world, client):
    with unit_of_work(session):
        old = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    with unit_of_work(session):
        new = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    assert client.get(f"/agenda/{old}.ics").status_code == 404
    response = client.get(f"/agenda/{new}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    with unit_of_work(session):
        revoke_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    with pytest.raises(NotFound):
        practitioner_feed(session, new, NOW)


def test_another_practitioner_cannot_make_my_feed(session, feed_world):
    with pytest.raises(NotFound), unit_of_work(session):
        new_calendar_token(session, feed_world.practitioner_user_b, feed_world.practitioner_a.id)


def test_resident_downloads_their_appointment(client, auth, feed_world):
    auth.login(feed_world.resident_a.email)
    response = client.get(f"/rendez-vous/{feed_world.appointment_a.id}/calendrier.ics")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    event = next(iter(icalendar.Calendar.from_ical(response.data).walk("VEVENT")))
    assert feed_world.appointment_a.reference in str(event["description"])
    assert "douleurs" not in response.get_data(as_text=True)
    vobject.readOne(response.get_data(as_text=True))
    assert client.get(f"/rendez-vous/{feed_world.appointment_b.id}/calendrier.ics").status_code == 404


def test_a_teleconsultation_in_the_feed_carries_its_video_link(session, feed_world):
    rule = builders.make_rule(session, feed_world.practitioner_a, feed_world.site_a, modality="remote",
                              video_url="https://visio.example.test/dr-a")
    slot = builders.make_slot(session, feed_world.practitioner_a, feed_world.site_a, NOW + timedelta(days=4),
                              modality="remote", rule=rule)
    builders.make_appointment(session, slot, feed_world.patient_a)
    session.commit()
    with unit_of_work(session):
        token = new_calendar_token(session, feed_world.practitioner_user_a, feed_world.practitioner_a.id)
    events = icalendar.Calendar.from_ical(practitioner_feed(session, token, NOW)).walk("VEVENT")
    remote = next(e for e in events if str(e["summary"]).startswith("Téléconsultation"))
    assert str(remote["url"]) == "https://visio.example.test/dr-a"
    assert "https://visio.example.test/dr-a" in str(remote["description"])
    in_person = next(e for e in events if str(e["summary"]).startswith("Consultation"))
    assert "url" not in in_person and "visio" not in str(in_person["description"])


def test_the_feed_page_title_is_plain_text(client, auth, feed_world):
    import re

    auth.login(feed_world.practitioner_user_a.email)
    page = client.post("/praticien/calendrier").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and title.startswith("Lien de calendrier")  # the tab shows it as text
    assert "js/copy.js" in page  # the copy button's script is still there, in the body


def test_the_feed_keeps_a_cancelled_appointment_for_14_days_and_follows_a_rescheduling(session, feed_world):
    from booking.appointments.services import cancel, reschedule
    from booking.closures.services import close_site

    world = feed_world
    cancelled_slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=30))
    cancelled = builders.make_appointment(session, cancelled_slot, world.patient_b)
    later = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=6))
    session.commit()
    with unit_of_work(session):
        token = new_calendar_token(session, world.practitioner_user_a, world.practitioner_a.id)
    with unit_of_work(session):
        cancel(session, cancelled, None, "patient", NOW)
    with unit_of_work(session):
        moved = reschedule(session, world.resident_a, world.appointment_a.id, later.id, NOW + timedelta(hours=1))
    with unit_of_work(session):
        close_site(session, world.commune_admin_a, world.site_a.id, (NOW + timedelta(days=10)).date(),
                   (NOW + timedelta(days=11)).date(), "works", NOW)

    body = practitioner_feed(session, token, NOW + timedelta(days=1)).decode()
    parsed = vobject.readOne(body)  # the second parser
    events = {event.uid.value: event for event in parsed.vevent_list}
    gone = events[f"appointment-{cancelled.id}@rendez-vous-sante"]
    assert gone.status.value == "CANCELLED" and gone.sequence.value == "1"
    assert gone.dtstamp.value == NOW and gone.last_modified.value == NOW  # the change, not the fetch
    assert gone.summary.value.startswith("Annulé : ")
    # One event for the rescheduled appointment, under its first UID, at its new time, with a higher SEQUENCE.
    first_uid = f"appointment-{world.appointment_a.id}@rendez-vous-sante"
    assert f"appointment-{moved.id}@rendez-vous-sante" not in events
    assert events[first_uid].dtstart.value == later.starts_at and events[first_uid].status.value == "CONFIRMED"
    assert int(events[first_uid].sequence.value) >= 2
    assert events[first_uid].dtstamp.value == NOW + timedelta(hours=1)
    closure = next(event for uid, event in events.items() if uid.startswith("closure-"))
    assert closure.summary.value == "Fermé – Cabine de Saint-Bonnet" and "travaux" in closure.description.value
    assert closure.dtstart.value == (NOW + timedelta(days=10)).date()
    assert closure.dtend.value == (NOW + timedelta(days=12)).date()  # all day, DTEND exclusive

    def uids(at):
        feed = vobject.readOne(practitioner_feed(session, token, at).decode())
        return {event.uid.value for event in feed.vevent_list}

    assert f"appointment-{cancelled.id}@rendez-vous-sante" in uids(NOW + timedelta(days=13))
    assert f"appointment-{cancelled.id}@rendez-vous-sante" not in uids(NOW + timedelta(days=15))
