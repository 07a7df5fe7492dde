"""The site and practitioner pages, through the Flask test client."""

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from booking.sites.models import Practitioner, Site, SitePractitioner
from booking.slots.models import AvailabilityRule, Slot
from notifications.models import Notification
from tests import builders

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)

SITE_FORM = {
    "kind": "teleconsultation", "name": "Cabine de Salers", "address": "Mairie, place Tyssandier-d’Escous",
    "commune_insee": "15219", "postal_code": "15140", "operator": "commune", "time_zone": "",
    "phone": "04 71 40 00 00", "contact_email": "mairie@salers.example.com", "opening_hours": "Lundi 9 h – 12 h",
    "instructions": "Sonnez à l’accueil.", "rooms": "Cabine\nBureau", "equipment": ["tensiometre", "otoscope"],
    "accessibility": ["pmr"], "booking_open": "y", "max_future_bookings": "2", "reminder_hours_before": "24",
}


def test_a_commune_admin_registers_and_edits_a_site(client, auth, session):
    admin = builders.make_user(session, "commune_admin", ["15219"])
    session.commit()
    auth.login(admin.email)
    response = client.post("/gestion/sites/nouveau", data=SITE_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    site = session.scalar(select(Site).where(Site.name == "Cabine de Salers"))
    assert site.operator_commune_insee == "15219" and site.time_zone == "Europe/Paris"
    assert [c.insee for c in site.served_communes] == ["15219"]
    assert site.phone == "+33471400000" and site.equipment == ["tensiometre", "otoscope"]
    assert sorted(r.name for r in site.rooms) == ["Bureau", "Cabine"]
    page = client.get(f"/gestion/sites/{site.id}").get_data(as_text=True)
    assert "Otoscope connecté" in page and "04\xa071\xa040\xa000\xa000" in page

    edited = dict(SITE_FORM, name="Cabine de téléconsultation de Salers", rooms="Cabine",
                  operator="epci:241501139")
    assert client.post(f"/gestion/sites/{site.id}/modifier", data=edited).status_code == 302
    session.expire_all()
    site = session.get(Site, site.id)
    assert site.name == "Cabine de téléconsultation de Salers" and [r.name for r in site.rooms] == ["Cabine"]
    assert site.operator_epci_siren == "241501139" and site.operator_commune_insee is None
    assert len(site.served_communes) > 20  # every member of the CC du Pays de Salers


def test_site_form_errors_are_french_and_nothing_is_saved(client, auth, session):
    admin = builders.make_user(session, "commune_admin", ["15219"])
    session.commit()
    auth.login(admin.email)
    response = client.post("/gestion/sites/nouveau", data=dict(SITE_FORM, postal_code="75001"))
    assert response.status_code == 422
    assert "n’est pas celui de Salers" in response.get_data(as_text=True)
    response = client.post("/gestion/sites/nouveau", data=dict(SITE_FORM, name=""))
    assert response.status_code == 422
    assert session.scalar(select(Site)) is None


def test_agents_and_other_communes_cannot_register_or_edit(client, auth, session, world):
    auth.login(world.agent_a.email)
    assert client.post("/gestion/sites/nouveau", data=SITE_FORM).status_code == 403
    assert client.get(f"/gestion/sites/{world.site_a.id}/modifier").status_code == 403
    auth.logout()
    auth.login(world.commune_admin_b.email)
    assert client.get(f"/gestion/sites/{world.site_a.id}/modifier").status_code == 404
    response = client.post("/gestion/sites/nouveau", data=SITE_FORM)  # Salers is not commune B
    assert response.status_code == 422
    assert session.scalar(select(Site).where(Site.name == "Cabine de Salers")) is None


def test_overseas_site_gets_its_time_zone(client, auth, session):
    admin = builders.make_user(session, "admin")
    session.commit()
    auth.login(admin.email)
    data = dict(SITE_FORM, commune_insee="97101", postal_code="97139", name="Cabine des Abymes",
                phone="0590 82 00 00")
    assert client.post("/gestion/sites/nouveau?commune=97101", data=data).status_code == 302
    site = session.scalar(select(Site).where(Site.name == "Cabine des Abymes"))
    assert site.time_zone == "America/Guadeloupe" and site.phone == "+590590820000"


@time_machine.travel(NOW, tick=False)
def test_invitation_to_published_slots_end_to_end(app, client, auth, session, world):
    auth.login(world.commune_admin_a.email)
    response = client.post(f"/gestion/sites/{world.site_a.id}/praticiens/inviter",
                           data={"email": "Dr.Delmas@Example.com"})
    assert response.status_code == 302
    email = session.scalar(select(Notification).where(Notification.channel == "email"))
    assert email.recipient == "dr.delmas@example.com" and email.status == "pending"
    link = re.search(r"http://localhost(/invitation/\S+)", email.body).group(1)
    auth.logout()

    practitioner_client = app.test_client()
    form = {"first_name": "Marc", "last_name": "Delmas", "profession": "ophtalmologue", "rpps": "10000000009",
            "password": "un secret de praticien", "confirm": "un secret de praticien"}
    bad = practitioner_client.post(link, data=dict(form, rpps="12345678901"))
    assert "clé de contrôle" in bad.get_data(as_text=True)
    assert practitioner_client.post(link, data=form).status_code == 302
    practitioner = session.scalar(select(Practitioner).where(Practitioner.rpps == "10000000009"))
    assert session.get(SitePractitioner, (world.site_a.id, practitioner.id)).status == "accepted"
    assert practitioner_client.get(link).status_code == 404  # single use

    response = practitioner_client.post("/praticien/disponibilites/nouvelle", data={
        "site_id": world.site_a.id, "frequency": "monthly", "position": "1", "days": ["MO"],
        "start_date": "2027-03-01", "start_time": "14:00", "end_time": "17:00", "slot_minutes": "20",
        "buffer_minutes": "0", "capacity": "1", "modality": "on_site", "room_id": "0",
        "opens_days_ahead": "60", "closes_hours_before": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "agenda?semaine=2027-03-01" in response.headers["Location"]
    rule = session.scalar(select(AvailabilityRule).where(AvailabilityRule.practitioner_id == practitioner.id))
    assert rule.rrule == "FREQ=MONTHLY;BYDAY=1MO"
    page = practitioner_client.get("/praticien/agenda?semaine=2027-04-05").get_data(as_text=True)
    assert "Cabine de Saint-Bonnet" in page
    assert "14\u202fh —" in page and "16\u202fh\u202f40 —" in page
    assert "le premier lundi du mois" in page


def _practitioner_client(app, world):
    client = app.test_client()
    client.post("/connexion", data={"login": world.practitioner_user_a.email, "password": builders.PASSWORD})
    return client


@time_machine.travel(NOW, tick=False)
def test_publishing_a_conflicting_rule_shows_the_conflict(app, session, world):
    other = builders.make_practitioner(session, [world.site_a])
    builders.make_slot(session, other, world.site_a, datetime(2027, 3, 2, 9, 0, tzinfo=UTC))
    session.commit()
    client = _practitioner_client(app, world)
    response = client.post("/praticien/disponibilites/nouvelle", data={
        "site_id": world.site_a.id, "frequency": "weekly", "position": "1", "days": ["TU"],
        "start_date": "2027-03-02", "start_time": "09:00", "end_time": "12:00", "slot_minutes": "20",
        "buffer_minutes": "0", "capacity": "1", "modality": "on_site", "room_id": "0",
        "opens_days_ahead": "60", "closes_hours_before": "2"})
    assert response.status_code == 422
    assert "déjà occupée" in response.get_data(as_text=True)
    assert session.scalar(select(AvailabilityRule)) is None


@time_machine.travel(NOW, tick=False)
def test_block_a_day_then_cancel_and_notify(app, session, world):
    client = _practitioner_client(app, world)
    day = world.slot_a.starts_at.date().isoformat()
    free = builders.make_slot(session, world.practitioner_a, world.site_a, world.slot_a.starts_at + timedelta(hours=1))
    session.commit()
    page = client.post("/praticien/indisponibilites", data={"first_day": day, "last_day": day})
    text = page.get_data(as_text=True)
    assert "Des patients ont rendez-vous" in text and world.appointment_a.reference in text
    assert world.patient_a.full_name in text and " checked" not in text  # who is booked; nothing ticked for them
    assert client.post("/praticien/rendez-vous/annuler",
                       data={"appointment_id": [str(world.appointment_a.id)]}).status_code == 302
    session.expire_all()
    assert session.get(Slot, free.id).status == "blocked"
    assert session.get(type(world.appointment_a), world.appointment_a.id).status == "cancelled"
    # A day blocked by mistake is reopened from the agenda: its blocked slots are offered again.
    agenda = client.get("/praticien/agenda").get_data(as_text=True)
    assert 'action="/praticien/indisponibilites/rouvrir"' in agenda and 'id="rouvrir-first_day"' in agenda
    reopened = client.post("/praticien/indisponibilites/rouvrir",
                           data={"rouvrir-first_day": day, "rouvrir-last_day": day}, follow_redirects=True)
    assert "rouvert" in reopened.get_data(as_text=True)
    session.expire_all()
    assert session.get(Slot, free.id).status == "open"


def test_feed_link_is_shown_once_and_works(app, session, world):
    client = _practitioner_client(app, world)
    page = client.post("/praticien/calendrier").get_data(as_text=True)
    url = re.search(r'value="http://localhost(/agenda/[^"]+\.ics)"', page).group(1)
    assert app.test_client().get(url).status_code == 200
    assert "Désactiver le lien" in client.get("/praticien/agenda").get_data(as_text=True)
    client.post("/praticien/calendrier/revoquer")
    assert app.test_client().get(url).status_code == 404


def test_practitioner_pages_are_for_practitioners(client, auth, world):
    auth.login(world.agent_a.email)
    assert client.get("/praticien/agenda").status_code == 403
    assert client.get("/praticien/disponibilites/nouvelle").status_code == 403


def test_site_staff_see_the_video_links_of_remote_rules(app, client, auth, session, world):
    builders.make_rule(session, world.practitioner_a, world.site_a, modality="remote",
                       video_url="https://visio.example.com/dr-a")
    session.commit()
    auth.login(world.agent_a.email)
    assert "https://visio.example.com/dr-a" in client.get(f"/gestion/sites/{world.site_a.id}").get_data(as_text=True)
    auth.logout()
    auth.login(world.admin.email)
    page = client.get(f"/gestion/sites/{world.site_b.id}").get_data(as_text=True)
    assert "https://visio.example.com/dr-a" not in page


def test_only_the_platform_admin_lets_an_epci_run_a_sites_desk(client, auth, session, world):
    site = world.site_epci
    form = dict(SITE_FORM, name=site.name, commune_insee=site.commune_insee, postal_code="15140",
                operator=f"epci:{site.operator_epci_siren}", rooms="Salle 1", epci_runs_desk="y")
    auth.login(world.epci_admin_a.email)
    assert "elle tient elle-même l’accueil" not in client.get(f"/gestion/sites/{site.id}/modifier").get_data(
        as_text=True)
    assert client.post(f"/gestion/sites/{site.id}/modifier", data=form).status_code == 302
    session.expire_all()
    assert session.get(Site, site.id).epci_runs_desk is False
    auth.logout()
    auth.login(world.admin.email)
    assert "elle tient elle-même l’accueil" in client.get(f"/gestion/sites/{site.id}/modifier").get_data(as_text=True)
    assert client.post(f"/gestion/sites/{site.id}/modifier", data=form).status_code == 302
    session.expire_all()
    assert session.get(Site, site.id).epci_runs_desk is True


def test_a_new_rule_at_a_cabin_starts_remote_with_the_video_link_given_last_time(client, auth, session, world):
    import time_machine

    from tests.conftest import NOW

    with time_machine.travel(NOW, tick=False):
        auth.login(world.practitioner_user_a.email)
        first = client.get("/praticien/disponibilites/nouvelle").get_data(as_text=True)
        assert '<option selected value="remote">' in first
        assert 'id="video_url"' in first and 'value="https://' not in first
        builders.make_rule(session, world.practitioner_a, world.site_a, modality="remote",
                           video_url="https://visio.example.test/dr-a")
        session.commit()
        second = client.get("/praticien/disponibilites/nouvelle").get_data(as_text=True)
        assert 'value="https://visio.example.test/dr-a"' in second
        auth.logout()
        auth.login(world.practitioner_user_b.email)
        world.site_b.kind = "consultation_avancee"
        session.commit()
        elsewhere = client.get("/praticien/disponibilites/nouvelle").get_data(as_text=True)
        assert '<option selected value="on_site">' in elsewhere


@time_machine.travel(NOW, tick=False)
def test_a_practitioner_publishes_unscheduled_care_slots_for_the_sas(app, session, world):
    client = _practitioner_client(app, world)
    form = {"site_id": world.site_a.id, "frequency": "weekly", "position": "1", "days": ["TU"],
            "start_date": "2027-03-02", "start_time": "08:00", "end_time": "10:00", "slot_minutes": "20",
            "buffer_minutes": "0", "capacity": "1", "modality": "on_site", "room_id": "0",
            "opens_days_ahead": "60", "closes_hours_before": "0", "visibility": "snp", "snp_release_hours": ""}
    refused = client.post("/praticien/disponibilites/nouvelle", data=form)
    assert refused.status_code == 422
    assert "combien d’heures avant" in refused.get_data(as_text=True)
    response = client.post("/praticien/disponibilites/nouvelle", data=dict(form, snp_release_hours="2"))
    assert response.status_code == 302, response.get_data(as_text=True)
    rule = session.scalar(select(AvailabilityRule).where(AvailabilityRule.practitioner_id == world.practitioner_a.id,
                                                         AvailabilityRule.visibility == "snp"))
    assert rule.snp_release_hours == 2
    slots = session.scalars(select(Slot).where(Slot.rule_id == rule.id)).all()
    assert slots and all(s.visibility == "snp" and s.released_at == s.starts_at - timedelta(hours=2) for s in slots)
    page = client.get("/praticien/agenda?semaine=2027-03-01").get_data(as_text=True).replace("\u202f", " ")
    assert "soins non programmés, réservé au SAS jusqu’à 7 h" in page  # 9:00 in Paris, two hours before


@time_machine.travel(NOW, tick=False)
def test_a_practitioner_reserves_single_free_slots_of_a_day_to_the_sas_and_opens_them_again(app, session, world):
    day = datetime(2027, 3, 9, tzinfo=UTC)  # a Tuesday; 8:00 UTC is 9:00 in Paris
    free = [builders.make_slot(session, world.practitioner_a, world.site_a, day + timedelta(hours=8, minutes=20 * n))
            for n in range(4)]
    taken = free.pop(1)
    builders.make_appointment(session, taken, world.patient_a)
    taken.booked_count = 1
    session.commit()
    client = _practitioner_client(app, world)
    form = {"sas-day": "09/03/2027", "sas-start_time": "09:00", "sas-end_time": "10:00", "sas-visibility": "snp",
            "sas-snp_release_hours": "2"}
    answer = client.post("/praticien/creneaux/sas", data=form, follow_redirects=True)
    page = answer.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")
    assert "2 créneaux libres désormais pour : soins non programmés : réservés au SAS" in page
    session.expire_all()
    # 9:00 and 9:40 in Paris; 10:00 is the end of the window, not in it
    assert [session.get(Slot, s.id).visibility for s in free] == ["snp", "snp", "public"]
    assert session.get(Slot, taken.id).visibility == "public"  # booked: left as it was taken
    assert session.get(Slot, free[0].id).released_at == free[0].starts_at - timedelta(hours=2)
    client.post("/praticien/creneaux/sas", data=dict(form, **{"sas-visibility": "public", "sas-end_time": "11:00"}))
    session.expire_all()
    assert {session.get(Slot, s.id).visibility for s in free} == {"public"}
    assert session.get(Slot, free[0].id).released_at is None
    other = app.test_client()  # another practitioner's agenda is not hers to change
    other.post("/connexion", data={"login": world.practitioner_user_b.email, "password": builders.PASSWORD})
    other.post("/praticien/creneaux/sas", data=form)
    session.expire_all()
    assert {session.get(Slot, s.id).visibility for s in free} == {"public"}
