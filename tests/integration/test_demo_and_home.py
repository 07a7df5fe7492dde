"""The demo world, the home page and the health check."""

from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.sites.models import Site
from booking.slots.models import Slot


def test_demo_fills_a_believable_world_and_prints_logins(runner, session):
    result = runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "demo-rendez-vous" in result.output
    for role in ("admin", "commune_admin", "agent", "practitioner", "resident"):
        assert session.scalar(select(func.count()).select_from(User).where(User.role == role)) >= 1
        assert f"  {role}" in result.output
    kinds = set(session.scalars(select(Site.kind)))
    assert kinds == {"teleconsultation", "consultation_avancee", "permanence"}
    statuses = dict(session.execute(select(Appointment.status, func.count()).group_by(Appointment.status)).all())
    assert statuses["attended"] > 0 and statuses["no_show"] > 0 and statuses["booked"] > 0
    # Every slot's counter agrees with its active appointments.
    active = dict(session.execute(select(Appointment.slot_id, func.count()).where(Appointment.status != "cancelled")
                                  .group_by(Appointment.slot_id)).all())
    for slot_id, booked in session.execute(select(Slot.id, Slot.booked_count)):
        assert booked == active.get(slot_id, 0)


def test_demo_does_not_load_twice(runner, session):
    runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    sites = session.scalar(select(func.count()).select_from(Site))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    assert "existent déjà" in result.output
    assert session.scalar(select(func.count()).select_from(Site)) == sites


def test_home_page_lists_the_sites_in_french(runner, client):
    result = runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    assert result.exit_code == 0, result.output
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Cabine de téléconsultation de Saint-Bonnet" in page
    assert "Consultations avancées du Pays de Salers" in page
    assert "Point de téléconsultation" in page


def test_errors_are_french_pages_and_api_errors_are_json(client):
    page = client.get("/nulle-part")
    assert page.status_code == 404
    assert "Page introuvable" in page.get_data(as_text=True)
    api = client.get("/api/v1/nulle-part")
    assert api.status_code == 404
    assert api.get_json()["error"]["message"]


def test_health_check(client):
    assert client.get("/sante").get_json() == {"status": "ok", "database": "ok",
                                               "rate_limit_store": "mémoire du processus"}


def test_every_operator_of_the_demo_gets_its_monthly_report(runner, session):
    from datetime import datetime, timezone

    from booking.stats.report import send_monthly_reports

    runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    done = send_monthly_reports(session, 2027, 2, datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc))
    assert len(done) == 3  # Saint-Bonnet, Pleaux and the EPCI that runs the consultations avancées
    assert any("sante@pays-de-salers.demo.test" in line for line in done)
    assert any("referente@saint-bonnet.demo.test" in line for line in done)
