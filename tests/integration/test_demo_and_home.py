"""The demo world, the home page and the health check."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
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
    # Dr Vidal's Thursday hour for unscheduled care: the SAS's until two hours before.
    unscheduled = session.execute(select(Slot.starts_at, Slot.released_at).where(Slot.visibility == "snp")).all()
    assert len(unscheduled) >= 3 * 8
    assert all(starts - released == timedelta(hours=2) for starts, released in unscheduled)
    assert max(starts for starts, _ in unscheduled) > datetime(2027, 3, 1, 8, tzinfo=UTC)


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
    from datetime import datetime

    from booking.stats.report import send_monthly_reports

    runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    done = send_monthly_reports(session, 2027, 2, datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    assert len(done) == 3  # Saint-Bonnet, Pleaux and the EPCI that runs the consultations avancées
    assert any("sante@pays-de-salers.example.com" in line for line in done)
    assert any("referente@saint-bonnet.demo.test" in line for line in done)


class _FormValues(HTMLParser):
    """The values a browser would send back from the page's form with ``action``, untouched."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea, self._in_form = [], None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = attrs.get("method", "get").lower() == "post" and "novalidate" in attrs
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind != "submit":
                self.values.append((attrs["name"], attrs.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = attrs.get("name"), ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self._in_form = False


@pytest.mark.parametrize("manager", ["referente@saint-bonnet.demo.test", "intercommunalite@pays-de-salers.demo.test",
                                     "admin@demo.test"])
def test_every_demo_site_saves_untouched_by_whoever_manages_it(app, runner, client, session, manager):
    from werkzeug.datastructures import MultiDict

    from booking.sites.models import Site

    runner.invoke(args=["demo", "--now", "2027-03-01T08:00:00Z"])
    client.post("/connexion", data={"login": manager, "password": "demo-rendez-vous"})
    saved = 0
    for site in session.scalars(select(Site).order_by(Site.id)).all():
        page = client.get(f"/gestion/sites/{site.id}/modifier")
        if page.status_code != 200:
            continue  # not this manager's site
        form = _FormValues()
        form.feed(page.get_data(as_text=True))
        answer = client.post(f"/gestion/sites/{site.id}/modifier", data=MultiDict(form.values))
        assert answer.status_code == 302, (manager, site.name, answer.get_data(as_text=True)[-3000:])
        saved += 1
    assert saved >= 1
