"""Findings of the hardening review (issue 13): each is tested on both databases where one is involved."""

import pytest
import time_machine
from sqlalchemy import func, select

from booking.slots.models import AvailabilityRule, Slot
from tests.conftest import NOW
from tests.integration.test_api import RULE, Api, _error


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("change, field", [
    ({"rrule": "FREQ=SECONDLY"}, "rrule"),
    ({"rrule": "FREQ=MINUTELY;INTERVAL=1"}, "rrule"),
    ({"rrule": "FREQ=HOURLY"}, "rrule"),
    ({"rrule": "FREQ=YEARLY"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=1,2,3"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;INTERVAL=99;BYDAY=TU"}, "rrule"),
    ({"rrule": "FREQ=DAILY;COUNT=999999"}, "rrule"),
    ({"start_date": "0001-01-01", "until": None}, "start_date"),
    ({"start_date": "9999-12-31", "until": None}, "start_date"),
    ({"until": "9999-12-31"}, "until"),
])
def test_unbounded_rules_are_refused_naming_the_field(client, session, world, travel, change, field):
    practitioner = Api(client, session, world.practitioner_user_a)
    before = session.scalar(select(func.count(AvailabilityRule.id))), session.scalar(select(func.count(Slot.id)))
    response = practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules",
                                 {**RULE, "site_id": world.site_a.id, **change})
    error = _error(response, 422)
    assert field in error["fields"] and error["fields"][field] == error["message"]
    assert (session.scalar(select(func.count(AvailabilityRule.id))), session.scalar(select(func.count(Slot.id)))) \
        == before


def test_the_rhythms_of_the_form_are_accepted(client, session, world, travel):
    practitioner = Api(client, session, world.practitioner_user_a)
    for rrule in ("FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "FREQ=MONTHLY;BYDAY=-1FR"):
        response = practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules",
                                     {**RULE, "site_id": world.site_a.id, "rrule": rrule, "start_time": "14:00",
                                      "end_time": "14:20", "until": "2027-06-30"})
        assert response.status_code == 201, response.get_data(as_text=True)


def test_an_api_booking_refused_leaves_no_inline_patient_behind(client, session, world, travel):
    from booking.patients.models import Patient

    agent = Api(client, session, world.agent_a)
    taken = world.slot_a  # booked by the world's patient A
    before = session.scalar(select(func.count(Patient.id)))
    refused = agent.post("/appointments", {"slot_id": taken.id, "channel": "phone", "consent": True, "patient": {
        "first_name": "Léon", "last_name": "Orphelin", "birth_date": "1950-06-01", "commune_insee": "15174"}})
    assert _error(refused, 409)["code"] == "slot_unavailable"
    session.rollback()
    assert session.scalar(select(func.count(Patient.id))) == before
    assert session.scalar(select(Patient.id).where(Patient.last_name == "Orphelin")) is None


def test_taking_an_offer_books_and_closes_the_entry_in_one_commit(app, session, world):
    from datetime import timedelta

    from sqlalchemy import event

    from booking.appointments.services import cancel_appointment
    from booking.database import unit_of_work
    from booking.waitlist.models import WaitlistEntry
    from booking.waitlist.services import accept_offer, offer_token
    from tests import builders

    slot, _, booked, entry = builders.book_then_wait(session, world, NOW)
    with unit_of_work(session):  # the freed slot is offered after this commit, by the waiting list's reaction
        cancel_appointment(session, world.agent_a, booked.id, "patient", NOW)
    session.refresh(entry)
    assert entry.status == "offered" and entry.offered_slot_id == slot.id

    commits = []
    count_commit = commits.append
    event.listen(session(), "after_commit", count_commit)
    try:
        with unit_of_work(session):
            appointment = accept_offer(session, offer_token(entry), NOW + timedelta(minutes=5))
    finally:
        event.remove(session(), "after_commit", count_commit)
    assert len(commits) == 1  # the booking and the entry's new status, together
    entry = session.get(WaitlistEntry, entry.id)
    assert (entry.status, entry.appointment_id) == ("booked", appointment.id)


def test_an_unsendable_message_fails_with_its_reason_and_the_batch_goes_on(database_url, smtp_server):
    import notifications
    from booking.extensions import db
    from notifications.models import Notification
    from notifications.setup import run_dispatch
    from tests.conftest import make_app

    app = make_app(database_url, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                   MAIL_SENDER="Rendez-vous santé <rdv@example.com>")
    with app.app_context():
        try:
            notifications.enqueue(db.session, channel="email", recipient="dr.delmas@example.com",
                                  subject="Invitation à la Cabine\nde Salers", body="Bonjour.", due_at=NOW,
                                  dedupe_key="invitation:1")
            notifications.enqueue(db.session, channel="email", recipient="dr.vidal@example.com",
                                  subject="Invitation", body="Bonjour.", due_at=NOW, dedupe_key="invitation:2")
            db.session.commit()
            report = run_dispatch(NOW)
            assert (report.sent, report.failed) == (1, 1)
            broken, good = db.session.scalars(select(Notification).order_by(Notification.id)).all()
            assert broken.status == "failed" and "impossible à envoyer" in broken.last_error
            assert good.status == "sent"
            assert run_dispatch(NOW).sent == 0  # nothing left in "sending", nothing retried forever
        finally:
            db.session.remove()
            db.session.execute(Notification.__table__.delete())
            db.session.commit()
            db.engine.dispose()
    assert [m["To"] for m in smtp_server.messages] == ["dr.vidal@example.com"]


@pytest.mark.parametrize("path, data", [
    ("/gestion/sites/nouveau", {"name": "Cabine\nde Salers"}),
])
def test_control_characters_are_refused_in_every_text_field_of_the_pages(client, auth, session, world, path, data):
    from booking.sites.models import Site

    auth.login(world.commune_admin_a.email)
    before = session.scalar(select(func.count(Site.id)))
    page = client.post(path, data={"kind": "teleconsultation", "address": "Place de la mairie", "commune": "15174",
                                   "postal_code": "15140", **data})
    assert page.status_code == 422
    assert "seule ligne" in page.get_data(as_text=True)
    assert session.scalar(select(func.count(Site.id))) == before


@pytest.mark.parametrize("value, message", [("Zoé\u0000", "invisibles"), ("Zo\ud800é", "invisibles"),
                                            ("Zoé\nLefèvre", "seule ligne")])
def test_control_characters_are_refused_by_the_api(client, session, world, travel, value, message):
    agent = Api(client, session, world.agent_a)
    error = _error(agent.post("/patients", {"first_name": value, "last_name": "Lefèvre", "birth_date": "1944-05-02"}),
                   422)
    assert message in error["fields"]["first_name"]


def test_a_patient_record_shows_only_the_appointments_at_the_viewers_sites(client, auth, session, world):
    from datetime import timedelta

    from tests import builders

    elsewhere = builders.make_slot(session, world.practitioner_b, world.site_b, NOW + timedelta(days=5))
    builders.make_appointment(session, elsewhere, world.patient_a, reference="AILLEURS")
    session.commit()
    auth.login(world.agent_a.email)
    page = client.get(f"/gestion/patients/{world.patient_a.id}").get_data(as_text=True)
    assert world.appointment_a.reference in page
    assert "AILLEURS" not in page and world.site_b.name not in page
    auth.logout()
    auth.login(world.admin.email)
    assert "AILLEURS" in client.get(f"/gestion/patients/{world.patient_a.id}").get_data(as_text=True)


def test_a_practitioner_sees_only_their_own_patients_on_a_shared_day_sheet(client, auth, session, world):
    from datetime import timedelta

    from tests import builders

    colleague_user = builders.make_user(session, "practitioner")
    colleague = builders.make_practitioner(session, [world.site_a], user=colleague_user, last_name="Collègue")
    theirs = builders.make_slot(session, colleague, world.site_a, world.slot_a.starts_at + timedelta(hours=1))
    stranger = builders.make_patient(session, first_name="Gaston", last_name="Inconnu-Ailleurs")
    builders.make_appointment(session, theirs, stranger)
    session.commit()
    day = world.slot_a.starts_at.date().isoformat()
    auth.login(world.practitioner_user_a.email)
    page = client.get(f"/gestion/sites/{world.site_a.id}/journee?jour={day}").get_data(as_text=True)
    assert world.patient_a.last_name in page and "Inconnu-Ailleurs" not in page
    auth.logout()
    auth.login(world.agent_a.email)
    page = client.get(f"/gestion/sites/{world.site_a.id}/journee?jour={day}").get_data(as_text=True)
    assert world.patient_a.last_name in page and "Inconnu-Ailleurs" in page


def test_the_per_account_login_limit_counts_the_account_however_it_is_typed(database_url, caplog):
    from booking.extensions import db, limiter
    from tests import builders
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
        user = builders.make_user(db.session, "resident", email=None, phone="+33611223344")
        db.session.commit()
        client = app.test_client()
        spellings = ["0611223344", "+33611223344", "06 11 22 33 44", "0033611223344"]
        try:
            for i in range(100):
                client.post("/connexion", data={"login": spellings[i % 4], "password": "faux"},
                            environ_base={"REMOTE_ADDR": f"10.1.{i // 20}.{i % 20 + 1}"})
            blocked = client.post("/connexion", data={"login": "06.11.22.33.44", "password": builders.PASSWORD},
                                  environ_base={"REMOTE_ADDR": "192.0.2.51"})
            assert blocked.status_code == 429
            stored = " ".join(str(key) for key in limiter.storage.storage)
            assert "611223344" not in stored and "611223344" not in caplog.text
        finally:
            limiter.reset()
            db.session.remove()
            db.session.execute(user.__table__.delete())
            db.session.commit()
            db.engine.dispose()


def test_with_redis_down_pages_and_api_still_answer_and_health_says_which_is_down(database_url, caplog):
    from booking.extensions import db
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    with app.app_context():
        try:
            client = app.test_client()
            statuses = [client.post("/connexion", data={"login": "personne@example.test", "password": "faux"})
                        .status_code for _ in range(21)]
            assert statuses[:20] == [200] * 20 and statuses[20] == 429  # counted in memory meanwhile
            assert client.get("/recherche?commune=Salers").status_code == 200
            assert client.get("/api/v1/communes?q=salers").status_code == 200
            assert caplog.text.count("falling back to in-memory storage") == 1
            health = client.get("/sante")
            assert health.status_code == 503
            assert health.get_json() | {} == {"status": "dégradé", "database": "ok",
                                              "rate_limit_store": "injoignable"}
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("path, json", [("/connexion", False), ("/compte", False), ("/api/v1/sites/1", True)])
def test_with_the_database_down_signed_in_users_get_a_french_503(app, client, auth, world, path, json):
    from tests.conftest import make_app

    auth.login(world.resident_a.email)
    cookie = client.get_cookie("session")
    broken = make_app("postgresql+psycopg://postgres@127.0.0.1:9/absent",
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}})
    visitor = broken.test_client()
    visitor.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    page = visitor.get(path)
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    if json:
        assert page.get_json()["error"]["code"] == "unavailable"
    else:
        text = page.get_data(as_text=True)
        assert "momentanément indisponible" in text and "Se connecter" in text


def test_pages_with_personal_data_are_never_stored_by_a_browser_or_proxy(client, auth, session, world):
    from booking.appointments.links import cancel_token

    link = f"/a/{cancel_token('tests-only-secret-key', world.appointment_a.id, world.appointment_a.reference)}"
    with time_machine.travel(NOW, tick=False):  # the link lives until the appointment
        anonymous = client.get(link)
    assert anonymous.status_code == 200 and anonymous.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")  # public and the same for all
    auth.login(world.resident_a.email)
    for path in ("/", "/recherche?commune=Salers", "/compte", f"/rendez-vous/{world.appointment_a.id}"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


@pytest.mark.parametrize("password", ["motdepasse123", "azertyuiop", "aaaaaaaaaaaa", "1234567890", "Delpuech1980"])
def test_common_and_trivial_passwords_are_refused_beside_the_field(client, session, password):
    from booking.auth.models import User

    page = client.post("/inscription", data={
        "first_name": "Camille", "last_name": "Delpuech", "birth_date": "1980-06-01",
        "commune": "Saint-Bonnet-de-Salers", "email": "camille@example.org", "password": password,
        "confirm": password, "sms_consent": "y"})
    assert page.status_code == 422 and "trop courant ou trop prévisible" in page.get_data(as_text=True)
    assert session.scalar(select(User.id).where(User.email == "camille@example.org")) is None


def test_access_logs_mask_secret_links_and_personal_searches(app):
    import logging

    from booking.logs import RedactUrls

    lines = {
        "GET /a/12-Zk3vQ9xYbTq1wE7r HTTP/1.1": "GET /a/… HTTP/1.1",
        "GET /attente/7-aBcDeFgHiJkLmNoP HTTP/1.1": "GET /attente/… HTTP/1.1",
        "GET /invitation/Qw3rTy_uIoP HTTP/1.1": "GET /invitation/… HTTP/1.1",
        "GET /agenda/s3cr3t-t0k3n.ics HTTP/1.1": "GET /agenda/… HTTP/1.1",
        "GET /mot-de-passe/3-ImZvbyI.aBc_dEf HTTP/1.1": "GET /mot-de-passe/… HTTP/1.1",
        "POST /avis/217-Zk3vQ9xYbTq1wE7r HTTP/1.1": "POST /avis/… HTTP/1.1",
        "GET /accueil?last_name=Lef%C3%A8vre&birth_date=02%2F05%2F1944 HTTP/1.1": "GET /accueil?… HTTP/1.1",
        "GET /api/v1/patients?last_name=Puech&birth_date=1938-08-08 HTTP/1.1": "GET /api/v1/patients?… HTTP/1.1",
        "GET /recherche?commune=Salers HTTP/1.1": "GET /recherche?commune=Salers HTTP/1.1",
    }
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, RedactUrls) for f in logging.getLogger(name).filters)
    werkzeug_style = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
                                       ("127.0.0.1", "now", "", "200", "-"), None)
    for typed, shown in lines.items():
        werkzeug_style.args = ("127.0.0.1", "now", typed, "200", "-")
        RedactUrls().filter(werkzeug_style)
        assert werkzeug_style.getMessage() == f'127.0.0.1 - - [now] "{shown}" 200 -'
        gunicorn_style = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s"',
                                           None, None)
        gunicorn_style.args = {"h": "127.0.0.1", "r": typed}
        RedactUrls().filter(gunicorn_style)
        assert gunicorn_style.getMessage() == f'127.0.0.1 "{shown}"'


def test_database_errors_do_not_carry_the_values_into_the_logs(database_url, caplog):
    from booking.auth.models import User
    from booking.extensions import db
    from tests import builders
    from tests.conftest import make_app

    app = make_app(database_url)

    @app.route("/test-only/duplicate")
    def duplicate():
        db.session.add(User(role="resident", email="double@example.test", phone="+33699887766", display_name="X",
                            password_hash="x"))
        db.session.flush()
        return "not reached"

    with app.app_context():
        try:
            builders.make_user(db.session, "resident", email="double@example.test")
            db.session.commit()
            assert app.test_client().get("/test-only/duplicate").status_code == 500
            assert "IntegrityError" in caplog.text or "UniqueViolation" in caplog.text
            assert "+33699887766" not in caplog.text and "double@example.test" not in caplog.text
        finally:
            db.session.remove()
            db.session.execute(User.__table__.delete())
            db.session.commit()
            db.engine.dispose()


def test_the_log_sms_backend_hides_links_and_codes(caplog):
    import logging

    from notifications.sms import LogSmsBackend

    caplog.set_level(logging.INFO)
    body = "RDV mar. 9 mars 10h, Cabine de Saint-Bonnet, réf. ZNF-RM7. Annuler : https://rdv.example.fr/a/12-Zk3vQ9"
    LogSmsBackend().send("+33612345678", body, None)
    # Date, place and reference are personal too: by default the log says that a message left, not what it said.
    for secret in ("9 mars", "Saint-Bonnet", "ZNF-RM7", "Zk3vQ9", "+33612345678"):
        assert secret not in caplog.text
    assert "+33•••••••78" in caplog.text and f"{len(body)} caractères" in caplog.text
    caplog.clear()
    LogSmsBackend(full=True).send("+33612345678", body, None)  # a developer's own machine (SMS_LOG_FULL=1)
    assert body in caplog.text


@pytest.mark.twilio
def test_a_relatives_own_mobile_gets_sms_only_after_answering_oui(twilio_app, twilio_stub, session, world):
    from booking.accounts.services import add_relative
    from booking.appointments.messages import can_receive_sms
    from booking.database import unit_of_work
    from booking.patients.models import Patient
    from booking.patients.services import PatientInput
    from notifications.gsm import segments
    from notifications.models import Notification
    from tests.integration.test_notifications import _signed_post

    with unit_of_work(session):  # an account with an email only types a mobile for a "relative"
        relative = add_relative(session, world.resident_a, PatientInput(
            "Léon", "Lefèvre", None, "15174", phone="06 98 76 54 32", sms_consent=True,
            relationship_label="père"), NOW)
    assert not can_receive_sms(relative) and relative.sms_confirmation_asked_at == NOW
    (ask,) = session.scalars(select(Notification).where(Notification.recipient == "+33698765432")).all()
    assert "répondez OUI" in ask.body and segments(ask.body) == 1
    client = twilio_app.test_client()
    stranger = _signed_post(client, "/notifications/twilio/inbound",
                            {"MessageSid": "SM-oui-1", "From": "+33611111111", "Body": "oui"})
    assert "ANNULER" in stranger.get_data(as_text=True)  # nothing pending there: the help text
    answer = _signed_post(client, "/notifications/twilio/inbound",
                          {"MessageSid": "SM-oui-2", "From": "+33698765432", "Body": "Oui !"})
    assert "Merci" in answer.get_data(as_text=True)
    session.expire_all()
    relative = session.get(Patient, relative.id)
    assert can_receive_sms(relative) and relative.sms_confirmation_asked_at is None


def test_a_relative_on_the_holders_verified_mobile_needs_no_confirmation(session, world):
    from booking.accounts.services import add_relative
    from booking.appointments.messages import can_receive_sms
    from booking.database import unit_of_work
    from booking.patients.services import PatientInput

    world.resident_a.phone, world.resident_a.phone_verified_at = "+33600000123", NOW
    session.commit()
    with unit_of_work(session):
        child = add_relative(session, world.resident_a, PatientInput("Lou", "Lefèvre", None, "15174",
                                                                     relationship_label="fille"), NOW)
    assert child.phone == "+33600000123" and can_receive_sms(child) and child.sms_confirmation_asked_at is None


@pytest.mark.parametrize("start, until, field", [("0001-01-01", "", "start_date"), ("2027-03-02", "9999-12-31",
                                                                                    "until")])
def test_the_publication_form_shows_the_date_limits_beside_their_field(client, auth, session, world, travel,
                                                                      start, until, field):
    import re

    auth.login(world.practitioner_user_a.email)
    page = client.post("/praticien/disponibilites/nouvelle", data={
        "site_id": world.site_a.id, "frequency": "weekly", "position": "1", "days": ["TU"],
        "start_date": start, "until": until, "start_time": "14:00", "end_time": "15:00", "slot_minutes": "20",
        "buffer_minutes": "0", "capacity": "1", "modality": "on_site", "room_id": "0",
        "opens_days_ahead": "60", "closes_hours_before": "2"})
    assert page.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', page.get_data(as_text=True))
    assert error and "doit" in error.group(1)
    assert session.scalar(select(func.count(AvailabilityRule.id))) == 0
