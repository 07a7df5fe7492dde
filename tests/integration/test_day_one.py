"""What stood between real people and the service on day one (issue 14), tested through the pages."""

import time_machine
from sqlalchemy import select

from booking.appointments.models import Appointment
from tests import builders
from tests.conftest import NOW


def test_the_public_site_page_lets_a_resident_book_its_free_slots_online(client, session, world):
    from datetime import timedelta

    world.site_a.phone = "+33471400000"
    free = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/lieux/{world.site_a.id}").get_data(as_text=True)
    assert f'href="/reserver/{free.id}"' in page
    assert "l’agent réserve pour vous" in page and 'href="tel:+33471400000"' in page
    assert f'href="/lieux/{world.site_a.id}/creneaux"' in page


def test_a_resident_confirms_before_an_appointment_is_cancelled(client, auth, session, world):
    from datetime import timedelta

    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    appointment = builders.make_appointment(session, slot, world.patient_a)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.resident_a.email)
        account = client.get("/compte").get_data(as_text=True)
        assert f'href="/compte/rendez-vous/{appointment.id}/annuler"' in account  # a link: nothing happens yet
        asked = client.get(f"/compte/rendez-vous/{appointment.id}/annuler")
        assert asked.status_code == 200 and "Annuler votre rendez-vous" in asked.get_data(as_text=True)
        assert session.scalar(select(Appointment.status).where(Appointment.id == appointment.id)) == "booked"
        done = client.post(f"/compte/rendez-vous/{appointment.id}/annuler")
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "cancelled"
    auth.logout()
    auth.login(world.resident_b.email)
    assert client.get(f"/compte/rendez-vous/{world.appointment_a.id}/annuler").status_code == 404


def test_check_in_only_on_the_day_and_a_mistake_is_undone_the_same_day_audited(app, session, world):
    from datetime import datetime, timedelta, timezone

    from booking.auth.models import AuditEvent

    def desk():
        """A reception desk signed in at the current (travelled) time: staff sessions end when idle."""
        client = app.test_client()
        client.post("/connexion", data={"login": world.agent_a.email, "password": builders.PASSWORD})
        return client

    # world.appointment_a is two days after NOW, at 09:00 UTC (10:00 in Paris).
    appointment_id, site_id = world.appointment_a.id, world.site_a.id
    day = world.slot_a.starts_at.date()
    with time_machine.travel(NOW, tick=False):
        client = desk()
        early = client.post(f"/rendez-vous/{appointment_id}/arrivee")
        assert early.status_code == 409 and "le jour du rendez-vous" in early.get_data(as_text=True)
        sheet = client.get(f"/gestion/sites/{site_id}/journee?jour={day.isoformat()}").get_data(as_text=True)
        assert f"/rendez-vous/{appointment_id}/arrivee" not in sheet  # no button to press days before
    that_morning = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=8)
    with time_machine.travel(that_morning, tick=False):
        client = desk()
        assert client.post(f"/rendez-vous/{appointment_id}/arrivee").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).checked_in_at is not None
        sheet = client.get(f"/gestion/sites/{site_id}/journee").get_data(as_text=True)
        assert "Corriger (l’arrivée)" in sheet
        assert client.post(f"/rendez-vous/{appointment_id}/presence/corriger").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).checked_in_at is None
    after = that_morning + timedelta(hours=2)
    with time_machine.travel(after, tick=False):
        client = desk()
        client.post(f"/rendez-vous/{appointment_id}/presence", data={"status": "no_show"})
        assert client.post(f"/rendez-vous/{appointment_id}/presence/corriger").status_code == 302
        session.expire_all()
        assert session.get(Appointment, appointment_id).status == "booked"
    with time_machine.travel(after + timedelta(days=1), tick=False):
        client = desk()
        client.post(f"/rendez-vous/{appointment_id}/presence", data={"status": "attended"})
        late = client.post(f"/rendez-vous/{appointment_id}/presence/corriger")
        assert late.status_code == 409 and "le jour du rendez-vous" in late.get_data(as_text=True)
    session.expire_all()
    assert session.get(Appointment, appointment_id).status == "attended"
    undone = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "appointment.undo")).all()
    assert undone == [{"undone": "check_in"}, {"undone": "no_show"}]


def test_the_workspace_points_to_past_days_with_unmarked_attendance(client, auth, session, world):
    from datetime import timedelta

    past = builders.make_slot(session, world.practitioner_a, world.site_a, NOW - timedelta(days=3))
    builders.make_appointment(session, past, world.patient_a)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        page = client.get("/espace").get_data(as_text=True)
    assert "Présences à noter" in page
    assert f"/gestion/sites/{world.site_a.id}/journee?jour={(NOW - timedelta(days=3)).date().isoformat()}" in page
