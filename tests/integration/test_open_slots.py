"""Open slots: SMART Scheduling Links parsed back as FHIR R4 resources, and the widget's framing policy."""

import gc
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot as FhirSlot
from sqlalchemy import select, text

from booking.appointments.services import SlotUnavailable, book_slot
from booking.database import unit_of_work
from booking.extensions import db
from booking.openslots.fhir import BOOKING_PHONE, DEEP_LINK
from booking.sites.nomenclatures import PROFESSION_SYSTEM, SPECIALTY_SYSTEM
from booking.slots.models import Slot, slot_changes
from tests import builders

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
MODELS = {"Location": Location, "Schedule": Schedule, "Slot": FhirSlot}


def _fetch_all(client, manifest_url="/$bulk-publish"):
    manifest = client.get(manifest_url).get_json()
    parsed = {}
    for output in manifest["output"]:
        path = output["url"].removeprefix("http://localhost")
        answer = client.get(path)
        assert answer.status_code == 200 and answer.mimetype == "application/fhir+ndjson"
        lines = [line for line in answer.get_data(as_text=True).splitlines() if line]
        parsed[output["type"]] = [MODELS[output["type"]].model_validate(json.loads(line)) for line in lines]
    return manifest, parsed


def test_every_file_parses_as_fhir_and_every_slot_points_to_its_schedule_and_location(client, session, world):
    world.site_a.phone = "+33471000001"
    free = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        manifest, parsed = _fetch_all(client)
    assert manifest["transactionTime"] == "2027-03-01T08:00:00Z" and manifest["error"] == []
    assert {o["type"] for o in manifest["output"]} == {"Location", "Schedule", "Slot"}
    locations = {location.id for location in parsed["Location"]}
    schedules = {schedule.id: schedule for schedule in parsed["Schedule"]}
    assert str(world.site_a.id) in locations
    for schedule in schedules.values():
        assert schedule.actor[0].reference.removeprefix("Location/") in locations
        codes = {(coding.system, coding.code) for coding in schedule.serviceType[0].coding}
        assert codes == {(PROFESSION_SYSTEM, "10"), (SPECIALTY_SYSTEM, "SM54"),
                         ("http://localhost/fhir/CodeSystem/profession", "medecin_generaliste")}
        assert schedule.serviceType[0].text == "Médecin généraliste"
    for slot in parsed["Slot"]:
        assert slot.schedule.reference.removeprefix("Schedule/") in schedules
    ours = next(slot for slot in parsed["Slot"] if slot.id == str(free.id))
    assert ours.status == "free" and ours.start.isoformat() == "2027-03-02T09:00:00+01:00"
    extensions = {extension.url: extension for extension in ours.extension}
    assert extensions[DEEP_LINK].valueUrl == f"http://localhost/reserver/{free.id}"
    assert extensions[BOOKING_PHONE].valueString == "+33471000001"
    booked = next(slot for slot in parsed["Slot"] if slot.id == str(world.slot_a.id))
    assert booked.status == "busy"
    assert world.practitioner_a.last_name not in json.dumps([s.model_dump(mode="json") for s in parsed["Schedule"]])


def test_every_code_system_of_our_own_that_the_feed_names_resolves_to_a_codesystem(client, session, world):
    from fhir.resources.R4B.codesystem import CodeSystem

    with time_machine.travel(NOW, tick=False):
        _, parsed = _fetch_all(client)
        codings = [coding for location in parsed["Location"] for kind in location.type for coding in kind.coding]
        codings += [coding for schedule in parsed["Schedule"] for service in schedule.serviceType
                    for coding in service.coding]
        ours = [coding for coding in codings if coding.system.startswith("http://localhost/")]
        assert {coding.system for coding in ours} == {"http://localhost/fhir/CodeSystem/site-kind",
                                                      "http://localhost/fhir/CodeSystem/profession"}
        for coding in ours:
            answer = client.get(coding.system.removeprefix("http://localhost"))
            assert answer.status_code == 200 and answer.mimetype == "application/fhir+json"
            system = CodeSystem.model_validate(answer.get_json())  # valid FHIR
            assert system.url == coding.system and system.content == "complete"
            assert coding.code in {concept.code for concept in system.concept}
        assert client.get("/fhir/CodeSystem/inconnu").status_code == 404
    others = {coding.system for coding in codings} - {coding.system for coding in ours}
    assert others == {PROFESSION_SYSTEM, SPECIALTY_SYSTEM}  # the ANS's published nomenclatures


def test_a_booked_slot_is_busy_in_the_next_file_and_the_deep_link_opens_its_booking_page(client, auth, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        first = client.get("/fhir/Slot.ndjson")
        etag = first.headers["ETag"]
        assert client.get("/fhir/Slot.ndjson", headers={"If-None-Match": etag}).status_code == 304
        link = next(json.loads(line) for line in first.get_data(as_text=True).splitlines()
                    if json.loads(line)["id"] == str(slot.id))["extension"][0]["valueUrl"]
        auth.login(world.resident_a.email)
        page = client.get(link.removeprefix("http://localhost"))
        assert page.status_code == 200 and "Réserver le" in page.get_data(as_text=True)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        with unit_of_work(session):
            book_slot(session, slot_id=slot.id, patient_id=world.patient_b.id, channel="online", now=NOW)
        second = client.get("/fhir/Slot.ndjson", headers={"If-None-Match": etag})
        assert second.status_code == 200 and second.headers["ETag"] != etag
        status = next(json.loads(line)["status"] for line in second.get_data(as_text=True).splitlines()
                      if json.loads(line)["id"] == str(slot.id))
        assert status == "busy"
        since = (NOW + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
        manifest = client.get(f"/$bulk-publish?_since={since}").get_json()
        slot_url = next(o["url"] for o in manifest["output"] if o["type"] == "Slot")
        changed = client.get(slot_url.removeprefix("http://localhost")).get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in changed] == [str(slot.id)]  # only what changed since then
    assert session.get(Slot, slot.id).updated_at > NOW
    assert client.get("/fhir/Slot.ndjson?_since=hier").status_code == 400


def test_the_feed_answers_as_smart_scheduling_links_and_http_say(client, session, world):
    """State in the address, no capacity on busy slots, encoded links, weak validators, CORS with preflight."""
    free = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        location = next(json.loads(line) for line in client.get("/fhir/Location.ndjson").get_data(as_text=True)
                        .splitlines() if json.loads(line)["id"] == str(world.site_a.id))
        assert location["address"]["state"] == "Auvergne-Rhône-Alpes" and location["address"]["district"] == "Cantal"
        lines = {json.loads(line)["id"]: json.loads(line)
                 for line in client.get("/fhir/Slot.ndjson").get_data(as_text=True).splitlines()}
        busy, open_ = lines[str(world.slot_a.id)], lines[str(free.id)]
        assert not [e for e in busy["extension"] if e["url"].endswith("slot-capacity")]
        assert [e["valueInteger"] for e in open_["extension"] if e["url"].endswith("slot-capacity")] == [1]
        manifest = client.get("/$bulk-publish", query_string={"_since": "2027-03-01T10:00:00+01:00"}).get_json()
        slot_url = next(o["url"] for o in manifest["output"] if o["type"] == "Slot")
        assert "_since=2027-03-01T10%3A00%3A00%2B01%3A00" in slot_url
        assert {tuple(o["extension"]["state"]) for o in manifest["output"]} == {("Auvergne-Rhône-Alpes",)}
        versioned = client.get("/$bulk-publish")
        assert client.get("/$bulk-publish", headers={"If-None-Match": versioned.headers["ETag"]}).status_code == 304
        assert client.get(slot_url.removeprefix("http://localhost")).status_code == 200  # not a 400 any more
        first = client.get("/fhir/Location.ndjson")
        strong = first.headers["ETag"]
        assert client.get("/fhir/Location.ndjson", headers={"If-None-Match": "W/" + strong}).status_code == 304
        slots = client.get("/fhir/Slot.ndjson")
        assert client.get("/fhir/Slot.ndjson", headers={
            "If-Modified-Since": slots.headers["Last-Modified"]}).status_code == 304
        preflight = client.options("/fhir/Slot.ndjson", headers={
            "Origin": "https://agregateur.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" in first.headers["Access-Control-Expose-Headers"]


def test_a_client_that_leaves_the_slot_feed_early_releases_it_cleanly(app, client, session, world):
    for day in range(1, 4):
        builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=day))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        # The test client, like a server, has read the first line; the client then goes away.
        left = client.get("/fhir/Slot.ndjson")
        assert left.status_code == 200
        left.close()
        session.commit()
        assert db.engine.pool.checkedout() == 0
        # Never closed by anyone: the garbage collector finalises it later, during some other request.
        forgotten = client.get("/fhir/Slot.ndjson")
        assert forgotten.status_code == 200
        del forgotten
        with app.test_request_context("/"):
            gc.collect()
        session.commit()
        assert db.engine.pool.checkedout() == 0
        whole = client.get("/fhir/Slot.ndjson")
        assert len(whole.get_data(as_text=True).splitlines()) >= 3


def test_the_database_records_when_each_slot_changed(session, world):
    """slot_changes is kept by triggers on slots, whoever writes them (ORM, Core, a bulk INSERT): a slot published
    is recorded, a seat taken moves its instant, a booking refused leaves it."""
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()

    def changed_at():
        session.expire_all()
        return session.execute(select(slot_changes.c.changed_at).where(slot_changes.c.slot_id == slot.id)).scalar()

    assert changed_at() == session.get(Slot, slot.id).updated_at
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False), unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=NOW)
    assert changed_at() == session.get(Slot, slot.id).updated_at == NOW + timedelta(minutes=1)
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False), pytest.raises(SlotUnavailable), \
            unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_b.id, channel="online", now=NOW)
    assert changed_at() == NOW + timedelta(minutes=1)


def test_taking_a_seat_updates_the_slot_in_place_on_postgresql(session, world):
    """No indexed column of slots changes when a seat is taken: PostgreSQL writes a HOT update (the row's new
    version on its page, no new entry in the table's eight indexes, no exclusion check). An index on a column
    that booking changes would make this fail."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=NOW)
        updates, in_place = session.execute(text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'slots'")).one()
    session.rollback()
    assert updates >= 1 and in_place == updates


def test_the_widget_is_framed_only_by_the_declared_websites(client, auth, session, world):
    builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=1))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.commune_admin_a.email)
        refused = client.post(f"/gestion/sites/{world.site_a.id}/modifier", data={
            **_site_form(world.site_a), "embed_origins": "http://mairie.example.fr/page"})
        assert refused.status_code == 422 and "https" in refused.get_data(as_text=True)
        saved = client.post(f"/gestion/sites/{world.site_a.id}/modifier", data={
            **_site_form(world.site_a), "embed_origins": "https://www.saint-bonnet.example.fr/"})
        assert saved.status_code == 302
        widget = client.get(f"/integrer/lieu/{world.site_a.id}")
        commune_widget = client.get("/integrer/commune/15174")
    policy = widget.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.saint-bonnet.example.fr" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy and "X-Frame-Options" not in widget.headers
    page = widget.get_data(as_text=True)
    assert "Prochains créneaux libres" in page and 'target="_blank"' in page and "<script" not in page
    assert commune_widget.status_code == 200 and world.site_a.name in commune_widget.get_data(as_text=True)
    assert client.get("/").headers["X-Frame-Options"] == "DENY"  # every other page stays unframeable


@pytest.mark.parametrize("hostile", ["https://a.fr;sandbox", "https:", "'unsafe-inline'", "https://user:pw@a.fr",
                                     "https://a.fr:99999"])
def test_an_origin_that_would_change_the_widgets_policy_is_refused_at_its_field(client, auth, session, world,
                                                                                 hostile):
    with time_machine.travel(NOW, tick=False):
        auth.login(world.commune_admin_a.email)
        refused = client.post(f"/gestion/sites/{world.site_a.id}/modifier", data={
            **_site_form(world.site_a), "embed_origins": f"https://www.mairie.fr\n{hostile}"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="embed_origins-error"' in page
    assert "n’est pas l’adresse d’un site web en https" in page
    session.expire_all()
    assert world.site_a.embed_origins in (None, [])  # nothing of the form was saved


def test_an_origin_stored_before_the_strict_rule_never_reaches_the_header(client, session, world):
    world.site_a.embed_origins = ["https://a.fr;sandbox", "https://www.mairie.fr", "'unsafe-inline'"]
    session.commit()
    policy = client.get(f"/integrer/lieu/{world.site_a.id}").headers["Content-Security-Policy"]
    assert policy.endswith("frame-ancestors 'self' https://www.mairie.fr")


def _site_form(site) -> dict:
    return {"kind": site.kind, "name": site.name, "sms_label": site.sms_label, "address": site.address,
            "commune_insee": site.commune_insee, "postal_code": site.postal_code, "operator": "commune",
            "time_zone": "", "rooms": "\n".join(room.name for room in site.rooms), "booking_open": "y",
            "max_future_bookings": "2", "reminder_hours_before": "24", "second_reminder_hours": "2"}
