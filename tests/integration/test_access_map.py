"""The access figures and the map élus ask for, on a Cantal placed by hand.

Five communes on one meridian (0.1° of latitude = 11.12 km; a drive takes × 1.3 min per km at the defaults),
every other commune of the Cantal without position or population:

    commune      latitude  2021   2015   midwife's site
    Allanche     45.00     1 000    900  A: a free slot in 3 days
    Alleuze      45.10       300    200
    Ally         45.20       200    250
    Andelat      45.30       500    550  D: its only free slot in 10 days
    Anglards     45.45       100    100

Drives to the nearest site offering a midwife: Allanche 0, Alleuze 14.5 (A), Ally 14.5 (D), Andelat 0,
Anglards 21.7 (D) → beyond 20 min: Anglards, 100 of 2 100 = 4.8 %; beyond 30 min: nobody.
To the nearest free slot within 7 days (A only): 0, 14.5, 28.9, 43.4, 65 (past the 60 min looked at) →
beyond 20: Ally, Andelat, Anglards = 800 / 2 100 = 38.1 %; beyond 30: Andelat, Anglards = 600 / 2 100 = 28.6 %.
Population 2015 → 2021: 2 000 → 2 100, + 5.0 %. Half the population (1 050) lives at 0 min: median 0.
"""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import update

from booking.geo.models import Commune
from booking.search.models import UnmetDemand
from tests import builders
from tests.conftest import NOW

PLACES = {"15001": (45.00, 1000, 900), "15002": (45.10, 300, 200), "15003": (45.20, 200, 250),
          "15004": (45.30, 500, 550), "15005": (45.45, 100, 100)}
FEBRUARY = NOW.replace(day=1) - timedelta(days=20)  # 9 February 2027: the last full month before NOW


@pytest.fixture
def cantal(session, world, restore_geo):
    session.execute(update(Commune).where(Commune.departement_code == "15").values(
        latitude=None, longitude=None, population=None, population_2015=None, population_2021=None))
    for insee, (latitude, people, before) in PLACES.items():
        commune = session.get(Commune, insee)
        commune.latitude, commune.longitude = latitude, 3.0
        commune.population_2021, commune.population_2015 = people, before
    near = builders.make_site(session, "15001", name="Maison de santé d’Allanche")
    far = builders.make_site(session, "15004", name="Permanence d’Andelat")
    for site, days in ((near, 3), (far, 10)):
        midwife = builders.make_practitioner(session, [site], profession="sage_femme")
        builders.make_slot(session, midwife, site, NOW + timedelta(days=days))
    session.commit()
    return near, far


def _came(session, site, insee, count, day=0):
    """``count`` residents of ``insee`` who came to ``site`` on a day of February (``day`` after the 9th)."""
    midwife = site.practitioner_links[0].practitioner
    for number in range(count):
        slot = builders.make_slot(session, midwife, site, FEBRUARY + timedelta(days=day, hours=number,
                                                                               minutes=number))
        builders.make_appointment(session, slot, builders.make_patient(session, insee, last_name=f"Venue{number}"),
                                  status="attended")


def _csv(client, path, **query) -> dict[str, str]:
    with time_machine.travel(NOW, tick=False):
        text = client.get(path, query_string={"profession": "sage_femme", **query}).get_data(as_text=True)
    lines = [line.split(";") for line in text.lstrip("\ufeff").splitlines()]
    return {line[0]: line[1:] for line in lines if line and line[0]}


def test_the_departements_access_counted_by_hand(client, auth, session, world, cantal):
    near, far = cantal
    _came(session, near, "15002", 3)  # 14.5 min each
    _came(session, far, "15005", 2)  # 21.7 min each
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.departement_viewer.email)
    figures = _csv(client, "/gestion/departements/15/acces.csv")
    assert figures["Habitants (2021)"] == ["2100"] and figures["Habitants (2015)"] == ["2000"]
    assert figures["Évolution de la population 2015 → 2021 (%)"] == ["5,0"]
    assert figures["Habitants à plus de 20 min d’un lieu de soins (%)"] == ["4,8"]
    assert figures["Habitants à plus de 30 min d’un lieu de soins (%)"] == ["0,0"]
    assert figures["Habitants à plus de 20 min d’un créneau libre sous 7 jours (%)"] == ["38,1"]
    assert figures["Habitants à plus de 30 min d’un créneau libre sous 7 jours (%)"] == ["28,6"]
    assert figures["Temps de trajet médian des habitants jusqu’au lieu le plus proche (min)"] == ["0"]
    assert figures["Consultations des habitants dans la période"] == ["5"]
    assert figures["Temps de trajet médian estimé des personnes venues (min)"] == ["14"]  # 14.5, 14.5, 14.5, 21.7…
    unplaced = session.query(Commune).filter(Commune.departement_code == "15").count() - 5
    assert figures["Communes sans position connue (non comptées)"] == [str(unplaced)]
    assert figures["Anglards-de-Saint-Flour"][:7] == ["15005", "100", "100", "0,0", "22", "plus de 60", "0"]
    assert figures["Ally"][4:6] == ["14", "29"]
    assert figures["Saint-Bonnet-de-Salers"][4] == "position inconnue"  # said, never placed at 0,0


def test_a_small_count_of_people_who_came_hides_their_drive(client, auth, session, world, cantal):
    _came(session, cantal[0], "15002", 4)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.departement_viewer.email)
    figures = _csv(client, "/gestion/departements/15/acces.csv")
    assert figures["Consultations des habitants dans la période"] == ["< 5"]
    assert figures["Temps de trajet médian estimé des personnes venues (min)"] == ["< 5"]


def test_the_departement_viewer_opens_on_the_map_drawn_from_our_data(client, auth, session, world, cantal):
    with time_machine.travel(NOW, tick=False):
        landed = auth.login(world.departement_viewer.email)
        assert landed.headers["Location"].endswith("/gestion/departements/15/acces")
        page = client.get("/gestion/departements/15/acces", query_string={"profession": "sage_femme"}).get_data(
            as_text=True).replace("\u00a0", " ").replace("\u202f", " ")
    classes = re.findall(r'<circle cx="[\d.]+" cy="[\d.]+" r="[\d.]+" fill="#[0-9A-F]{6}" data-class="(\w+)">'
                         r'<title>([^<]+)</title>', page)
    assert sorted(classes) == sorted([("near", "Allanche : à 20 min ou moins"), ("near", "Alleuze : à 20 min ou moins"),
                                      ("near", "Ally : à 20 min ou moins"), ("near", "Andelat : à 20 min ou moins"),
                                      ("middle", "Anglards-de-Saint-Flour : de 20 à 30 min")])
    assert page.count('class="site"') == 2 and 'role="img"' in page and "<desc" in page
    assert "À 20 min ou moins : 4 communes" in page and "De 20 à 30 min : 1 commune" in page
    assert "<table" in page and page.index("<svg") < page.index('data-table="communes"')  # the text alternative
    with time_machine.travel(NOW, tick=False):
        pdf = client.get("/gestion/departements/15/acces.pdf", query_string={"profession": "sage_femme"})
    assert pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    drawn = sum(len(page.get_contents().get_data()) for page in reader.pages)
    assert "Lieu de soins" in text and "De 20 à 30 min : 1 commune" in text and "Anglards" in text
    assert drawn > 2000  # the dots, not only the words


def test_the_unmet_demand_map_keeps_small_counts_secret(client, auth, session, world, cantal):
    for insee, searches in (("15002", 5), ("15003", 3), ("15004", 10)):
        session.add_all([UnmetDemand(commune_insee=insee, profession="sage_femme", searched_on=FEBRUARY.date())
                         for _ in range(searches)])
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.departement_viewer.email)
        page = client.get("/gestion/departements/15/acces", query_string={
            "profession": "sage_femme", "carte": "demande"}).get_data(as_text=True).replace("\u00a0", " ")
    classes = dict((name.split(" : ")[0], kind) for kind, name in re.findall(
        r'data-class="(\w+)"><title>([^<]+)</title>', page))
    assert classes == {"Allanche": "none", "Alleuze": "high", "Ally": "secret", "Andelat": "high",
                       "Anglards-de-Saint-Flour": "none"}
    figures = _csv(client, "/gestion/departements/15/acces.csv", carte="demande")
    assert figures["Alleuze"][6:8] == ["5", "16,7"] and figures["Andelat"][6:8] == ["10", "20,0"]
    assert figures["Ally"][6:8] == ["< 5", ""]  # 3 searches: neither the count nor a rate


@pytest.mark.parametrize("who, path, status", [
    ("departement_viewer", "/gestion/departements/19/acces", 404),
    ("commune_admin_a", "/gestion/departements/15/acces", 404),
    ("agent_a", "/gestion/departements/15/acces", 404),
    ("epci_admin_a", f"/gestion/intercommunalites/{builders.EPCI_A}/acces", 200),
    ("epci_admin_a", "/gestion/intercommunalites/241500230/acces.csv", 404),
    ("commune_admin_a", f"/gestion/intercommunalites/{builders.EPCI_A}/acces.pdf", 200),
])
def test_who_reads_which_map(client, auth, session, world, who, path, status):
    with time_machine.travel(NOW, tick=False):
        auth.login(getattr(world, who).email)
        assert client.get(path).status_code == status
        if who == "epci_admin_a" and status == 200:  # reached from the EPCI's dashboard
            dashboard = client.get(f"/gestion/intercommunalites/{builders.EPCI_A}/statistiques").get_data(as_text=True)
            assert f'href="{path}">Carte de l’accès aux soins</a>' in dashboard


def test_a_communes_dashboard_carries_its_access_and_population(session, world, cantal):
    from booking.stats.services import compute

    session.add(builders.make_user(session, "commune_admin", ["15002"]))
    stats = compute(session, "15002", FEBRUARY.date().replace(day=1), NOW.date(), NOW, profession="sage_femme")
    access, population = stats.table("access"), stats.table("population")
    assert access.rows == [["Sage-femme", 14, 0.0, 0.0, 0.0, 0.0]]
    assert population.rows == [["Habitants", 200, 300, 50.0]]
    assert stats.table("travel").rows == [["Habitants venus en consultation", None]]  # nobody came
    _came(session, cantal[0], "15002", 4)
    session.commit()
    few = compute(session, "15002", FEBRUARY.date().replace(day=1), NOW.date(), NOW, profession="sage_femme")
    assert few.table("travel").rows == [["Habitants venus en consultation", "< 5"]]  # no median of four
    _came(session, cantal[0], "15002", 1, day=1)
    session.commit()
    five = compute(session, "15002", FEBRUARY.date().replace(day=1), NOW.date(), NOW, profession="sage_femme")
    assert five.table("travel").rows == [["Habitants venus en consultation", 14]]
    assert "Consultations" not in five.table("travel").columns  # the count is never published beside it


def test_the_api_gives_the_departements_access_to_its_observers(client, session, world, cantal):
    from booking.api.services import create_token
    from booking.database import unit_of_work

    _came(session, cantal[0], "15002", 5)
    session.commit()
    with unit_of_work(session):
        tokens = {who: create_token(session, getattr(world, who).email, "test", NOW)
                  for who in ("departement_viewer", "agent_a", "epci_admin_a")}

    def get(who, path="/api/v1/departements/15/access", **query):
        with time_machine.travel(NOW, tick=False):
            return client.get(path, query_string={"profession": "sage_femme", **query},
                              headers={"Authorization": f"Bearer {tokens[who]}"})

    answer = get("departement_viewer").get_json()
    figures = {figure["key"]: figure["value"] for figure in answer["figures"]}
    assert answer["period"] == {"from": "2027-02-01", "to": "2027-02-28"}
    assert figures["habitants_a_plus_de_20_min_d_un_lieu_de_soins"] == 4.8
    assert figures["habitants_a_plus_de_30_min_d_un_creneau_libre_sous_7_jours"] == 28.6
    assert figures["temps_de_trajet_median_estime_des_personnes_venues_min"] == 14
    communes = {commune["insee"]: commune for commune in answer["communes"]}
    assert communes["15005"]["minutes_to_site"] == 22 and communes["15005"]["minutes_to_free_slot"] is None
    assert communes["15174"]["placed"] is False and communes["15174"]["minutes_to_site"] is None
    assert get("agent_a").status_code == 404 and get("epci_admin_a").status_code == 404
    assert get("departement_viewer", "/api/v1/departements/19/access").status_code == 404
    assert get("departement_viewer", month="2027-13").status_code == 422
    assert get("departement_viewer", profession="astronaute").status_code in (400, 422)
