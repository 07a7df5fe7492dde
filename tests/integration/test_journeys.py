"""The two journeys of the booking issue, through the Flask test client."""

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.auth.models import AuditEvent
from booking.database import unit_of_work
from booking.patients.models import Patient
from booking.search.models import UnmetDemand
from booking.slots.models import Slot
from notifications.models import Notification
from tests import builders

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def _text(response) -> str:
    return response.get_data(as_text=True)


@time_machine.travel(NOW, tick=False)
def test_reception_journey_find_or_create_consent_book_print(client, auth, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=4))
    session.commit()
    auth.login(world.agent_a.email)
    # An 82-year-old without a mobile: not found, so created with a landline.
    found = client.get("/accueil", query_string={"last_name": "Vermenouze", "birth_date": "1944-11-02"})
    assert "0 patient trouvé" in _text(found)
    created = client.post("/accueil/patients/nouveau", data={
        "last_name": "Vermenouze", "first_name": "Odette", "birth_date": "1944-11-02", "commune": "15174",
        "phone": "04 71 40 12 34"})
    assert created.status_code == 302
    patient = session.scalar(select(Patient).where(Patient.last_name == "Vermenouze"))
    assert patient.phone == "+33471401234" and patient.phone_kind == "landline"
    page = client.get(created.headers["Location"])
    assert "Cabine de Saint-Bonnet" in _text(page)
    refused = client.post(created.headers["Location"], data={"slot_id": slot.id})
    assert refused.status_code == 422 and "accord du patient" in _text(refused)
    booked = client.post(created.headers["Location"], data={"slot_id": slot.id, "consent": "1", "reason": "yeux"})
    assert booked.status_code == 302
    appointment = session.scalar(select(Appointment).where(Appointment.patient_id == patient.id))
    assert appointment.channel == "reception" and appointment.booked_by_id == world.agent_a.id
    assert appointment.consent_recorded_at is not None
    after = _text(client.get(booked.headers["Location"]))
    assert "imprimez et remettez-lui la convocation" in after and appointment.reference in after
    convocation = _text(client.get(f"/rendez-vous/{appointment.id}/convocation?format=A5"))
    assert "carte Vitale" in convocation and "paper-a5.css" in convocation and appointment.reference in convocation
    assert "04 71" in convocation or "Saint-Bonnet" in convocation
    assert "yeux" not in convocation
    assert f"Avec {world.practitioner_a.full_name}, médecin généraliste" in convocation
    assert "Sur place, en présence du professionnel" in convocation
    # No SMS to a landline: one reminder call the day before instead.
    assert [n.channel for n in session.scalars(select(Notification))] == ["voice"]
    assert "appel automatique" in after
    # Found next time by name without accents and birth date, in one search.
    again = _text(client.get("/accueil", query_string={"last_name": "vermenouze", "birth_date": "1944-11-02"}))
    assert "Odette Vermenouze" in again
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)))
    assert {"patient.create", "appointment.book", "patient.read"} <= actions


def test_day_sheet_check_in_and_attendance(client, auth, session, world):
    that_morning = world.slot_a.starts_at - timedelta(hours=1)  # check-in is taken on the appointment's day
    with time_machine.travel(that_morning, tick=False):
        auth.login(world.agent_a.email)
        sheet = _text(client.get(f"/gestion/sites/{world.site_a.id}/journee"))
        assert world.patient_a.full_name in sheet and world.appointment_a.reference in sheet
        client.post(f"/rendez-vous/{world.appointment_a.id}/arrivee")
        assert client.get(f"/gestion/sites/{world.site_b.id}/journee").status_code == 404
    assert session.get(Appointment, world.appointment_a.id).checked_in_at is not None


def test_online_journey_sign_up_verify_book_for_a_relative_cancel_by_link(app, client, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=5))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        results = _text(client.get("/recherche", query_string={"commune": "saint bonnet de salers",
                                                               "profession": "medecin_generaliste"}))
        assert "Dans votre commune" in results and "Cabine de Saint-Bonnet" in results
        assert f"/reserver/{slot.id}" in results or "/reserver/" in results
        signup = client.post("/inscription", data={
            "first_name": "Camille", "last_name": "Delpuech", "birth_date": "1980-06-01",
            "commune": "Saint-Bonnet-de-Salers", "phone": "06 00 00 00 42", "password": "un mot de passe sûr",
            "confirm": "un mot de passe sûr", "sms_consent": "y"})
        assert signup.status_code == 302 and "/compte/telephone" in signup.headers["Location"]
        code_sms = session.scalar(select(Notification).where(Notification.dedupe_key.like("verification:%")))
        code = re.search(r"(\d{6})", code_sms.body).group(1)
        assert client.post("/compte/telephone",
                           data={"code": "000000" if code != "000000" else "111111"}).status_code == 422
        assert client.post("/compte/telephone", data={"code": code}).status_code == 302
        client.post("/compte", data={"proche-first_name": "Marcel", "proche-last_name": "Delpuech",
                                     "proche-birth_date": "1941-02-03", "proche-commune": "15174",
                                     "proche-relationship_label": "père"})
        father = session.scalar(select(Patient).where(Patient.first_name == "Marcel"))
        assert father.phone == "+33600000042" and father.sms_consent  # SMS go to the daughter's phone
        account = _text(client.get("/compte"))
        assert "Camille Delpuech (vous) — Vos rappels arrivent par SMS sur votre mobile" in account
        assert "Marcel Delpuech (père) — Ses rappels arrivent par SMS sur votre mobile" in account
        booked = client.post(f"/reserver/{slot.id}", data={"patient_id": father.id, "reason": "tension"})
        assert booked.status_code == 302
        confirmation = _text(client.get(booked.headers["Location"]))
        appointment = session.scalar(select(Appointment).where(Appointment.patient_id == father.id))
        assert appointment.reference in confirmation and "calendrier.ics" in confirmation
        assert f"{world.practitioner_a.full_name}, médecin généraliste" in confirmation
        assert "Sur place, en présence du professionnel" in confirmation
        sms = session.scalar(select(Notification).where(
            Notification.dedupe_key == f"appointment:{appointment.id}:confirmation"))
        assert "tension" not in sms.body
        link = re.search(r"http://localhost(/a/\S+)", sms.body).group(1)
        other = app.test_client()  # from the phone, without logging in
        assert other.post(link).status_code == 200
        assert session.get(Appointment, appointment.id).status == "cancelled"
        assert other.get(link).status_code == 404


def test_someone_else_took_the_slot(client, auth, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=5))
    spare = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=6))
    other = builders.make_patient(session, first_name="Paul")
    session.commit()
    with time_machine.travel(NOW, tick=False):
        from booking.appointments.services import book_slot

        with unit_of_work(session):
            book_slot(session, slot_id=slot.id, patient_id=other.id, channel="reception", now=NOW)
        auth.login(world.resident_a.email)
        response = client.post(f"/reserver/{slot.id}", data={"patient_id": world.patient_a.id})
    assert response.status_code == 409
    page = _text(response)
    assert "vient d’être réservé" in page and f"/reserver/{spare.id}" in page
    assert session.get(Slot, slot.id).booked_count == 1


def test_a_search_without_free_slots_is_recorded_anonymously(client, session, world):
    with time_machine.travel(NOW, tick=False):
        page = _text(client.get("/recherche", query_string={"commune": "15140", "profession": "ophtalmologue"}))
    assert "Quelle commune" in page  # several communes share 15140
    with time_machine.travel(NOW, tick=False):
        page = _text(client.get("/recherche", query_string={"commune": "Salers", "profession": "ophtalmologue"}))
    assert "Aucun créneau libre dans les 30 prochains jours" in page
    (demand,) = session.scalars(select(UnmetDemand)).all()
    assert (demand.commune_insee, demand.profession, demand.searched_on) == ("15219", "ophtalmologue", NOW.date())
    with time_machine.travel(NOW, tick=False):  # the waiting list is a link to join it, not a sentence
        html = client.get("/recherche", query_string={"commune": "Salers", "profession": "ophtalmologue"})
    assert '<a href="/compte/attente">Inscrivez-vous sur la liste d’attente</a>' in html.get_data(as_text=True)


def test_site_week_grid_lists_free_slots_as_links(client, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, datetime(2027, 3, 3, 8, 0,
                                                                                    tzinfo=UTC))
    session.commit()
    with time_machine.travel(NOW, tick=False):
        page = _text(client.get(f"/lieux/{world.site_a.id}/creneaux?semaine=2027-03-01"))
    assert f"/reserver/{slot.id}" in page and "9\u202fh ·" in page
    assert f"/reserver/{world.slot_a.id}" not in page  # full


def test_the_week_opened_on_a_saturday_evening_is_the_week_of_the_next_free_slot(client, session, world):
    tuesday = builders.make_slot(session, world.practitioner_a, world.site_a,
                                 datetime(2027, 3, 9, 8, 0, tzinfo=UTC))
    session.commit()
    with time_machine.travel(datetime(2027, 3, 6, 18, 0, tzinfo=UTC), tick=False):
        page = _text(client.get(f"/lieux/{world.site_a.id}/creneaux"))
        asked = _text(client.get(f"/lieux/{world.site_a.id}/creneaux?semaine=2027-03-01"))
    assert "semaine du lundi 8 mars 2027" in page.replace("\u00a0", " ") and f"/reserver/{tuesday.id}" in page
    assert "semaine du lundi 1er mars 2027" in asked.replace("\u00a0", " ")  # a week asked for is the week shown


def test_phone_code_expires_has_five_tries_and_a_resend_throttle(app, session):
    import pytest

    from booking.accounts.services import SignupInput, TooSoon, send_code, sign_up, verify_code
    from booking.database import unit_of_work

    with unit_of_work(session):
        user = sign_up(session, SignupInput("Zoé", "Lefèvre-N'Diaye", datetime(1990, 1, 1).date(), "15174",
                                            "un mot de passe sûr", phone="06 00 00 00 77"), NOW)
    with pytest.raises(TooSoon), unit_of_work(session):
        send_code(session, user, NOW + timedelta(seconds=30))
    for attempt in range(5):
        with unit_of_work(session):  # each wrong try is saved, as the page commits it
            assert "incorrect" in verify_code(session, user, "999999" if attempt % 2 else "888888",
                                              NOW + timedelta(minutes=1))
    session.rollback()  # what was not committed is gone
    assert "Trop d’essais" in verify_code(session, user, "123456", NOW + timedelta(minutes=1))
    with unit_of_work(session):
        send_code(session, user, NOW + timedelta(minutes=2))
    body = session.scalars(select(Notification.body).where(Notification.dedupe_key.like("verification:%"))
                           .order_by(Notification.id.desc())).first()
    code = re.search(r"(\d{6})", body).group(1)
    assert "expiré" in verify_code(session, user, code, NOW + timedelta(minutes=13))
    with unit_of_work(session):
        send_code(session, user, NOW + timedelta(minutes=14))
    body = session.scalars(select(Notification.body).where(Notification.dedupe_key.like("verification:%"))
                           .order_by(Notification.id.desc())).first()
    assert verify_code(session, user, re.search(r"(\d{6})", body).group(1), NOW + timedelta(minutes=15)) is None
    assert user.phone_verified_at == NOW + timedelta(minutes=15)
    assert user.display_name == "Zoé Lefèvre-N'Diaye"


@time_machine.travel(NOW, tick=False)
def test_reschedule_page_moves_in_one_step(client, auth, session, world):
    world.site_a.max_future_bookings = 5
    target = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=6))
    session.commit()
    auth.login(world.resident_a.email)
    page = client.get(f"/rendez-vous/{world.appointment_a.id}/deplacer")
    assert f'value="{target.id}"' in _text(page)
    moved = client.post(f"/rendez-vous/{world.appointment_a.id}/deplacer", data={"slot_id": target.id})
    assert moved.status_code == 302
    assert session.get(Appointment, world.appointment_a.id).status == "cancelled"
    assert session.scalar(select(Appointment).where(Appointment.slot_id == target.id)).status == "booked"
    auth.logout()
    auth.login(world.resident_b.email)
    assert client.get(f"/rendez-vous/{world.appointment_a.id}/deplacer").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_an_agent_puts_a_patient_on_the_waiting_list(client, auth, session, world):
    from booking.waitlist.models import WaitlistEntry

    auth.login(world.agent_a.email)
    response = client.post(f"/accueil/patients/{world.patient_a.id}/attente", data={
        "site_id": world.site_a.id, "profession": "medecin_generaliste", "first_day": "2027-03-02",
        "last_day": "2027-03-20"})
    assert response.status_code == 302
    entry = session.scalar(select(WaitlistEntry))
    assert entry.patient_id == world.patient_a.id and entry.created_by_id == world.agent_a.id
    assert client.get(f"/accueil/patients/{world.patient_b.id}/attente").status_code == 404


def test_the_offer_link_books_the_held_slot(app, session, world):
    from booking.appointments.services import cancel_appointment

    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=4))
    slot, _, taken, _ = builders.book_then_wait(session, world, NOW, slot=slot)
    with unit_of_work(session):
        cancel_appointment(session, world.agent_a, taken.id, "patient", NOW)
    offer = session.scalar(select(Notification).where(Notification.dedupe_key.like("waitlist:%")))
    path = re.search(r"http://localhost(/attente/\S+)", offer.body).group(1)
    client = app.test_client()
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
        done = client.post(path)
        assert world.patient_a.first_name in _text(page) and "Rendez-vous confirmé" in _text(done)
    booked = session.scalar(select(Appointment).where(Appointment.slot_id == slot.id, Appointment.status == "booked"))
    assert booked.patient_id == world.patient_a.id
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        assert client.get(path).status_code == 404
