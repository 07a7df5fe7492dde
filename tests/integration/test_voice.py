"""Reminders for residents without a mobile: calls to landlines, a caregiver's SMS, against a Twilio stub."""

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from booking.appointments.models import Appointment
from booking.appointments.services import book_slot
from booking.database import unit_of_work
from booking.extensions import db
from booking.slots.models import Slot
from notifications.gsm import segments, to_gsm7
from notifications.models import Notification
from notifications.setup import run_dispatch
from tests import builders
from tests.conftest import TWILIO

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # Monday, 11:00 in Paris
PARIS = ZoneInfo("Europe/Paris")


def _landline(session, **changes):
    values = {"first_name": "Odette", "last_name": "Vermenouze", "phone": "+33471401234", "phone_kind": "landline",
              "sms_consent": False, **changes}
    return builders.make_patient(session, **values)


def _book(session, world, patient, starts_at, reason=None):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, starts_at)
    session.commit()
    with unit_of_work(session):
        booked = book_slot(session, slot_id=slot.id, patient_id=patient.id, channel="reception", now=NOW,
                           reason=reason)
    return booked


def _calls(session):
    return list(session.scalars(select(Notification).where(Notification.channel == "voice")
                                .order_by(Notification.id)))


def _signed_post(client, path, form, token=TWILIO["TWILIO_AUTH_TOKEN"]):
    signature = RequestValidator(token).compute_signature("http://localhost" + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


WEDNESDAY_11H = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
CALL_TIME = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Paris


def test_a_landline_gets_one_call_the_day_before_saying_when_and_where_only(app, session, world):
    booked = _book(session, world, _landline(session), WEDNESDAY_11H, reason="douleurs thoraciques")
    (call,) = _calls(session)
    assert booked.reminder_channel == "voice"
    assert call.due_at == CALL_TIME and call.expires_at.astimezone(PARIS).hour == 19
    assert call.recipient == "+33471401234"
    assert "mercredi 3 mars, à 11 heures" in call.body and world.site_a.name in call.body
    assert "tapez 1" in call.body and "tapez 2" in call.body and "tapez 3" in call.body
    for secret in ("douleurs", world.practitioner_a.last_name, "généraliste"):
        assert secret not in call.body
    assert not list(session.scalars(select(Notification).where(Notification.channel == "sms")))


def test_a_monday_visit_is_called_on_saturday_never_sunday_nor_at_night(app, session, world):
    monday = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)
    _book(session, world, _landline(session), monday)
    (call,) = _calls(session)
    local = call.due_at.astimezone(PARIS)
    assert local.weekday() == 5 and local.hour == 10
    late_evening = NOW.replace(hour=19)  # Monday 20:00 in Paris, for a Tuesday visit
    patient = _landline(session, phone="+33471409999")
    tuesday = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, tuesday)
    session.commit()
    with unit_of_work(session):
        booked = book_slot(session, slot_id=slot.id, patient_id=patient.id, channel="reception", now=late_evening)
    assert booked.reminder_channel == "none"  # no decent hour left: the desk's call list shows it
    assert len(_calls(session)) == 1


@pytest.mark.twilio
def test_one_call_per_appointment_across_repeated_and_parallel_dispatch(twilio_app, twilio_stub, session, world):
    for number in range(5):
        patient = _landline(session, phone=f"+3347140{number:04d}")
        _book(session, world, patient, WEDNESDAY_11H + timedelta(hours=number))
    run_dispatch(NOW)  # not due yet
    assert twilio_stub.calls == []
    errors = []

    def run():
        try:
            with twilio_app.app_context():
                run_dispatch(CALL_TIME)
                db.session.remove()
        except Exception as error:  # pragma: no cover - surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_dispatch(CALL_TIME + timedelta(minutes=5))
    assert errors == []
    assert sorted(c["to"] for c in twilio_stub.calls) == [f"+3347140{n:04d}" for n in range(5)]
    placed = twilio_stub.calls[0]
    assert '<Say language="fr-FR"' in placed["twiml"] and "<Gather" in placed["twiml"]
    assert "/notifications/twilio/voice/keypress?n=" in placed["twiml"]
    assert placed["status_callback"] == "http://localhost/notifications/twilio/voice/status"
    assert {c.status for c in _calls(session)} == {"sent"}


@pytest.mark.twilio
def test_no_call_rings_after_19h_even_if_the_dispatcher_was_late(twilio_app, twilio_stub, session, world):
    _book(session, world, _landline(session), WEDNESDAY_11H)
    run_dispatch(datetime(2027, 3, 2, 18, 30, tzinfo=UTC))  # Tuesday 19:30 in Paris
    assert twilio_stub.calls == []
    assert _calls(session)[0].status == "cancelled"


@pytest.mark.twilio
def test_pressing_2_cancels_frees_the_slot_for_the_waiting_list_and_a_forged_key_is_refused(
        twilio_app, twilio_stub, session, world):
    slot = builders.make_slot(session, world.practitioner_a, world.site_a, WEDNESDAY_11H)
    session.commit()
    _, taker, booked, entry = builders.book_then_wait(session, world, NOW, slot=slot)
    taker.phone, taker.phone_kind = "+33471401234", "landline"
    session.commit()
    with unit_of_work(session):  # the desk adds the landline: the call is planned for this booking
        from booking.appointments.messages import plan_call

        plan_call(session, session.get(Appointment, booked.id), NOW)
    run_dispatch(CALL_TIME)
    call = _calls(session)[0]
    client = twilio_app.test_client()
    path = f"/notifications/twilio/voice/keypress?n={call.id}"
    form = {"CallSid": call.provider_id, "Digits": "2"}
    with time_machine.travel(CALL_TIME + timedelta(minutes=1), tick=False):  # she answers the call
        assert client.post(path, data=form).status_code == 403
        assert _signed_post(client, path, form, token="forged").status_code == 403
        # Signed, but carrying another call's SID: it answers no call of ours.
        assert _signed_post(client, path, {"CallSid": "CA" + "9" * 32, "Digits": "2"}).status_code == 404
        assert session.get(Appointment, booked.id).status == "booked"
        answer = _signed_post(client, path, form)
        assert answer.status_code == 200 and "annulé" in answer.get_data(as_text=True)
        assert _signed_post(client, path, form).get_data() == answer.get_data()  # Twilio's retry changes nothing
        session.expire_all()
        assert session.get(Appointment, booked.id).status == "cancelled"
        assert session.get(Slot, slot.id).booked_count == 0
        assert session.get(Notification, call.id).outcome == "cancelled"
        from booking.waitlist.models import WaitlistEntry

        assert session.get(WaitlistEntry, entry.id).status == "offered"  # the freed slot went to the waiting list
        again = _signed_post(client, path, {"CallSid": call.provider_id, "Digits": "3"})
    assert "<Gather" in again.get_data(as_text=True)  # 3 reads the message again


@pytest.mark.twilio
def test_an_unanswered_call_is_tried_once_more_never_twice(twilio_app, twilio_stub, session, world):
    _book(session, world, _landline(session), WEDNESDAY_11H)
    run_dispatch(CALL_TIME)
    client = twilio_app.test_client()
    first = _calls(session)[0]
    rang = CALL_TIME + timedelta(minutes=1)
    with time_machine.travel(rang, tick=False):
        assert _signed_post(client, "/notifications/twilio/voice/status",
                            {"CallSid": first.provider_id, "CallStatus": "no-answer"}).status_code == 204
    session.expire_all()
    first, retry = _calls(session)
    assert first.outcome == "no_answer" and retry.dedupe_key.endswith(":call-retry")
    assert retry.due_at == rang + timedelta(hours=2)
    run_dispatch(retry.due_at)
    session.expire_all()
    retry = _calls(session)[1]
    with time_machine.travel(retry.due_at + timedelta(minutes=1), tick=False):
        _signed_post(client, "/notifications/twilio/voice/status",
                     {"CallSid": retry.provider_id, "CallStatus": "busy"})
    session.expire_all()
    assert len(_calls(session)) == 2 and _calls(session)[1].outcome == "busy"
    assert len(twilio_stub.calls) == 2


def test_refused_calls_and_a_caregiver_with_consent(app, session, world):
    refused = _book(session, world, _landline(session, calls_refused=True), WEDNESDAY_11H)
    assert refused.reminder_channel == "none" and _calls(session) == []
    helped = _landline(session, phone=None, phone_kind=None, first_name="Marcel", caregiver_name="Sylvie",
                       caregiver_phone="+33612345678", caregiver_consent_at=NOW)
    booked = _book(session, world, helped, WEDNESDAY_11H + timedelta(hours=1))
    assert booked.reminder_channel == "caregiver"
    texts = list(session.scalars(select(Notification).where(Notification.recipient == "+33612345678")))
    assert {t.dedupe_key.rsplit(":", 1)[1] for t in texts} == {"confirmation", "reminder", "reminder-short"}
    for text in texts:
        assert "Marcel" in text.body and segments(to_gsm7(text.body)) == 1
        assert world.practitioner_a.last_name not in text.body


def test_the_desk_call_list_the_tick_and_the_letters(client, auth, session, world):
    from booking.appointments.models import Appointment

    tomorrow = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    nobody = _book(session, world, _landline(session, phone=None, phone_kind=None, first_name="Léon"), tomorrow)
    refuses = _book(session, world, _landline(session, first_name="Rose", calls_refused=True),
                    tomorrow + timedelta(hours=1))
    called = _book(session, world, _landline(session, first_name="Odette", phone="+33471409876"),
                   WEDNESDAY_11H)
    reminded = _book(session, world, builders.make_patient(session, first_name="Mobile"), WEDNESDAY_11H
                     + timedelta(hours=1))
    unanswered = session.scalar(select(Notification).where(Notification.recipient == "+33471409876"))
    unanswered.status, unanswered.outcome = "undelivered", "no_answer"
    session.commit()
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        page = client.get("/accueil/appels").get_data(as_text=True)
        assert "Léon" in page and "aucun téléphone" in page
        assert "Rose" in page and "appels refusés" in page
        assert "Odette" in page and "n’a pas abouti" in page and "04\xa071\xa040\xa098\xa076" in page
        assert "Mobile" not in page
        client.post(f"/accueil/appels/{called.id}", data={"outcome": "reached"})
        letters = client.get("/accueil/courriers?du=2027-03-02&au=2027-03-05").get_data(as_text=True)
        # Without an address nothing is printed: Léon is listed apart, with the way to complete it.
        assert 'class="letter"' not in letters and "Adresse à compléter (1)" in letters
        assert f"/personnes/{nobody.patient_id}/adresse" in letters and "Imprimer" not in letters
        wrong = client.post(f"/personnes/{nobody.patient_id}/adresse", data={
            "street": "4 rue de la Fontaine", "street_complement": "Lieu-dit Le Bourg", "postal_code": "15200"})
        assert wrong.status_code == 422 and "n’est pas celui de Saint-Bonnet-de-Salers" in wrong.get_data(
            as_text=True)
        assert client.post(f"/personnes/{nobody.patient_id}/adresse", data={
            "street": "4 rue de la Fontaine", "street_complement": "Lieu-dit Le Bourg",
            "postal_code": "15140"}).status_code == 302
        letters = client.get("/accueil/courriers?du=2027-03-02&au=2027-03-05").get_data(as_text=True)
        auth.logout()
        auth.login(world.resident_a.email)  # not a person of their account
        assert client.get(f"/personnes/{nobody.patient_id}/adresse").status_code == 404
    assert session.get(Appointment, called.id).reminder_channel == "desk"
    assert session.get(Appointment, called.id).desk_call_outcome == "reached"
    assert letters.count('class="letter"') == 1 and "Léon" in letters and "carte Vitale" in letters
    assert "4 rue de la Fontaine<br>Lieu-dit Le Bourg<br>15140 SAINT-BONNET-DE-SALERS" in letters
    assert "Imprimer la convocation" in letters and "Adresse à compléter" not in letters
    assert "Mairie de Saint-Bonnet-de-Salers" in letters and "site.css" in letters
    assert {refuses.reminder_channel, nobody.reminder_channel, reminded.reminder_channel} == {"none", "sms"}


def test_the_desk_records_a_caregiver_with_consent_and_a_refusal_of_calls(client, auth, session, world):
    from booking.appointments.models import Appointment

    patient = _landline(session)
    booked = _book(session, world, patient, WEDNESDAY_11H)
    assert booked.reminder_channel == "voice"
    with time_machine.travel(NOW, tick=False):
        auth.login(world.agent_a.email)
        refused = client.post(f"/gestion/patients/{patient.id}/rappels", data={
            "caregiver_name": "Sylvie Vermenouze", "caregiver_phone": "06 12 34 56 78"}, follow_redirects=True)
        assert "accord de l’aidant" in refused.get_data(as_text=True)
        client.post(f"/gestion/patients/{patient.id}/rappels", data={
            "calls_refused": "y", "caregiver_name": "Sylvie Vermenouze", "caregiver_phone": "06 12 34 56 78",
            "caregiver_consent": "y"})
    session.expire_all()
    assert patient.calls_refused and patient.caregiver_phone == "+33612345678" and patient.caregiver_consent_at
    assert _calls(session)[0].status == "cancelled"  # the refused call never rings…
    assert session.get(Appointment, booked.id).reminder_channel == "caregiver"  # …the caregiver is told instead
    assert session.scalar(select(Notification).where(Notification.recipient == "+33612345678")) is not None


@pytest.mark.twilio
def test_a_call_left_in_sending_by_a_dead_dispatcher_is_not_placed_again(twilio_app, twilio_stub, session, world):
    _book(session, world, _landline(session), WEDNESDAY_11H)
    _book(session, world, _landline(session, phone="+33471405555"), WEDNESDAY_11H + timedelta(hours=1))
    placed, lost = _calls(session)
    # The first call reached Twilio, then the dispatcher died before recording it; the second never left.
    twilio_stub.calls.append({"sid": "CA" + "1" * 32, "to": placed.recipient, "status": "queued"})
    for call in (placed, lost):
        call.status, call.claimed_at, call.attempts = "sending", CALL_TIME, 1
    session.commit()
    run_dispatch(CALL_TIME + timedelta(minutes=10))
    session.expire_all()
    assert session.get(Notification, placed.id).status == "sent"
    assert session.get(Notification, placed.id).provider_id == "CA" + "1" * 32
    assert session.get(Notification, lost.id).status == "sent"  # put back in the queue, then placed once
    assert [c["to"] for c in twilio_stub.calls] == [placed.recipient, "+33471405555"]


def test_one_anonymous_answer_per_attended_consultation_counted_with_suppression(client, auth, session, world):
    from booking.appointments.services import mark_attendance
    from booking.feedback.models import FeedbackAnswer
    from booking.stats.services import compute

    answered = []
    for number in range(6):
        patient = builders.make_patient(session, first_name=f"Avis{number}", phone=f"+3360000100{number}")
        booked = _book(session, world, patient, NOW + timedelta(days=1, hours=number))
        with unit_of_work(session):
            mark_attendance(session, world.agent_a, booked.id, "attended", NOW + timedelta(days=2))
        ask = session.scalar(select(Notification).where(Notification.dedupe_key == f"appointment:{booked.id}:feedback"))
        assert ask is not None and segments(to_gsm7(ask.body)) == 1 and "/avis/" in ask.body
        answered.append(ask.body.split("http://localhost", 1)[1].split()[0])
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        for number, path in enumerate(answered):
            done = client.post(path, data={"useful": str(5 - number % 2), "alternative": "farther" if number < 4
                                           else "emergency"})
            assert done.status_code == 200 and "sans votre nom" in done.get_data(as_text=True)
        assert "déjà enregistré" in client.post(answered[0], data={"useful": "1", "alternative": "other"}
                                                ).get_data(as_text=True)
        assert client.get(answered[0][:-3] + "xyz").status_code == 404  # a forged link
    assert session.scalar(select(func.count()).select_from(FeedbackAnswer)) == 6
    columns = {column.name for column in FeedbackAnswer.__table__.columns}
    assert not columns & {"patient_id", "appointment_id", "name", "phone"}
    stats = compute(session, builders.COMMUNE_A, date(2027, 3, 1), date(2027, 4, 1), NOW + timedelta(days=3))
    assert stats.table("feedback").rows == [["Réponses", 6], ["Utilité moyenne (sur 5)", 4.5]]
    # farther 4, emergency 2, without 0, other 0: both small counts hidden, so neither follows from the total.
    assert stats.table("feedback_alternatives").rows == [["Réponses", "< 5", "< 5", 0, 0, 6]]
