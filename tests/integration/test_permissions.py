"""Who may do what to which object: a table over roles × actions × objects of two communes."""

import pytest
from sqlalchemy import select

from booking.auth.models import AuditEvent
from booking.auth.permissions import Action, Scope, can, decide, require
from booking.errors import Forbidden, NotFound

A = Action
TARGETS = ["commune_a", "commune_b", "epci_a", "site_a", "site_b", "site_epci", "patient_a", "patient_b",
           "appointment_a", "appointment_b", "practitioner_a", "practitioner_b"]

# For each role, the objects within its reach and, on each, the actions it may take.
# Anything within reach but not listed is refused (403); anything else is hidden (404).
ALLOWED = {
    "agent_a": {
        "commune_a": {A.VIEW, A.BOOK},
        "site_a": {A.VIEW, A.BOOK, A.MARK_ATTENDANCE},
        "site_epci": {A.VIEW, A.BOOK, A.MARK_ATTENDANCE},
        "patient_a": {A.VIEW, A.BOOK, A.MANAGE},
        "appointment_a": {A.VIEW, A.CANCEL, A.MARK_ATTENDANCE},
        "practitioner_a": {A.VIEW},
    },
    "commune_admin_a": {
        "commune_a": {A.VIEW, A.BOOK, A.MANAGE, A.READ_STATS},
        "epci_a": {A.READ_STATS},
        "site_a": {A.VIEW, A.BOOK, A.MARK_ATTENDANCE, A.MANAGE, A.READ_STATS, A.CLOSE},
        # The EPCI's site: its administrators edit it, member communes work there and read it.
        "site_epci": {A.VIEW, A.BOOK, A.MARK_ATTENDANCE, A.READ_STATS},
        "patient_a": {A.VIEW, A.BOOK, A.MANAGE},
        "appointment_a": {A.VIEW, A.CANCEL, A.MARK_ATTENDANCE},
        "practitioner_a": {A.VIEW},
    },
    "practitioner_user_a": {
        "site_a": {A.VIEW, A.PUBLISH, A.MARK_ATTENDANCE},
        "patient_a": {A.VIEW},
        "appointment_a": {A.VIEW, A.CANCEL, A.MARK_ATTENDANCE},
        "practitioner_a": {A.VIEW, A.PUBLISH, A.MANAGE},
    },
    "epci_admin_a": {
        "commune_a": {A.VIEW, A.READ_STATS},
        "epci_a": {A.READ_STATS},
        "site_epci": {A.VIEW, A.MANAGE, A.READ_STATS, A.CLOSE},
    },
    # Figures only, of every commune and EPCI of the Cantal; never a site's desk, a patient or an appointment.
    "departement_viewer": {
        "commune_a": {A.READ_STATS},
        "commune_b": {A.READ_STATS},
        "epci_a": {A.READ_STATS},
    },
    "resident_a": {
        "patient_a": {A.VIEW, A.BOOK, A.MANAGE},
        "appointment_a": {A.VIEW, A.CANCEL},
    },
}


def _target(world, name):
    if name == "epci_a":
        from booking.extensions import db
        from booking.geo.models import Epci

        return db.session.get(Epci, world.site_epci.operator_epci_siren)
    if name.startswith("commune_"):
        site = getattr(world, "site_" + name[-1])
        return site.commune
    return getattr(world, name)


def _expected(role: str, target: str, action: Action) -> Scope:
    if role == "admin":
        return Scope.ALLOWED
    reach = ALLOWED[role]
    if target not in reach:
        return Scope.OUT
    return Scope.ALLOWED if action in reach[target] else Scope.DENIED


@pytest.mark.parametrize("role", ["admin", *ALLOWED])
def test_roles_by_actions_by_objects(world, role):
    user = getattr(world, role)
    mismatches = []
    for target in TARGETS:
        for action in Action:
            expected = _expected(role, target, action)
            actual = decide(user, action, _target(world, target))
            if actual is not expected:
                mismatches.append(f"{role} {action.value} {target}: expected {expected.value}, got {actual.value}")
    assert mismatches == []


def test_commune_b_is_a_mirror_of_commune_a(world):
    assert can(world.agent_b, A.BOOK, world.site_b)
    assert not can(world.agent_b, A.VIEW, world.site_a)
    assert not can(world.agent_b, A.VIEW, world.site_epci)
    assert can(world.commune_admin_b, A.READ_STATS, world.site_b.commune)
    assert not can(world.commune_admin_b, A.READ_STATS, world.site_a.commune)


def test_an_agent_receives_a_patient_from_elsewhere_booked_at_their_site(world, session):
    from tests import builders

    slot = builders.make_slot(session, world.practitioner_a, world.site_a,
                              world.slot_a.starts_at + builders.timedelta(hours=1))
    builders.make_appointment(session, slot, world.patient_b)
    session.commit()
    assert can(world.agent_a, A.VIEW, world.patient_b)
    assert not can(world.agent_a, A.VIEW, world.appointment_b)


def test_a_revoked_practitioner_loses_the_site(world, session):
    world.practitioner_a.site_links[0].status = "revoked"
    session.commit()
    assert not can(world.practitioner_user_a, A.PUBLISH, world.site_a)


def test_anonymous_and_inactive_users_may_do_nothing(world, session):
    assert decide(None, A.VIEW, world.site_a) is Scope.OUT
    world.agent_a.active = False
    session.commit()
    assert not can(world.agent_a, A.VIEW, world.site_a)


def test_require_hides_what_is_out_of_reach_and_refuses_what_the_role_may_not(world):
    with pytest.raises(NotFound):
        require(world.agent_a, A.VIEW, world.site_b)
    with pytest.raises(Forbidden):
        require(world.agent_a, A.MANAGE, world.site_a)


def _pages(world):
    return {
        "site_a": f"/gestion/sites/{world.site_a.id}",
        "site_b": f"/gestion/sites/{world.site_b.id}",
        "patient_a": f"/gestion/patients/{world.patient_a.id}",
        "patient_b": f"/gestion/patients/{world.patient_b.id}",
        "appointment_a": f"/rendez-vous/{world.appointment_a.id}",
        "appointment_b": f"/rendez-vous/{world.appointment_b.id}",
    }


# Expected status of each page (site_a, site_b, patient_a, patient_b, appointment_a, appointment_b).
PAGE_STATUSES = {
    "admin": (200, 200, 200, 200, 200, 200),
    "agent_a": (200, 404, 200, 404, 200, 404),
    "commune_admin_a": (200, 404, 200, 404, 200, 404),
    "practitioner_user_a": (200, 404, 200, 404, 200, 404),
    "resident_a": (403, 403, 403, 403, 200, 404),
    "agent_b": (404, 200, 404, 200, 404, 200),
}


@pytest.mark.parametrize("role", PAGE_STATUSES)
def test_pages_walked_across_communes(world, app, role):
    user = getattr(world, role)
    client = app.test_client()
    client.post("/connexion", data={"login": user.email, "password": "correct horse battery"})
    statuses = tuple(client.get(url).status_code for url in _pages(world).values())
    assert statuses == PAGE_STATUSES[role]
    assert client.get("/gestion/sites/999999").status_code == (403 if role == "resident_a" else 404)


def test_staff_reads_of_a_patient_are_audited(world, app, session):
    client = app.test_client()
    client.post("/connexion", data={"login": world.agent_a.email, "password": "correct horse battery"})
    assert client.get(f"/gestion/patients/{world.patient_a.id}").status_code == 200
    assert client.get(f"/gestion/patients/{world.patient_b.id}").status_code == 404
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.read")).all()
    assert [(e.user_id, e.role, e.patient_id) for e in events] == [(world.agent_a.id, "agent", world.patient_a.id)]


def test_a_departement_viewer_reaches_no_personal_data_on_any_route(app, client, auth, session, world):
    from flask import url_for

    from tests import builders

    world.appointment_a.reason = "douleurs thoraciques"
    session.commit()
    auth.login(world.departement_viewer.email)
    values = {"site_id": world.site_a.id, "appointment_id": world.appointment_a.id, "patient_id": world.patient_a.id,
              "practitioner_id": world.practitioner_a.id, "slot_id": world.slot_a.id, "insee": builders.COMMUNE_A,
              "siren": builders.EPCI_A, "day": "2027-03-02", "month": "2027-02", "fmt": "json", "token": "x",
              "rule_id": 1, "closure_id": 1, "entry_id": 1}
    secrets = [world.patient_a.last_name, world.patient_b.last_name, world.patient_a.phone[-8:],
               world.appointment_a.reference, world.appointment_b.reference, "douleurs"]
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        with app.test_request_context():
            try:
                url = url_for(rule.endpoint, **{name: values.get(name, 1) for name in rule.arguments})
            except Exception:  # a converter the values do not fit: nothing to walk there
                continue
        response = client.get(url)
        walked += 1
        assert response.status_code < 500, url
        body = response.get_data().decode("utf-8", "replace") if response.mimetype != "application/pdf" else ""
        if response.mimetype == "application/pdf":
            import io

            from pypdf import PdfReader

            body = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
        for secret in secrets:
            assert secret not in body, (url, secret)
    assert walked > 60
    dashboard = client.get(f"/gestion/communes/{builders.COMMUNE_B}/statistiques")
    assert dashboard.status_code == 200  # every commune of the département: its figures, read only
    assert client.get(f"/gestion/intercommunalites/{builders.EPCI_A}/statistiques").status_code == 200
    assert client.get(f"/gestion/sites/{world.site_a.id}/journee").status_code == 404


def test_member_communes_edit_an_epci_site_only_when_the_epci_lets_them(world, session):
    assert not can(world.commune_admin_a, A.MANAGE, world.site_epci)
    assert can(world.epci_admin_a, A.MANAGE, world.site_epci)
    world.site_epci.members_may_edit = True
    session.commit()
    assert can(world.commune_admin_a, A.MANAGE, world.site_epci)
    assert not can(world.agent_a, A.MANAGE, world.site_epci)


def test_the_departement_viewers_workspace_does_not_send_them_to_a_communes_referent(client, auth, world):
    auth.login(world.departement_viewer.email)
    page = client.get("/espace").get_data(as_text=True)
    assert "référent santé de votre commune" not in page
    assert "chiffres des communes du département" in page
