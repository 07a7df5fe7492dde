"""The public search page at a département's size: the nearest sites, then the soonest ten of the rest."""

import re
from datetime import UTC, timedelta

import time_machine

from booking.search.services import FAR_SITES_SHOWN, search
from tests import builders
from tests.conftest import NOW, statements_run


def _far_sites(session, count):
    """Sites elsewhere in the Cantal (Mauriac: another EPCI than Saint-Bonnet's), each with a generalist whose
    first free slot is one day later than the previous site's, and a dermatologist nobody searches for."""
    sites = []
    for day in range(count):
        site = builders.make_site(session, builders.COMMUNE_B, name=f"Permanence {day + 1:02d}", postal_code="15200")
        generalist = builders.make_practitioner(session, [site])
        builders.make_slot(session, generalist, site, NOW + timedelta(days=3 + day))
        dermatologist = builders.make_practitioner(session, [site], profession="dermatologue",
                                                   last_name=f"Peaudouce{day}")
        builders.make_slot(session, dermatologist, site, NOW + timedelta(days=1))
        sites.append(site)
    session.commit()
    return sites


def _plain(page: str) -> str:
    """The page with its no-break spaces (French typography) as plain spaces."""
    return page.replace("\u00a0", " ").replace("\u202f", " ")


def _names(page: str) -> list[str]:
    return re.findall(r"Permanence \d\d", page)


def test_the_far_tier_shows_the_soonest_ten_then_the_rest_on_demand(client, session, world):
    far = _far_sites(session, FAR_SITES_SHOWN + 2)
    query = {"commune": "Saint-Bonnet-de-Salers", "insee": builders.COMMUNE_A, "profession": "medecin_generaliste"}
    with time_machine.travel(NOW, tick=False):
        page = _plain(client.get("/recherche", query_string=query).get_data(as_text=True))
        everything = _plain(client.get("/recherche", query_string={**query, "tous": "1"}).get_data(as_text=True))
    assert _names(page) == [site.name for site in far[:FAR_SITES_SHOWN]]  # soonest first
    assert "Voir les 3 autres lieux du département" in page  # two permanences and Mauriac's cabin (no free slot)
    assert page.index("Cabine de Saint-Bonnet") < page.index("Permanence 01")  # the commune's own site first
    assert "Peaudouce" not in page  # only the profession searched for
    total = len(far) + 2  # Saint-Bonnet's cabin and Mauriac's, besides the permanences
    assert f"{total} lieux de soins pour Saint-Bonnet-de-Salers" in page
    assert _names(everything) == [site.name for site in far] and "autres lieux du département" not in everything


def test_a_search_costs_five_statements_whatever_the_number_of_sites(client, session, world):
    """The commune, the candidate sites with their tiers, each practitioner's link with the first free slot, the
    sites shown and their practitioners: 12 statements before the work on #19, 6 until stop 29."""
    _far_sites(session, FAR_SITES_SHOWN + 2)
    query = {"commune": "Saint-Bonnet-de-Salers", "insee": builders.COMMUNE_A, "profession": "medecin_generaliste"}
    client.get("/recherche", query_string=query)  # the professions' list is read once a minute per process
    with statements_run(session.get_bind()) as statements, time_machine.travel(NOW, tick=False):
        page = _plain(client.get("/recherche", query_string=query).get_data(as_text=True))
    assert "Permanence 01" in page and "prochain créneau" in page
    assert len(statements) == 5, "\n".join(statements)


def test_the_next_free_slot_skips_booked_and_closed_ones(session, world):
    site = builders.make_site(session, builders.COMMUNE_A, name="Maison de santé")
    practitioner = builders.make_practitioner(session, [site])
    taken = builders.make_slot(session, practitioner, site, NOW + timedelta(days=1))
    builders.make_appointment(session, taken, world.patient_b)
    builders.make_slot(session, practitioner, site, NOW + timedelta(days=2), status="blocked")
    free = builders.make_slot(session, practitioner, site, NOW + timedelta(days=3))
    builders.make_slot(session, practitioner, site, NOW + timedelta(days=4))
    session.commit()
    result = search(session, "", NOW, profession="medecin_generaliste", commune_insee=builders.COMMUNE_A)
    shown = next(item for item in result.sites if item.site.id == site.id)
    assert [(p.id, slot.id) for p, slot in shown.practitioners] == [(practitioner.id, free.id)]


def test_a_département_without_any_site_gives_an_empty_page_and_counts_the_demand(client, session, world):
    from sqlalchemy import select

    from booking.search.models import UnmetDemand

    result = search(session, "", NOW, profession="medecin_generaliste", commune_insee="13055")
    assert (result.commune.name, result.sites, result.total, result.found_free_slot) == ("Marseille", [], 0, False)
    assert session.scalars(select(UnmetDemand.commune_insee)).all() == ["13055"]
    without_profession = search(session, "", NOW, commune_insee="13055", record_demand=False)
    assert without_profession.sites == [] and not without_profession.found_free_slot
    page = _plain(client.get("/recherche", query_string={"commune": "Marseille", "insee": "13055"}).get_data(
        as_text=True))
    assert "Aucun lieu de soins pour Marseille (Bouches-du-Rhône)" in page and "0 lieu" not in page


def test_a_booking_is_never_shown_free_once_committed(session, world):
    from booking.appointments.services import book

    site = builders.make_site(session, builders.COMMUNE_A, name="Maison de santé")
    practitioner = builders.make_practitioner(session, [site])
    first = builders.make_slot(session, practitioner, site, NOW + timedelta(days=1))
    second = builders.make_slot(session, practitioner, site, NOW + timedelta(days=2))
    session.commit()

    def next_free():
        result = search(session, "", NOW, profession="medecin_generaliste", commune_insee=builders.COMMUNE_A)
        session.commit()
        return next(slot.id for item in result.sites if item.site.id == site.id for _, slot in item.practitioners)

    assert next_free() == first.id
    book(session, world.agent_a, slot_id=first.id, patient_id=world.patient_a.id, now=NOW, consent=True)
    session.commit()
    assert next_free() == second.id


def test_the_professions_are_offered_in_french_order(client, world):
    import re

    page = client.get("/recherche").get_data(as_text=True)
    offered = re.findall(r"<option[^>]*>([^<]+)</option>", page)
    assert offered.index("Gériatre") < offered.index("Gynécologue")
    assert offered.index("Pédiatre") < offered.index("Psychologue")


def test_a_day_searched_from_la_reunion_is_la_reunions_day(session, world):
    from datetime import date, datetime

    site = builders.make_site(session, "97411", name="Cabine de Saint-Denis", postal_code="97400",
                              time_zone="Indian/Reunion")
    practitioner = builders.make_practitioner(session, [site])
    # 2 March, 02:00 in Saint-Denis is 1 March, 22:00 UTC (and 23:00 in Paris, still 1 March there).
    early = builders.make_slot(session, practitioner, site, datetime(2027, 3, 1, 22, 0, tzinfo=UTC))
    session.commit()
    now = datetime(2027, 3, 1, 20, 30, tzinfo=UTC)  # 00:30 on 2 March in Saint-Denis
    result = search(session, "", now, profession="medecin_generaliste", commune_insee="97411",
                    from_day=date(2027, 3, 2))
    shown = next(item for item in result.sites if item.site.id == site.id)
    assert [slot.id for _, slot in shown.practitioners] == [early.id]
