"""A resident reached by e-mail: confirmation with its invitation, reminder, cancellation by a closure and
rescheduling, through a real SMTP server, the invitations read back by a second parser (vobject)."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vobject
from sqlalchemy import select

from booking.appointments.models import Appointment
from booking.appointments.queries import call_list
from booking.appointments.services import book_slot, reschedule, set_email
from booking.closures.services import cancel_for_closure, close_site
from booking.database import unit_of_work
from booking.patients.models import Patient
from notifications.models import Notification
from notifications.setup import run_dispatch
from tests import builders

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # Monday, 11:00 in Paris
ADDRESS = "marie.durand@example.org"

pytestmark = pytest.mark.smtp


def _by_email(session, **overrides):
    values = dict(first_name="Marie", last_name="Durand", phone=None, phone_kind=None, sms_consent=False,
                  email=ADDRESS)
    return builders.make_patient(session, **{**values, **overrides})


def _book(session, world, patient, days=3, site=None):
    slot = builders.make_slot(session, world.practitioner_a, site or world.site_a, NOW + timedelta(days=days))
    session.commit()
    with unit_of_work(session):
        return book_slot(session, slot_id=slot.id, patient_id=patient.id, channel="online", now=NOW)


def _parts(message):
    """The text, the HTML and the calendar part of a received e-mail."""
    parts = {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}
    return (parts["text/plain"].get_payload(decode=True).decode(), parts["text/html"].get_payload(decode=True).decode(),
            parts.get("text/calendar"))


def _invitation(part):
    """The invitation, parsed by vobject (not the library that wrote it)."""
    return vobject.readOne(part.get_payload(decode=True).decode())


def test_a_resident_without_a_mobile_gets_confirmation_reminder_and_closure_by_email(session, world, smtp_server,
                                                                                   client):
    world.site_a.phone = "+33471000000"
    world.site_a.instructions = "Apportez votre carte Vitale."
    patient = _by_email(session)
    appointment = _book(session, world, patient)
    appointment.reason = "douleurs au genou"
    session.commit()
    assert appointment.reminder_channel == "email"

    assert run_dispatch(NOW).sent == 1 and run_dispatch(NOW).sent == 0
    (confirmation,) = smtp_server.messages
    assert confirmation["To"] == ADDRESS and confirmation["Subject"].startswith("Rendez-vous confirmé : jeudi 4 mars")
    assert confirmation["Message-ID"].endswith("@mairie.example>")
    text, html, calendar = _parts(confirmation)
    for body in (text, html.replace("\u00a0", " ").replace("\u202f", " ")):
        assert appointment.reference in body and "Place de la mairie, 15140" in body and "04 71 00 00 00" in body
        assert "Apportez votre carte Vitale." in body and "http://localhost/a/" in body
        assert "jeudi 4 mars à 11 h" in body  # 10:00 UTC is 11:00 in Paris
        for secret in ("genou", world.practitioner_a.last_name, "généraliste"):
            assert secret not in body.lower()
    assert '<html lang="fr">' in html
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    invitation = _invitation(calendar)
    event = invitation.vevent
    assert invitation.method.value == "REQUEST" and event.status.value == "CONFIRMED"
    assert event.uid.value == f"appointment-{appointment.id}@rendez-vous-sante" and event.sequence.value == "0"
    assert event.dtstart.value.replace(tzinfo=None) == datetime(2027, 3, 4, 11, 0)
    assert "DTSTART;TZID=Europe/Paris:20270304T110000" in calendar.get_payload(decode=True).decode()
    assert invitation.vtimezone.tzid.value == "Europe/Paris"
    assert event.dtstart.value.utcoffset() == timedelta(hours=1)
    assert event.organizer.value == "mailto:rdv@mairie.example" and event.attendee.value == f"mailto:{ADDRESS}"

    reminder = session.scalar(select(Notification).where(Notification.dedupe_key.like("%:email-reminder:%")))
    assert reminder.due_at == appointment.slot.starts_at - timedelta(hours=24)  # the day before, as for SMS
    assert run_dispatch(reminder.due_at).sent == 1
    reminded = smtp_server.messages[-1]
    assert reminded["Subject"].startswith("Rappel : rendez-vous jeudi 4 mars")
    assert reminded["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = reminded["List-Unsubscribe"].strip("<>")
    assert _parts(reminded)[2] is None  # the invitation went with the confirmation

    with unit_of_work(session):
        result = close_site(session, world.commune_admin_a, world.site_a.id, datetime(2027, 3, 4).date(),
                            datetime(2027, 3, 4).date(), "elections", NOW + timedelta(days=2))
    with unit_of_work(session):
        done = cancel_for_closure(session, world.commune_admin_a, result.closure.id, NOW + timedelta(days=2))
    assert [a.id for a in done.told_in_writing] == [appointment.id] and done.to_call == []
    assert run_dispatch(NOW + timedelta(days=2)).sent == 1
    cancelled = smtp_server.messages[-1]
    assert cancelled["Subject"].startswith("Rendez-vous annulé par le lieu")
    text, _, calendar = _parts(cancelled)
    assert "http://localhost/lieux/" in text
    assert calendar.get_param("method") == "CANCEL"
    event = _invitation(calendar).vevent
    assert _invitation(calendar).method.value == "CANCEL" and event.status.value == "CANCELLED"
    assert event.uid.value == f"appointment-{appointment.id}@rendez-vous-sante" and event.sequence.value == "1"

    # The one-click unsubscribe a mail app posts (RFC 8058), without our CSRF token.
    path = unsubscribe.removeprefix("http://localhost")
    assert "arrêter" in client.get(path).get_data(as_text=True)  # GET asks, changes nothing
    session.expire_all()
    assert session.get(Patient, patient.id).email_unsubscribed_at is None
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Patient, patient.id).email_unsubscribed_at is not None
    assert client.post(path.rsplit("-", 1)[0] + "-AAAAAAAAAAAAAAAA").status_code == 404


def test_after_the_one_click_stop_confirmations_go_and_reminders_do_not(session, world, smtp_server, client):
    patient = _by_email(session)
    first = _book(session, world, patient)
    run_dispatch(NOW)
    reminder = session.scalar(select(Notification).where(Notification.dedupe_key.like(
        f"appointment:{first.id}:email-reminder:%")))
    link = next(line for line in reminder.body.splitlines() if "/e/rappels/" in line).rsplit(" ", 1)[1]
    assert client.post(link.removeprefix("http://localhost")).status_code == 200
    session.expire_all()
    assert session.get(Notification, reminder.id).status == "cancelled"
    second = _book(session, world, patient, days=5)
    keys = [m.dedupe_key.split(":")[2] for m in session.scalars(select(Notification).where(
        Notification.group_key == f"appointment:{second.id}"))]
    assert keys == ["email-confirmation"]


@pytest.mark.parametrize("zone, insee, hour", [("Europe/Paris", "15171", 11), ("Indian/Reunion", "97411", 14)])
def test_a_rescheduling_sends_the_same_uid_with_a_higher_sequence_in_the_sites_time(session, world, smtp_server,
                                                                                 zone, insee, hour):
    site = world.site_a if zone == "Europe/Paris" else builders.make_site(
        session, insee, name="Point santé de Saint-Denis", postal_code="97400", time_zone=zone)
    if site is not world.site_a:
        world.practitioner_a.site_links.append(type(world.practitioner_a.site_links[0])(site=site))
    holder = builders.make_user(session, "resident")
    patient = _by_email(session, account_id=holder.id)
    appointment = _book(session, world, patient, site=site)
    later = builders.make_slot(session, world.practitioner_a, site, NOW + timedelta(days=4))
    session.commit()
    run_dispatch(NOW)
    with unit_of_work(session):
        moved = reschedule(session, holder, appointment.id, later.id, NOW)
    assert run_dispatch(NOW).sent == 1
    first, second = (_invitation(_parts(m)[2]) for m in smtp_server.messages)
    raw = _parts(smtp_server.messages[1])[2].get_payload(decode=True).decode()
    assert smtp_server.messages[1]["Subject"].startswith("Rendez-vous déplacé")
    assert second.method.value == "REQUEST" and second.vevent.uid.value == first.vevent.uid.value
    assert int(second.vevent.sequence.value) > int(first.vevent.sequence.value)
    local = second.vevent.dtstart.value
    assert f"DTSTART;TZID={zone}:" in raw and second.vtimezone.tzid.value == zone
    assert local.hour == hour and local == later.starts_at.astimezone(ZoneInfo(zone))
    assert moved.calendar_uid == appointment.event_uid


def test_a_refused_address_goes_to_the_desks_call_list_and_the_account_asks_for_another(
        session, world, smtp_server, client, auth):
    smtp_server.refused.add(ADDRESS)
    patient = _by_email(session, account_id=world.resident_a.id, first_name="Marie")
    appointment = _book(session, world, patient, days=1)
    # Reached by e-mail: not on the desk's call list.
    listed = call_list(session, world.agent_a, [world.site_a], NOW)
    assert appointment.id not in [item.appointment.id for item in listed]
    report = run_dispatch(NOW)
    assert report.failed == 1 and smtp_server.messages == []
    session.expire_all()
    patient = session.get(Patient, patient.id)
    assert "refusée" in patient.email_problem
    assert session.get(Appointment, appointment.id).reminder_channel == "none"
    pending = session.scalars(select(Notification).where(Notification.recipient == ADDRESS,
                                                         Notification.status == "pending")).all()
    assert pending == []
    listed = call_list(session, world.agent_a, [world.site_a], NOW)
    assert [(item.appointment.id, item.why) for item in listed if item.appointment.id == appointment.id] == [
        (appointment.id, "e-mail refusé par sa messagerie")]
    session.commit()
    patient_id = patient.id
    session.commit()
    with time_machine.travel(NOW, tick=False):  # the world's day, whatever the machine's clock says
        auth.login(world.resident_a.email)
        page = client.get("/compte").get_data(as_text=True).replace("\u00a0", " ").replace("\u202f", " ")
        assert f"L’adresse {ADDRESS} (Marie Durand) a été refusée" in page
        smtp_server.refused.clear()
        response = client.post(f"/personnes/{patient_id}/e-mail", data={"email": "marie.d@example.org"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Patient, patient.id).email_problem is None
    assert session.get(Appointment, appointment.id).reminder_channel == "email"
    assert run_dispatch(NOW).sent >= 1 and smtp_server.messages[0]["To"] == "marie.d@example.org"


def test_her_own_cancellation_is_confirmed_by_email_and_the_freed_slot_offered_by_email_to_who_waits(
        session, world, smtp_server):
    from booking.appointments.services import cancel_appointment
    from booking.waitlist.services import join_waitlist

    holder = builders.make_user(session, "resident")
    patient = _by_email(session, account_id=holder.id)
    waiting = _by_email(session, first_name="Louis", last_name="Bouygues", email="louis@example.org")
    appointment = _book(session, world, patient)
    day = appointment.slot.starts_at.date()
    session.commit()
    with unit_of_work(session):
        join_waitlist(session, world.agent_a, waiting.id, world.site_a.id, "medecin_generaliste", day, day, NOW)
    run_dispatch(NOW)
    with unit_of_work(session):
        cancel_appointment(session, holder, appointment.id, "patient", NOW)
    assert run_dispatch(NOW).sent == 2
    cancelled = next(m for m in smtp_server.messages if m["To"] == ADDRESS and "annulé" in m["Subject"])
    assert cancelled["Subject"].startswith("Rendez-vous annulé : jeudi 4 mars")
    assert _invitation(_parts(cancelled)[2]).method.value == "CANCEL"
    offer = next(m for m in smtp_server.messages if m["To"] == "louis@example.org")
    assert offer["Subject"].startswith("Une place s’est libérée : jeudi 4 mars")
    assert "30 minutes" in _parts(offer)[0] and "http://localhost/attente/" in _parts(offer)[0]


def test_an_sms_resident_who_asks_for_email_as_well_gets_both(session, world, smtp_server):
    patient = builders.make_patient(session, email="jeanne@example.org")
    session.commit()
    with unit_of_work(session):
        set_email(session, world.agent_a, patient.id, "Jeanne@Example.org", True, NOW)
    appointment = _book(session, world, patient)
    channels = sorted(m.channel for m in session.scalars(select(Notification).where(
        Notification.group_key == f"appointment:{appointment.id}")))
    assert appointment.reminder_channel == "sms" and channels == ["email", "email", "sms", "sms", "sms"]


def test_a_server_that_dies_mid_send_gets_the_message_once_later(session, world, smtp_server):
    patient = _by_email(session)
    appointment = _book(session, world, patient)
    smtp_server.handler.drop_data = True  # the connection is cut while the message is being sent
    report = run_dispatch(NOW)
    assert report.retried == 1 and smtp_server.messages == []
    smtp_server.handler.drop_data = False
    message = session.scalar(select(Notification).where(
        Notification.dedupe_key.like(f"appointment:{appointment.id}:email-confirmation:%")))
    session.refresh(message)
    assert message.status == "pending"
    assert run_dispatch(message.due_at).sent == 1 and run_dispatch(message.due_at).sent == 0
    assert len(smtp_server.messages) == 1


def test_a_dispatcher_killed_after_the_server_took_the_message_resends_it_with_the_same_message_id(
        session, world, smtp_server, database_url, tmp_path):
    patient = _by_email(session)
    _book(session, world, patient)
    smtp_server.handler.data_delay = 30  # the server has the message but has not said 250 yet
    session.commit()
    env = dict(os.environ, DATABASE_URL=database_url, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(smtp_server.port), MAIL_SENDER="Rendez-vous santé <rdv@mairie.example>",
               PUBLIC_BASE_URL="http://localhost", FLASK_APP="booking")
    log = tmp_path / "dispatcher.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "flask", "notifications", "dispatch", "--now",
                                    NOW.isoformat()], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert smtp_server.messages, log.read_text()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    smtp_server.handler.data_delay = 0
    assert run_dispatch(NOW + timedelta(minutes=1)).sent == 0  # within the claim's lease: left alone
    report = run_dispatch(NOW + timedelta(minutes=10))
    assert report.recovered == 1 and report.sent == 1
    first, again = smtp_server.messages
    # SMTP cannot be asked what it took: the copy carries the same Message-ID, which mail apps show once.
    assert first["Message-ID"] == again["Message-ID"] and first["Subject"] == again["Subject"]


def test_the_confirmation_page_promises_email_instead_of_notez_bien(session, world, client, auth, smtp_server):
    holder = builders.make_user(session, "resident", email="paul@example.org")
    patient = _by_email(session, account_id=holder.id, email="paul@example.org")
    appointment = _book(session, world, patient)
    session.commit()
    auth.login(holder.email)
    page = client.get(f"/rendez-vous/{appointment.id}/confirmation").get_data(as_text=True)
    page = page.replace("\u00a0", " ").replace("\u202f", " ")
    assert "par e-mail (paul@example.org)" in page and "notez bien" not in page
