"""The outbox, the dispatcher and the Twilio webhooks, against a local Twilio-compatible server."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from booking.appointments.models import Appointment
from booking.appointments.services import book_slot, cancel_appointment
from booking.database import unit_of_work
from booking.extensions import db
from booking.patients.models import Patient
from notifications.gsm import is_gsm7, segments
from notifications.models import Notification, SmsOptOut
from notifications.setup import run_dispatch
from tests import builders
from tests.conftest import TWILIO

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # Monday, 11:00 in Paris


def _book(session, world, days=3, patient=None, **slot_overrides):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=days),
                              **slot_overrides)
    session.commit()
    with unit_of_work(session):
        return book_slot(session, slot_id=slot.id, patient_id=(patient or world.patient_a).id, channel="online",
                         now=NOW)


def _queue_sms(session, count, key):
    """Add ``count`` distinct SMS due at NOW, to distinct numbers (their dedupe keys start with ``key``)."""
    session.add_all([Notification(channel="sms", recipient=f"+3363998{i:04d}", body=f"Message n° {i}", due_at=NOW,
                                  dedupe_key=f"{key}:{i}") for i in range(count)])


def _messages(session, **filters):
    query = select(Notification).order_by(Notification.due_at, Notification.id)
    for name, value in filters.items():
        query = query.where(getattr(Notification, name) == value)
    return list(session.scalars(query))


def test_booking_queues_a_confirmation_and_reminders_in_its_transaction(app, session, world):
    appointment = _book(session, world)
    kinds = [m.dedupe_key.rsplit(":", 1)[1] for m in _messages(session, group_key=f"appointment:{appointment.id}")]
    assert kinds == ["confirmation", "reminder", "reminder-short"]
    confirmation = _messages(session)[0]
    assert confirmation.recipient == "+33600000001" and confirmation.due_at == NOW


def test_sms_say_when_where_and_how_to_cancel_but_nothing_medical(app, session, world):
    world.practitioner_a.profession, world.practitioner_a.specialty = "ophtalmologue", "rétine"
    appointment = _book(session, world)
    appointment.reason = "baisse de la vue"
    session.commit()
    for message in _messages(session, group_key=f"appointment:{appointment.id}"):
        body = message.body
        assert appointment.reference in body and "mars" in body and "Cabine de Saint-Bonnet" in body
        assert "http://localhost/a/" in body
        for secret in ("vue", "ophtalmo", "rétine", world.practitioner_a.last_name, world.patient_a.last_name):
            assert secret.lower() not in body.lower()
        assert is_gsm7(body) and segments(body) == 1, body


def test_no_sms_without_a_mobile_or_consent(app, session, world):
    landline = builders.make_patient(session, phone="+33471400000", phone_kind="landline")
    no_consent = builders.make_patient(session, sms_consent=False)
    no_phone = builders.make_patient(session, phone=None, phone_kind=None)
    for days, patient in enumerate((landline, no_consent, no_phone), start=3):
        _book(session, world, days=days, patient=patient)
    assert _messages(session, channel="sms") == []
    assert [m.recipient for m in _messages(session)] == ["+33471400000"]  # the landline gets a call instead


@pytest.mark.twilio
def test_the_request_twilio_gets(twilio_app, twilio_stub, session, world):
    _book(session, world)
    report = run_dispatch(NOW)
    assert report.sent == 1
    (request,) = twilio_stub.posts()
    assert request.path == f"/2010-04-01/Accounts/{TWILIO['TWILIO_ACCOUNT_SID']}/Messages.json"
    assert request.auth == (TWILIO["TWILIO_ACCOUNT_SID"], TWILIO["TWILIO_AUTH_TOKEN"])
    assert request.form["To"] == "+33600000001"
    assert request.form["MessagingServiceSid"] == TWILIO["TWILIO_MESSAGING_SERVICE_SID"]
    assert request.form["StatusCallback"] == "http://localhost/notifications/twilio/status"
    assert request.form["Body"].startswith("RDV confirmé")
    sent = _messages(session, status="sent")[0]
    assert sent.provider_id.startswith("SM") and sent.attempts == 1


@pytest.mark.twilio
def test_dispatch_twice_sends_each_message_once(twilio_app, twilio_stub, session, world):
    _book(session, world)
    run_dispatch(NOW)
    run_dispatch(NOW)
    later = NOW + timedelta(days=3)
    run_dispatch(later)
    run_dispatch(later)
    bodies = [r.form["Body"] for r in twilio_stub.posts()]
    assert len(bodies) == 3 and len(set(bodies)) == 2  # confirmation and two identical-text reminders
    assert {m.status for m in _messages(session)} == {"sent"}


@pytest.mark.twilio
def test_two_dispatchers_at_once_send_each_message_once(twilio_app, twilio_stub, session, world):
    for days in range(3, 13):
        _book(session, world, days=days, patient=builders.make_patient(session, phone=f"+336000000{days:02d}"))
    session.remove() if hasattr(session, "remove") else None
    twilio_stub.delay_seconds = 0.01
    errors = []

    def run():
        try:
            with twilio_app.app_context():
                run_dispatch(NOW)
                db.session.remove()
        except Exception as error:  # pragma: no cover - surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    recipients = [r.form["To"] for r in twilio_stub.posts()]
    assert len(recipients) == 10 and len(set(recipients)) == 10
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.status == "sent")) == 10


@pytest.mark.twilio
def test_a_server_error_is_retried_and_sent_once(twilio_app, twilio_stub, session, world):
    twilio_stub.responses = [(500, {"code": 20500, "message": "Internal", "status": 500})]
    _book(session, world)
    report = run_dispatch(NOW)
    assert report.retried == 1 and report.sent == 0
    message = _messages(session)[0]
    assert message.status == "pending" and message.due_at == NOW + timedelta(minutes=1)
    assert run_dispatch(NOW + timedelta(seconds=30)).sent == 0  # not before its backoff
    assert run_dispatch(NOW + timedelta(minutes=1)).sent == 1
    assert len(twilio_stub.posts()) == 2
    assert session.get(Notification, message.id).status == "sent"


@pytest.mark.twilio
def test_too_many_transient_failures_end_in_failed(twilio_app, twilio_stub, session, world):
    twilio_stub.responses = [(503, {"code": 20503, "message": "Unavailable", "status": 503})] * 10
    _book(session, world)
    moment = NOW
    for _ in range(8):
        run_dispatch(moment)
        moment += timedelta(hours=1)
    confirmation = _messages(session,
                             dedupe_key=f"appointment:{_messages(session)[0].group_key.split(':')[1]}:confirmation")[0]
    assert confirmation.status == "failed" and confirmation.attempts == 6


@pytest.mark.twilio
def test_an_invalid_number_fails_at_once_and_is_flagged(twilio_app, twilio_stub, session, world):
    twilio_stub.responses = [(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})]
    _book(session, world)
    report = run_dispatch(NOW)
    assert report.failed == 1 and report.retried == 0
    message = _messages(session)[0]
    assert message.status == "failed" and message.error_code == "21211"
    assert "code 21211" in session.get(Patient, world.patient_a.id).phone_problem
    assert len(twilio_stub.posts()) == 1


@pytest.mark.twilio
def test_a_cancelled_appointments_reminder_is_never_sent(twilio_app, twilio_stub, session, world):
    appointment = _book(session, world)
    run_dispatch(NOW)
    with unit_of_work(session):
        cancel_appointment(session, world.resident_a, appointment.id, "patient", NOW + timedelta(minutes=5))
    run_dispatch(NOW + timedelta(days=5))
    bodies = [r.form["Body"] for r in twilio_stub.posts()]
    assert [b.split()[0] for b in bodies] == ["RDV", "Votre"]  # confirmation, then the cancellation
    assert "est bien annulé" in bodies[1]


@pytest.mark.twilio
def test_logs_hold_no_full_number_no_body_no_token(twilio_app, twilio_stub, session, world, caplog):
    twilio_stub.responses = [(400, {"code": 21211, "message": "bad", "status": 400})]
    appointment = _book(session, world)
    caplog.set_level("DEBUG")
    run_dispatch(NOW)
    text = caplog.text
    assert "+33600000001" not in text and appointment.reference not in text and "/a/" not in text


def _signed_post(client, path, form, token=TWILIO["TWILIO_AUTH_TOKEN"]):
    url = "http://localhost" + path
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.twilio
def test_signed_status_callbacks_are_applied_and_others_refused(twilio_app, twilio_stub, session, world):
    _book(session, world)
    run_dispatch(NOW)
    sid = _messages(session, status="sent")[0].provider_id
    client = twilio_app.test_client()
    form = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert client.post("/notifications/twilio/status", data=form).status_code == 403
    assert _signed_post(client, "/notifications/twilio/status", form, token="wrong").status_code == 403
    assert _signed_post(client, "/notifications/twilio/status", form).status_code == 204
    assert _signed_post(client, "/notifications/twilio/status", {"MessageSid": sid,
                                                                 "MessageStatus": "sent"}).status_code == 204
    assert _messages(session, provider_id=sid)[0].status == "delivered"  # a late "sent" does not step back


@pytest.mark.twilio
def test_an_undelivered_callback_with_a_permanent_code_flags_the_phone(twilio_app, twilio_stub, session, world):
    _book(session, world)
    run_dispatch(NOW)
    sid = _messages(session, status="sent")[0].provider_id
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert _signed_post(twilio_app.test_client(), "/notifications/twilio/status", form).status_code == 204
    assert "30006" in session.get(Patient, world.patient_a.id).phone_problem


@pytest.mark.twilio
def test_annuler_cancels_the_next_appointment_once(twilio_app, session, world):
    first = _book(session, world, days=3)
    second = _book(session, world, days=10)
    client = twilio_app.test_client()
    form = {"MessageSid": "SMinbound1", "From": "+33600000001", "Body": "  annuler "}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("notifications.webhooks.datetime", _FrozenDatetime)
        reply = _signed_post(client, "/notifications/twilio/inbound", form)
        again = _signed_post(client, "/notifications/twilio/inbound", form)
    assert reply.mimetype == "text/xml" and "est bien annulé" in reply.get_data(as_text=True)
    assert again.get_data() == reply.get_data()
    session.expire_all()
    # The world's appointment (in two days) is the patient's next one.
    assert session.get(Appointment, world.appointment_a.id).status == "cancelled"
    assert session.get(Appointment, first.id).status == "booked"
    assert session.get(Appointment, second.id).status == "booked"


@pytest.mark.twilio
def test_stop_opts_out_and_anything_else_gets_help(twilio_app, session, world):
    _book(session, world)
    client = twilio_app.test_client()
    help_reply = _signed_post(client, "/notifications/twilio/inbound",
                              {"MessageSid": "SM1", "From": "+33600000001", "Body": "Bonjour ?"})
    assert "ANNULER" in help_reply.get_data(as_text=True)
    stop = _signed_post(client, "/notifications/twilio/inbound", {"MessageSid": "SM2", "From": "+33600000001",
                                                                   "Body": "Arrêt"})
    assert "plus de SMS" in stop.get_data(as_text=True)
    assert session.get(SmsOptOut, "+33600000001") is not None
    assert session.get(Patient, world.patient_a.id).sms_opted_out_at is not None
    assert {m.status for m in _messages(session)} == {"cancelled"}


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


def test_email_goes_through_a_real_smtp_server(database_url, smtp_server, session):
    import notifications
    from tests.conftest import make_app

    app = make_app(database_url, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                   MAIL_SENDER="Rendez-vous santé <rdv@example.com>")
    with app.app_context():
        notifications.enqueue(db.session, channel="email", recipient="dr.delmas@example.com", subject="Invitation",
                              body="Bonjour, voici l’invitation.", due_at=NOW, dedupe_key="invitation:1")
        db.session.commit()
        assert run_dispatch(NOW).sent == 1
        assert run_dispatch(NOW).sent == 0
        db.session.remove()
        db.session.execute(Notification.__table__.delete())
        db.session.commit()
        db.engine.dispose()
    (message,) = smtp_server.messages
    assert message["To"] == "dr.delmas@example.com" and message["Subject"] == "Invitation"
    assert "l’invitation" in message.get_payload(decode=True).decode()


@pytest.mark.twilio
def test_a_dispatcher_killed_mid_send_causes_no_duplicate(twilio_app, twilio_stub, session, world, database_url,
                                                           tmp_path):
    _book(session, world)
    confirmation_id = _messages(session)[0].id
    twilio_stub.delay_seconds = 30  # "Twilio" has accepted the message but has not answered yet
    env = dict(os.environ, DATABASE_URL=database_url, SMS_BACKEND="twilio", TWILIO_API_BASE_URL=twilio_stub.url,
               PUBLIC_BASE_URL="http://localhost", FLASK_APP="booking", **TWILIO)
    command = [sys.executable, "-m", "flask", "notifications", "dispatch", "--now", NOW.isoformat()]
    session.commit()  # end our transaction: on SQLite it holds the write lock
    log = tmp_path / "dispatcher.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not twilio_stub.posts() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert twilio_stub.posts(), log.read_text()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    twilio_stub.delay_seconds = 0
    session.expire_all()
    assert session.get(Notification, confirmation_id).status == "sending"
    assert run_dispatch(NOW + timedelta(minutes=1)).sent == 0  # still within the claim's lease: left alone
    report = run_dispatch(NOW + timedelta(minutes=10))
    assert report.recovered == 1
    message = session.get(Notification, confirmation_id)
    assert message.status == "sent" and message.provider_id == twilio_stub.accepted[0]["sid"]
    assert len(twilio_stub.posts()) == 1


@pytest.mark.parametrize("backend, loaded", [("twilio", [True, True]), ("log", [False, False])])
def test_the_scheduler_loads_what_its_senders_use_once_and_a_web_worker_never(backend, loaded, tmp_path):
    # The sending processes are forked from the scheduler every busy minute: what it loaded, they inherit.
    modules = ("aiohttp", "twilio.rest.api.v2010.account.message")
    code = "\n".join([
        "import json, sys",
        "from booking import create_app",
        "from notifications.setup import prepare_dispatch",
        "app = create_app()",
        f"web = [name in sys.modules for name in {modules!r}]",
        "with app.app_context():",
        "    prepare_dispatch()",
        f"print(json.dumps([web, [name in sys.modules for name in {modules!r}]]))"])
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", SMS_BACKEND=backend,
               TWILIO_API_BASE_URL="http://127.0.0.1:9", **TWILIO)
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    web, scheduler = json.loads(output.stdout.strip().splitlines()[-1])
    assert web == [False, False] and scheduler == loaded


def test_a_scheduler_with_twilio_unconfigured_still_starts(app):
    from notifications.setup import prepare_dispatch, run_dispatch

    app.config.update(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="")
    prepare_dispatch()  # the slot horizon, the reports… still run; the dispatch says what is missing
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        run_dispatch(NOW)


def test_the_sms_cancel_link_works_once_without_login(app, session, world):
    from booking.appointments.messages import cancel_url

    appointment = _book(session, world)
    path = cancel_url(appointment).removeprefix("http://localhost")
    client = app.test_client()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("booking.appointments.views.now", lambda: NOW)
        page = client.get(path)
        assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
        assert appointment.reference in page.get_data(as_text=True)
        done = client.post(path)
        assert "Votre rendez-vous est annulé" in done.get_data(as_text=True)
        assert client.get(path).status_code == 404  # single use
        assert client.get(path[:-3] + "xyz").status_code == 404  # forged
    session.expire_all()
    assert session.get(Appointment, appointment.id).status == "cancelled"
    assert session.get(Appointment, appointment.id).cancel_reason == "patient"


def test_the_cancel_link_dies_when_the_appointment_begins(app, session, world):
    from booking.appointments.messages import cancel_url

    appointment = _book(session, world)
    path = cancel_url(appointment).removeprefix("http://localhost")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("booking.appointments.views.now", lambda: appointment.slot.starts_at)
        assert app.test_client().get(path).status_code == 404


@pytest.mark.twilio
def test_a_booking_succeeds_while_the_sms_provider_is_down(twilio_app, twilio_stub, session, world):
    twilio_stub.stop()
    appointment = _book(session, world)
    assert appointment.status == "booked"
    report = run_dispatch(NOW)
    assert report.retried == 1 and report.sent == 0
    assert _messages(session)[0].status == "pending"


def test_the_commune_outbox_page(app, client, auth, session, world):
    appointment = _book(session, world)
    message = _messages(session)[0]
    message.status, message.error_code, message.last_error = "failed", "21211", "HTTP 400 (21211)"
    world.patient_a.phone_problem = "SMS impossible (code 21211) : numéro à vérifier."
    session.commit()
    auth.login(world.agent_a.email)
    page = client.get(f"/gestion/communes/{world.site_a.commune_insee}/messages").get_data(as_text=True)
    assert appointment.reference in page and "code 21211" in page and world.patient_a.full_name in page
    assert "06\xa000\xa000\xa000\xa001" in page  # a phone number never breaks across lines
    auth.logout()
    auth.login(world.agent_b.email)
    assert client.get(f"/gestion/communes/{world.site_a.commune_insee}/messages").status_code == 404


def test_reminder_for_a_slot_just_after_the_spring_change(app, session, world):
    # Sunday 28 March 2027, 09:00 in Paris, hours after the clocks went forward.
    slot_start = datetime(2027, 3, 28, 7, 0, tzinfo=UTC)
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, slot_start)
    session.commit()
    with unit_of_work(session):
        appointment = book_slot(session, slot_id=slot.id, patient_id=world.patient_a.id, channel="online", now=NOW)
    reminder = _messages(session, dedupe_key=f"appointment:{appointment.id}:reminder")[0]
    assert reminder.due_at == datetime(2027, 3, 27, 8, 0, tzinfo=UTC)  # Saturday 09:00 in Paris


def test_the_second_reminder_is_optional(app, session, world):
    world.site_a.second_reminder_hours = None
    appointment = _book(session, world)
    kinds = [m.dedupe_key.rsplit(":", 1)[1] for m in _messages(session, group_key=f"appointment:{appointment.id}")]
    assert kinds == ["confirmation", "reminder"]


@pytest.mark.twilio
def test_a_batch_is_sent_several_at_a_time_and_still_once_each(twilio_app, twilio_stub, session, world):
    for days in range(3, 23):
        _book(session, world, days=days, patient=builders.make_patient(session, phone=f"+336000001{days:02d}"))
    twilio_stub.delay_seconds = 0.05  # a real provider's answer time
    report = run_dispatch(NOW)
    assert report.sent == 20
    assert twilio_stub.most_in_flight > 1  # the provider was kept busy with several requests at once
    recipients = [r.form["To"] for r in twilio_stub.posts()]
    assert len(recipients) == 20 and len(set(recipients)) == 20
    assert {m.status for m in _messages(session) if m.due_at <= NOW} == {"sent"}


@pytest.mark.twilio
def test_hundreds_due_are_shared_between_processes_and_sent_once_each(twilio_app, twilio_stub, session,
                                                                       database_url):
    from notifications.dispatcher import BATCH, SEND_CONCURRENCY

    # Five batches: a process holds at most two at a time (one sending, the next claimed), so the first one
    # started cannot have claimed them all before the second one starts.
    due = 5 * BATCH
    _queue_sms(session, due, "processes")
    session.add(Notification(channel="sms", recipient="+33639980001", body="Plus tard", due_at=NOW + timedelta(days=1),
                             dedupe_key="processes:later"))
    session.commit()
    twilio_stub.delay_seconds = 0.05  # a real provider's answer time
    report = run_dispatch(NOW, processes=2)
    assert (report.sent, report.failed, report.errors) == (due, 0, [])
    bodies = [r.form["Body"] for r in twilio_stub.posts()]
    assert len(bodies) == len(set(bodies)) == due
    session.expire_all()
    sent = _messages(session, status="sent")
    assert len(sent) == due and {m.provider_id for m in sent} == {a["sid"] for a in twilio_stub.accepted}
    senders = {m.claimed_by for m in sent}
    if database_url.startswith("sqlite"):  # writes take turns: no gain in forking
        assert senders == {f"{socket.gethostname()}:{os.getpid()}"}
    else:
        assert len(senders) == 2 and f"{socket.gethostname()}:{os.getpid()}" not in senders
    assert twilio_stub.most_in_flight <= SEND_CONCURRENCY  # the provider's limit holds for all processes at once
    assert _messages(session, status="pending")[0].dedupe_key == "processes:later"


@pytest.mark.twilio
def test_a_limit_is_shared_between_the_processes(twilio_app, twilio_stub, session):
    from notifications.dispatcher import BATCH

    _queue_sms(session, 3 * BATCH, "limit")
    session.commit()
    report = run_dispatch(NOW, limit=2 * BATCH + 1, processes=2)
    assert report.sent == len(twilio_stub.posts()) == 2 * BATCH + 1
    session.expire_all()
    assert len(_messages(session, status="pending")) == BATCH - 1
    claims = {}
    for message in _messages(session, status="sent"):
        claims[message.claimed_by] = claims.get(message.claimed_by, 0) + 1
    assert sorted(claims.values()) in ([2 * BATCH + 1], [BATCH, BATCH + 1])  # here, or shared out


@pytest.mark.twilio
def test_a_sending_process_killed_mid_send_causes_no_duplicate(twilio_app, twilio_stub, session, database_url):
    from notifications.dispatcher import BATCH, SEND_CONCURRENCY, batch_size

    if database_url.startswith("sqlite"):
        pytest.skip("on SQLite the messages are sent by the dispatcher itself, without processes")
    due = 5 * BATCH
    _queue_sms(session, due, "killed")
    session.commit()
    twilio_stub.delay_seconds = 0.2
    reports = []

    def run():
        with twilio_app.app_context():
            reports.append(run_dispatch(NOW, processes=2))
            db.session.remove()

    dispatcher = threading.Thread(target=run)
    dispatcher.start()
    deadline = time.monotonic() + 60
    senders = set()
    while len(senders) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        senders = set(session.scalars(select(Notification.claimed_by).where(Notification.status == "sending")))
        session.commit()
    assert len(senders) == 2
    killed = sorted(senders)[0]
    os.kill(int(killed.rsplit(":", 1)[1]), signal.SIGKILL)
    dispatcher.join(timeout=120)
    (report,) = reports
    assert len(report.errors) == 1 and "arrêté" in report.errors[0]
    left = session.scalar(select(func.count()).where(Notification.claimed_by == killed,
                                                     Notification.status == "sending"))
    assert left > 0 and report.sent == due - left
    assert left <= 2 * batch_size(SEND_CONCURRENCY // 2)  # it held two batches at most, not all it could claim
    twilio_stub.delay_seconds = 0
    later = run_dispatch(NOW + timedelta(minutes=10), processes=2)
    assert later.recovered == left and later.errors == []
    session.expire_all()
    assert {m.status for m in _messages(session)} == {"sent"}
    bodies = [m["body"] for m in twilio_stub.accepted]
    assert len(bodies) == len(set(bodies)) == due  # each message accepted by the provider once


@pytest.mark.twilio
def test_a_number_that_answered_stop_gets_nothing_queued_before(twilio_app, twilio_stub, session):
    session.add(SmsOptOut(phone="+33639980001"))
    session.add_all([Notification(channel="sms", recipient=phone, body="Rappel", due_at=NOW, dedupe_key=f"stop:{phone}")
                     for phone in ("+33639980001", "+33639980002")])
    session.commit()
    report = run_dispatch(NOW)
    assert (report.sent, report.skipped) == (1, 1)
    assert [r.form["To"] for r in twilio_stub.posts()] == ["+33639980002"]
    session.expire_all()
    stopped = _messages(session, recipient="+33639980001")[0]
    assert (stopped.status, stopped.last_error) == ("cancelled", "STOP reçu")


@pytest.mark.twilio
def test_a_provider_slower_than_the_timeout_gets_the_message_again_later(twilio_app, twilio_stub, session):
    from notifications.dispatcher import dispatch
    from notifications.mail import LogMailBackend
    from notifications.sms import TwilioSmsBackend

    session.add(Notification(channel="sms", recipient="+33639980001", body="Rappel", due_at=NOW, dedupe_key="slow"))
    session.commit()
    twilio_stub.delay_seconds = 2
    backend = TwilioSmsBackend(TWILIO["TWILIO_ACCOUNT_SID"], TWILIO["TWILIO_AUTH_TOKEN"],
                               TWILIO["TWILIO_MESSAGING_SERVICE_SID"], api_base_url=twilio_stub.url, timeout=0.3)
    report = dispatch(session, NOW, sms_backend=backend, mail_backend=LogMailBackend())
    assert (report.sent, report.retried) == (0, 1) and "Timeout" in report.errors[0]
    session.expire_all()
    (message,) = _messages(session)
    assert message.status == "pending" and message.due_at > NOW  # tried again after its back-off
