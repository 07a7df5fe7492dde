"""Every GET route, as every role, on a world with the rare cases: nobody reads a person they may not see."""

import io

import pytest
import time_machine
from flask import url_for
from markupsafe import escape
from pypdf import PdfReader

from booking.phones import format_phone
from tests import builders

# Who may read which of the world's people: a site's desk (its communes' agents and referents, and for the
# EPCI's site its member communes' desks), the practitioner who receives them, the resident who booked;
# nobody else. "a" and "b": the plain world's appointments; "a_rare", "epci": the rare cases at site A and
# at the EPCI's site (a closure, Easter Monday, a phone that does not work, failed messages).
SEES = {
    "agent_a": {"a", "a_rare", "epci"},
    "commune_admin_a": {"a", "a_rare", "epci"},
    "practitioner_user_a": {"a", "a_rare"},
    "resident_a": {"a"},
    "agent_b": {"b"},
    "commune_admin_b": {"b"},
    "practitioner_user_b": {"b"},
    "resident_b": {"b"},
    "epci_admin_a": set(),
    "departement_viewer": set(),
    None: set(),
}


def _secrets(appointment) -> list[str]:
    patient = appointment.patient
    return [patient.last_name, str(escape(patient.last_name)), format_phone(patient.phone), patient.phone[-8:],
            appointment.reference]


def _values(world, site, closure_id, patient, appointment) -> dict:
    return {"site_id": site.id, "appointment_id": appointment.id, "patient_id": patient.id,
            "practitioner_id": world.practitioner_epci.id if site is world.site_epci else world.practitioner_a.id,
            "slot_id": appointment.slot_id, "insee": site.commune_insee, "siren": builders.EPCI_A,
            "day": appointment.slot.starts_at.date().isoformat(), "month": "2027-03", "fmt": "json", "token": "x",
            "rule_id": 1, "closure_id": closure_id, "entry_id": 1}


def _body(response) -> str:
    if response.mimetype == "application/pdf":
        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return response.get_data().decode("utf-8", "replace")


@pytest.mark.parametrize("role", list(SEES))
def test_no_role_reads_a_person_it_may_not_see_on_any_route(app, client, auth, session, world, now, role):
    from booking.sites.models import SiteClosure

    builders.add_rare_cases(session, world, now)
    closures = {closure.site_id: closure.id for closure in session.query(SiteClosure)}
    groups = {"a": [world.appointment_a], "b": [world.appointment_b], "epci": world.rare[:2], "a_rare": world.rare[2:]}
    hidden = [secret for group, appointments in groups.items() if group not in SEES[role]
              for appointment in appointments for secret in _secrets(appointment)]
    value_sets = [_values(world, site, closures[site.id], appointment.patient, appointment)
                  for site, appointment in ((world.site_epci, world.rare[0]), (world.site_a, world.rare[2]))]
    with time_machine.travel(now, tick=False):  # the world's day: its closures and holiday are weeks ahead
        if role:
            assert auth.login(getattr(world, role).email).status_code == 302
            home = "/compte" if role.startswith("resident") else "/espace"
            assert client.get(home).status_code == 200, "the walk must be made logged in"
        walked = _walk(app, client, value_sets, hidden, role)
    assert walked > 100


def _walk(app, client, value_sets, hidden, role) -> int:
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for values in value_sets:
            with app.test_request_context():
                try:
                    url = url_for(rule.endpoint, **{name: values.get(name, 1) for name in rule.arguments})
                except Exception:  # a converter the values do not fit: nothing to walk there
                    continue
            with client.get(url) as response:
                walked += 1
                assert response.status_code < 500, url
                body = _body(response)
            for secret in hidden:
                assert secret not in body, (role, url, secret)
    return walked


def test_an_epci_that_runs_the_desk_itself_sees_who_is_booked_at_its_site_only(client, auth, session, world, now):
    from booking.sites.models import SiteClosure

    builders.add_rare_cases(session, world, now)
    closure = session.query(SiteClosure).filter_by(site_id=world.site_epci.id).one()
    pages = [f"/gestion/fermetures/{closure.id}", f"/gestion/sites/{world.site_epci.id}/calendrier",
             f"/gestion/communes/{world.site_epci.commune_insee}/messages"]
    with time_machine.travel(now, tick=False):
        auth.login(world.epci_admin_a.email)
        shown = {url: client.get(url).get_data(as_text=True) for url in pages}
        assert all("Escalmels" not in body and "Teyssedou" not in body for body in shown.values())
        assert "visibles par l’accueil de la mairie seulement" in shown[pages[0]]
        assert "Seul l’accueil de la mairie voit qui est inscrit" in shown[pages[1]]
        sheet = client.get(f"/gestion/sites/{world.site_epci.id}/journee?jour=2027-03-09").get_data(as_text=True)
        assert "Aucun rendez-vous ce jour" not in sheet and "1 rendez-vous ce jour que votre compte ne montre pas" \
            in sheet and "Escalmels" not in sheet  # the screen says there is one, and not who
        world.site_epci.epci_runs_desk = True
        session.commit()
        shown = {url: client.get(url).get_data(as_text=True) for url in pages}
        assert "Escalmels" in shown[pages[0]] and "Teyssedou" in shown[pages[1]]  # a closure, Easter Monday
        assert "Teyssedou" in shown[pages[2]]  # its phone to correct
        assert world.rare[0].reference in shown[pages[2]]  # its failed reminder
        assert client.get(f"/rendez-vous/{world.rare[0].id}").status_code == 200
        assert client.get(f"/rendez-vous/{world.rare[2].id}").status_code == 404  # commune A's own site: never
