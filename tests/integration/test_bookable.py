"""One definition of a bookable slot: the SQL condition and the Python check agree on every kind of slot."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.slots.models import Slot, bookable, why_not_bookable
from booking.waitlist.models import WaitlistEntry
from tests import builders
from tests.conftest import NOW


def _entry(session, world):
    entry = WaitlistEntry(patient_id=world.patient_a.id, site_id=world.site_a.id, profession="medecin_generaliste",
                          first_day=NOW.date(), last_day=NOW.date() + timedelta(days=30), status="offered",
                          created_at=NOW)
    session.add(entry)
    session.flush()
    return entry.id


@pytest.mark.parametrize("with_offer", [False, True])
def test_sql_and_python_say_the_same_of_every_slot(session, world, with_offer):
    later = NOW + timedelta(days=3)
    mine, theirs = _entry(session, world), _entry(session, world)
    hold_entry_id = mine if with_offer else None
    kinds = {
        "free": {},
        "blocked": {"status": "blocked"},
        "withdrawn": {"status": "withdrawn"},
        "past": {"starts_at": NOW - timedelta(hours=1)},
        "full": {"booked_count": 1},
        "one seat left": {"capacity": 2, "booked_count": 1},
        "closed for booking": {"closes_at": NOW - timedelta(minutes=1)},
        "not yet open": {"opens_at": NOW + timedelta(days=1)},
        "held for someone": {"held_until": NOW + timedelta(minutes=10), "held_for_id": theirs},
        "held for this offer": {"held_until": NOW + timedelta(minutes=10), "held_for_id": mine},
        "hold expired": {"held_until": NOW - timedelta(minutes=1), "held_for_id": theirs},
    }
    slots = {}
    for offset, (kind, overrides) in enumerate(kinds.items()):
        starts_at = overrides.pop("starts_at", later + timedelta(hours=offset))
        slots[kind] = builders.make_slot(session, world.practitioner_a, world.site_a, starts_at, **overrides)
    session.commit()
    in_sql = set(session.scalars(select(Slot.id).where(Slot.id.in_([s.id for s in slots.values()]),
                                                      bookable(NOW, hold_entry_id))))
    in_python = {s.id for s in slots.values() if why_not_bookable(s, NOW, hold_entry_id) is None}
    assert in_sql == in_python
    expected = {"free", "one seat left", "hold expired"} | ({"held for this offer"} if with_offer else set())
    assert {kind for kind, s in slots.items() if s.id in in_sql} == expected
    assert why_not_bookable(slots["closed for booking"], NOW) == ("La réservation de ce créneau est close : "
                                                                  "appelez la mairie.")


@pytest.mark.parametrize("switch", [{"booking_open": False}, {"drop_in_only": True}])
def test_a_site_that_takes_no_booking_offers_its_slots_nowhere(client, auth, session, world, switch):
    import json

    import time_machine

    from booking.api.services import create_token
    from booking.appointments.services import SlotUnavailable, book_slot
    from booking.database import unit_of_work
    from booking.waitlist.services import offer_freed_slot

    free = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    session.add(WaitlistEntry(patient_id=world.patient_b.id, site_id=world.site_a.id,
                              profession="medecin_generaliste", first_day=NOW.date(),
                              last_day=NOW.date() + timedelta(days=30), status="waiting", created_at=NOW))
    for name, value in switch.items():
        setattr(world.site_a, name, value)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        with unit_of_work(session):
            token = create_token(session, world.resident_a.email, "test", NOW)
        assert session.scalar(select(Slot.id).where(Slot.id == free.id, bookable(NOW))) is None
        assert why_not_bookable(free, NOW) == "Ce lieu de soins ne prend pas de réservation pour le moment."
        search = client.get("/recherche", query_string={"commune": "Saint-Bonnet-de-Salers"}).get_data(as_text=True)
        assert f"/reserver/{free.id}" not in search
        grid = client.get(f"/lieux/{world.site_a.id}/creneaux").get_data(as_text=True)
        assert f"/reserver/{free.id}" not in grid
        assert client.get(f"/integrer/lieu/{world.site_a.id}").status_code == 404
        feed = [json.loads(line) for line in client.get("/fhir/Slot.ndjson").get_data(as_text=True).splitlines()]
        assert all(slot["id"] != str(free.id) or slot["status"] == "busy" for slot in feed)
        api = client.get("/api/v1/slots", query_string={"site_id": world.site_a.id},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
        assert free.id not in [slot["id"] for slot in api["items"]]
        with pytest.raises(SlotUnavailable), unit_of_work(session):  # the desk, the resident: the same rule
            book_slot(session, slot_id=free.id, patient_id=world.patient_a.id, channel="reception", now=NOW)
        with unit_of_work(session):
            assert offer_freed_slot(session, free.id, NOW) is None  # nobody on the waiting list is offered it
        auth.login(world.resident_a.email)
        page = client.get(f"/reserver/{free.id}").get_data(as_text=True)  # a link kept from before
        assert "ne prend pas de réservation pour le moment" in page and "Confirmer le rendez-vous" not in page


def _everywhere_residents_look(client, session, world, token, at):
    """The slot ids each public surface offers at ``at``: search, site page, slot grid, widget, SMART feed, API."""
    import json
    import re

    import time_machine

    ids = {}
    with time_machine.travel(at, tick=False):
        ids["search"] = client.get("/recherche", query_string={"commune": "Saint-Bonnet-de-Salers"}).get_data(
            as_text=True)
        ids["site page"] = client.get(f"/lieux/{world.site_a.id}").get_data(as_text=True)
        ids["grid"] = client.get(f"/lieux/{world.site_a.id}/creneaux").get_data(as_text=True)
        ids["widget"] = client.get(f"/integrer/lieu/{world.site_a.id}").get_data(as_text=True)
        for name, text in list(ids.items()):
            ids[name] = {int(found) for found in re.findall(r"/reserver/(\d+)", text)}
        feed = [json.loads(line) for line in client.get("/fhir/Slot.ndjson").get_data(as_text=True).splitlines()]
        ids["SMART feed"] = {int(slot["id"]) for slot in feed}
        api = client.get("/api/v1/slots", query_string={"site_id": world.site_a.id},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
        ids["API"] = {slot["id"] for slot in api["items"]}
    return ids


def test_residents_never_see_a_pro_slot_nor_an_snp_slot_before_its_release(client, auth, session, world):
    from booking.api.services import create_token
    from booking.appointments.services import SlotUnavailable, book_slot
    from booking.database import unit_of_work
    from booking.waitlist.services import offer_freed_slot

    starts = NOW + timedelta(days=1)
    shown = builders.make_slot(session, world.practitioner_a, world.site_a, starts)
    pro = builders.make_slot(session, world.practitioner_a, world.site_a, starts + timedelta(minutes=20),
                             visibility="pro")
    snp = builders.make_slot(session, world.practitioner_a, world.site_a, starts + timedelta(minutes=40),
                             visibility="snp", released_at=starts + timedelta(minutes=40) - timedelta(hours=2))
    session.add(WaitlistEntry(patient_id=world.patient_b.id, site_id=world.site_a.id,
                              profession="medecin_generaliste", first_day=NOW.date(),
                              last_day=NOW.date() + timedelta(days=30), status="waiting", created_at=NOW))
    session.commit()
    with unit_of_work(session):
        token = create_token(session, world.resident_a.email, "test", NOW)
    before = _everywhere_residents_look(client, session, world, token, NOW)
    for surface, ids in before.items():
        assert shown.id in ids and pro.id not in ids and snp.id not in ids, surface
    assert why_not_bookable(snp, NOW).startswith("Ce créneau est réservé à la régulation médicale (SAS")
    assert why_not_bookable(pro, NOW) == "Ce créneau est réservé aux professionnels de santé."
    assert why_not_bookable(snp, NOW, regulator=True) is None and why_not_bookable(pro, NOW, regulator=True) is None
    for slot in (pro, snp):
        with pytest.raises(SlotUnavailable), unit_of_work(session):  # the desk, the resident: the same rule
            book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="reception", now=NOW)
        with unit_of_work(session):
            assert offer_freed_slot(session, slot.id, NOW) is None  # nobody on the waiting list is offered it
    import time_machine

    with time_machine.travel(NOW, tick=False):
        auth.login(world.resident_a.email)
        page = client.get(f"/reserver/{snp.id}").get_data(as_text=True)  # a link passed around
    assert "réservé à la régulation médicale" in page and "Confirmer le rendez-vous" not in page

    # Two hours before, nobody from the SAS took it: it is everyone's, everywhere, the incremental feed included.
    released = snp.released_at + timedelta(minutes=1)
    after = _everywhere_residents_look(client, session, world, token, released)
    for surface, ids in after.items():
        if surface in ("search", "site page"):
            continue  # they show the first free slot of each practitioner: the public one, earlier
        assert snp.id in ids and pro.id not in ids, surface
    with time_machine.travel(released, tick=False):
        since = (snp.released_at - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        changes = client.get("/fhir/Slot.ndjson", query_string={"_since": since}).get_data(as_text=True)
    assert f'"id":"{snp.id}"' in changes and '"status":"free"' in changes
    with unit_of_work(session):
        assert offer_freed_slot(session, snp.id, released) is not None
