"""How far care is: the search and the desk rank sites by the estimated drive, on a world placed by hand.

Distances counted by hand (mean Earth radius 6 371.0088 km, so 0.1° of latitude = 11.12 km), drives at the
default 1.3 road factor and 60 km/h (× 1.3 min per km):
- Saint-Bonnet (the person) at 45.00 N 2.00 E; Mauriac 0.1° north: 11.12 km, 14.5 min; Allanche 0.2° north:
  22.24 km, 28.9 min; a site in Corsica whose own position was corrected to 45.05 N: 5.56 km, 7.2 min;
- Alleuze has no known position: its site is said « distance inconnue », last, and never within a radius.
"""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine

from booking.geo.models import Commune
from tests import builders
from tests.conftest import NOW

SAINT_BONNET, MAURIAC, ALLANCHE, ALLEUZE, AJACCIO = "15174", "15120", "15001", "15002", "2A004"


def _plain(page: str) -> str:
    return page.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def placed(session, world, restore_geo):
    """The communes placed by hand, and six sites with a midwife each (nobody else in the world is one)."""
    for insee, latitude in ((SAINT_BONNET, 45.0), (MAURIAC, 45.1), (ALLANCHE, 45.2), (ALLEUZE, None)):
        commune = session.get(Commune, insee)
        commune.latitude, commune.longitude = latitude, 2.0 if latitude is not None else None
    sites = {}
    for name, insee, first_slot_in_days, own in (
            ("Cabinet du bourg", SAINT_BONNET, 5, None), ("Maison de santé d’Ajaccio", AJACCIO, 6, (45.05, 2.0)),
            ("Mauriac, cabinet A", MAURIAC, 3, None), ("Mauriac, cabinet B", MAURIAC, 2, None),
            ("Permanence d’Allanche", ALLANCHE, 1, None), ("Permanence d’Alleuze", ALLEUZE, 1, None)):
        # Saint-Bonnet's desk runs them all but Ajaccio's, a candidate only by being within reach.
        site = builders.make_site(session, insee, name=name,
                                  operator_commune_insee=AJACCIO if insee == AJACCIO else SAINT_BONNET)
        if own:
            site.latitude, site.longitude = own
        midwife = builders.make_practitioner(session, [site], profession="sage_femme")
        builders.make_slot(session, midwife, site, NOW + timedelta(days=first_slot_in_days))
        sites[name] = site
    session.commit()
    return sites


def _search(client, **more):
    query = {"commune": "Saint-Bonnet-de-Salers", "insee": SAINT_BONNET, "profession": "sage_femme", **more}
    with time_machine.travel(NOW, tick=False):
        return _plain(client.get("/recherche", query_string=query).get_data(as_text=True))


def _cards(page: str) -> list[tuple[str, str]]:
    """(site, what the card says of the trip) in the page's order."""
    return re.findall(r'<h4><a href="/lieux/\d+">([^<]+)</a></h4>\s*<p>[^<]*</p>\s*<p class="trip">([^<]+)</p>',
                      page.replace("&#39;", "’").replace("&rsquo;", "’"))


def test_the_search_ranks_sites_by_the_drive_then_the_first_free_slot(client, placed):
    page = _search(client)
    assert _cards(page) == [
        ("Cabinet du bourg", "Dans votre commune"),
        ("Maison de santé d’Ajaccio", "À 6 km, environ 7 min"),  # another département, near by its own position
        ("Mauriac, cabinet B", "À 11 km, environ 14 min"),  # as near as A: its free slot is sooner
        ("Mauriac, cabinet A", "À 11 km, environ 14 min"),
        ("Permanence d’Allanche", "À 22 km, environ 29 min"),
        ("Permanence d’Alleuze", "Distance inconnue (lieu sans position)"),
    ]
    assert "6 lieux de soins pour Saint-Bonnet-de-Salers" in page
    assert "temps de trajet en voiture estimés" in page


def test_a_radius_keeps_the_sites_within_that_drive_and_says_how_many_it_left_out(client, placed):
    page = _search(client, jusqua="20")
    assert [name for name, _ in _cards(page)] == ["Cabinet du bourg", "Maison de santé d’Ajaccio",
                                                  "Mauriac, cabinet B", "Mauriac, cabinet A"]
    assert "jusqu’à 20 min" in page and "2 autres lieux plus loin ne sont pas montrés" in page
    assert '<option selected value="20">' in page or '<option value="20" selected>' in page
    assert [name for name, _ in _cards(_search(client, jusqua="30"))][-1] == "Permanence d’Allanche"
    assert len(_cards(_search(client, jusqua="999"))) == 6  # not a choice: no limit, never an error


def test_a_commune_without_position_is_said_so_and_ranked_as_before(client, session, placed):
    session.get(Commune, SAINT_BONNET).latitude = None
    session.commit()
    page = _search(client, jusqua="20")
    assert "La position de Saint-Bonnet-de-Salers n’est pas connue" in page
    assert "sans limite de temps de trajet" in page
    assert "Maison de santé d’Ajaccio" not in page  # no position, no « near » across the border
    headings = re.findall(r'<h3 class="tier">([^<]+)</h3>', page)
    assert headings[0] == "Dans votre commune" and headings[1].startswith("À proximité")  # the tiers, as before
    assert 'class="trip"' not in page and "environ" not in page  # no distance at all


def test_the_desk_sees_its_sites_nearest_the_patient_first(client, auth, session, world, placed):
    patient = builders.make_patient(session, SAINT_BONNET, last_name="Vergne")
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        page = _plain(client.get(f"/accueil/patients/{patient.id}/reserver",
                                 query_string={"profession": "sage_femme"}).get_data(as_text=True))
    legends = [legend.replace("&#39;", "’") for legend in re.findall(r"<legend>([^<]+)</legend>", page)]
    assert legends == [
        "Cabinet du bourg — dans sa commune",
        "Mauriac, cabinet B — à 11 km, environ 14 min de Saint-Bonnet-de-Salers",
        "Mauriac, cabinet A — à 11 km, environ 14 min de Saint-Bonnet-de-Salers",
        "Permanence d’Allanche — à 22 km, environ 29 min de Saint-Bonnet-de-Salers",
        "Permanence d’Alleuze — distance inconnue",
    ]


def test_the_referente_corrects_a_sites_position_and_a_wrong_one_is_refused_with_its_reason(
        client, auth, session, world, placed):
    from booking.sites.models import Site

    site = placed["Cabinet du bourg"]
    site_id = site.id
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.commune_admin_a.email)
        form = client.get(f"/gestion/sites/{site_id}/modifier").get_data(as_text=True)
        assert 'name="latitude"' in form and 'inputmode="decimal"' in form
        fields = _form_fields(form)
        swapped = client.post(f"/gestion/sites/{site_id}/modifier", data={**fields, "latitude": "2,0",
                                                                          "longitude": "45,12"})
        page = _plain(swapped.get_data(as_text=True))
        assert swapped.status_code == 422 and "Ce point est à" in page and "inversées" in page
        assert page.index('id="latitude-error"') < page.index('name="latitude"') + 600  # said beside its field
        half = client.post(f"/gestion/sites/{site_id}/modifier", data={**fields, "latitude": "45,12",
                                                                       "longitude": ""})
        assert half.status_code == 422 and "Donnez la latitude et la longitude" in half.get_data(as_text=True)
        session.expire_all()
        assert session.get(Site, site_id).latitude is None  # nothing saved by a refused form
        session.commit()
        saved = client.post(f"/gestion/sites/{site_id}/modifier", data={**fields, "latitude": "45,05",
                                                                        "longitude": "2,0"})
        assert saved.status_code == 302
    session.expire_all()
    corrected = session.get(Site, site_id)
    assert (corrected.latitude, corrected.longitude) == (45.05, 2.0) and corrected.position == (45.05, 2.0)


def _form_fields(page: str) -> dict:
    """What the browser would send back untouched: inputs, checked boxes, selected options, text areas."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.values, self.select, self.textarea = {}, None, None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "input" and attrs.get("name"):
                if attrs.get("type") in ("checkbox", "radio"):
                    if "checked" in attrs:
                        self.values.setdefault(attrs["name"], []).append(attrs.get("value", "y"))
                elif attrs.get("type") != "submit":
                    self.values[attrs["name"]] = attrs.get("value", "")
            elif tag == "select":
                self.select = attrs.get("name")
            elif tag == "option" and self.select and "selected" in attrs:
                self.values[self.select] = attrs.get("value", "")
            elif tag == "textarea":
                self.textarea = attrs.get("name")
                self.values[self.textarea] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data):
            if self.textarea:
                self.values[self.textarea] += data

    parser = Fields()
    parser.feed(page)
    return parser.values


def _free(session, site, local_start, first_patient):
    """A slot of the site's midwife at ``local_start`` (Paris), booked then cancelled: freed, as a cancellation
    frees it (the waiting list hears of it after the commit)."""
    from booking.appointments.models import Appointment
    from booking.appointments.services import book_slot, cancel
    from booking.database import unit_of_work

    midwife = site.practitioner_links[0].practitioner
    slot = builders.make_slot(session, midwife, site, local_start.astimezone(NOW.tzinfo))
    session.commit()
    with unit_of_work(session):
        booked = book_slot(session, slot_id=slot.id, patient_id=first_patient.id, channel="reception", now=NOW)
    with unit_of_work(session):
        cancel(session, session.get(Appointment, booked.id), None, "patient", NOW)
    return slot.id


def test_the_shared_waiting_list_offers_each_freed_slot_to_the_longest_waiting_person_within_reach(
        session, world, placed):
    from zoneinfo import ZoneInfo

    from booking.waitlist.models import WaitlistEntry
    from booking.waitlist.services import join_waitlist

    paris = ZoneInfo("Europe/Paris")
    day = (NOW + timedelta(days=8)).astimezone(paris).date()  # a Tuesday
    people = {}
    # Oldest first: Allanche (45.2) within 20 min, Saint-Bonnet (45.0) within 30, Mauriac (45.1) within 60 but
    # only in the mornings.
    for age, (name, insee, minutes, mornings) in enumerate((("Allanche", ALLANCHE, 20, False),
                                                           ("Bourg", SAINT_BONNET, 30, False),
                                                           ("Mauriac", MAURIAC, 60, True))):
        patient = builders.make_patient(session, insee, last_name=f"Attente{name}", phone=f"+3361234560{age}")
        with time_machine.travel(NOW, tick=False):
            people[name] = join_waitlist(session, world.admin, patient.id, None, "sage_femme", day, day,
                                         NOW - timedelta(days=3 - age), max_minutes=minutes, mornings_only=mornings)
    session.commit()
    someone = builders.make_patient(session, SAINT_BONNET, last_name="Premier")
    bourg, allanche = placed["Cabinet du bourg"], placed["Permanence d’Allanche"]
    afternoon = datetime.combine(day, time(14), tzinfo=paris)

    # Freed in Saint-Bonnet: Allanche's person waits longest but is 29 min away (she said 20): the next one.
    at_bourg = _free(session, bourg, afternoon, someone)
    session.expire_all()
    offered = {name: (entry.status, entry.offered_slot_id) for name, entry in
               ((name, session.get(WaitlistEntry, entry.id)) for name, entry in people.items())}
    assert offered == {"Allanche": ("waiting", None), "Bourg": ("offered", at_bourg), "Mauriac": ("waiting", None)}

    # Freed in Allanche, the afternoon: hers (0 min); not Mauriac's (mornings only), not Bourg's (offered already).
    at_allanche = _free(session, allanche, afternoon + timedelta(hours=1), someone)
    session.expire_all()
    assert session.get(WaitlistEntry, people["Allanche"].id).offered_slot_id == at_allanche
    assert session.get(WaitlistEntry, people["Mauriac"].id).status == "waiting"

    # A morning slot freed in Allanche (14.5 min from Mauriac): the last one's.
    morning = _free(session, allanche, datetime.combine(day, time(9), tzinfo=paris), someone)
    session.expire_all()
    assert session.get(WaitlistEntry, people["Mauriac"].id).offered_slot_id == morning


def test_the_desk_signs_a_patient_up_on_the_shared_list(client, auth, session, world, placed):
    from booking.waitlist.models import WaitlistEntry

    patient = builders.make_patient(session, SAINT_BONNET, last_name="Partage")
    unplaced = builders.make_patient(session, SAINT_BONNET, last_name="Sansposition")
    session.commit()
    form = {"site_id": "0", "max_minutes": "30", "profession": "sage_femme", "first_day": "08/03/2027",
            "last_day": "31/03/2027", "mornings_only": "y", "avoid_weekday": "2"}
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        page = client.get(f"/accueil/patients/{patient.id}/attente").get_data(as_text=True)
        assert "Tout lieu assez proche (liste partagée)" in page and "Pas le mercredi" in page
        saved = client.post(f"/accueil/patients/{patient.id}/attente", data=form)
        assert saved.status_code == 302
        session.get(Commune, SAINT_BONNET).latitude = None  # now nobody knows where Saint-Bonnet is
        session.commit()
        refused = client.post(f"/accueil/patients/{unplaced.id}/attente", data=form)
    assert refused.status_code == 422
    assert "La position de la commune de ce patient n’est pas connue" in _plain(refused.get_data(as_text=True))
    entry = session.query(WaitlistEntry).filter_by(patient_id=patient.id).one()
    assert (entry.site_id, entry.origin_insee, entry.max_minutes, entry.mornings_only, entry.avoid_weekday) == (
        None, SAINT_BONNET, 30, True, 2)
    assert session.query(WaitlistEntry).filter_by(patient_id=unplaced.id).count() == 0
