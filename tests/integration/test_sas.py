"""The SAS's slot search, over a real mutual-TLS connection with a throw-away certificate authority, answered
as the guide's profiles say (read from their FSH) and as FHIR R4 allows (fhir.resources)."""

import ipaddress
import json
import ssl
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fhir.resources.R4B.bundle import Bundle
from werkzeug.serving import make_server

from booking.sas.models import SasConsumer
from tests import builders
from tests.sas_guide import example_search_request, fixed_matches, rules, values_at

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
# The real clock: the TLS handshake checks the certificates' dates against it, whatever Python is told.
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _guide_search() -> str:
    """The guide's example request, its period (2 to 6 January 2021, at 10:00) moved to the coming days."""
    first, last = (TODAY + timedelta(days=1)).date(), (TODAY + timedelta(days=5)).date()
    return example_search_request().replace("2021-01-02", first.isoformat()).replace("2021-01-06", last.isoformat())


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    return x509.Name(parts)


def _issue(subject: x509.Name, issuer_name: x509.Name, issuer_key, *, ca=False, ip=None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _write(directory, name, key, certificate):
    (directory / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    (directory / f"{name}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(directory / f"{name}.pem"), str(directory / f"{name}.key")


@pytest.fixture
def pki(tmp_path):
    """A certificate authority made for the test (standing in for IGC-Santé), the server's certificate, the
    registered SAS's, an unregistered one from the same authority, one from another authority, and ours (the
    publisher's, with which we call the SAS platform)."""
    ca_name = _name("Autorité de test IGC-Santé")
    ca_key, ca_cert = _issue(ca_name, ca_name, None, ca=True)
    files = {"ca": _write(tmp_path, "ca", ca_key, ca_cert)[0]}
    for name, subject in (("server", _name("127.0.0.1")), ("sas", _name("sas-test.esante.gouv.fr", "SAS")),
                          ("stranger", _name("autre.example", "SAS")),
                          ("publisher", _name("rdv-sante.example", "Editeur"))):
        key, cert = _issue(subject, ca_name, ca_key, ip="127.0.0.1" if name == "server" else None)
        files[name] = _write(tmp_path, name, key, cert)
    rogue_name = _name("Autorité inconnue")
    rogue_key, rogue_cert = _issue(rogue_name, rogue_name, None, ca=True)
    key, cert = _issue(_name("sas-test.esante.gouv.fr", "SAS"), rogue_name, rogue_key)
    files["rogue"] = _write(tmp_path, "rogue", key, cert)
    return files


@pytest.fixture
def sas_server(app, session, pki):
    """The application behind a real TLS server that asks for a client certificate and checks it against the
    test authority (as nginx does with IGC-Santé); the SAS test system registered by CN and OU."""
    session.add(SasConsumer(common_name="sas-test.esante.gouv.fr", organizational_unit="SAS", label="SAS (test)"))
    session.commit()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(*pki["server"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_OPTIONAL  # no certificate at all: the application answers 403 itself
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _get(url, pki, who="sas", **kwargs):
    return requests.get(url, cert=pki[who] if who else None, verify=pki["ca"], timeout=30, **kwargs)


@pytest.fixture
def guide_world(session, world):
    """The practitioners of the guide's example request (RPPS 10101288385 …), with slots on its days."""
    doctors = [builders.make_practitioner(session, [world.site_a], rpps=rpps, last_name=name)
               for rpps, name in (("10101288385", "Thomas"), ("00001288385", "Marcel"))]
    world.site_a.phone = "+33471000001"
    day = TODAY + timedelta(days=3)
    slots = [builders.make_slot(session, doctors[0], world.site_a, day + timedelta(hours=8)),
             builders.make_slot(session, doctors[0], world.site_a, day + timedelta(hours=8, minutes=20),
                                visibility="snp", released_at=day + timedelta(hours=6, minutes=20)),
             builders.make_slot(session, doctors[1], world.site_a, day + timedelta(days=1, hours=13),
                                visibility="pro", modality="remote"),
             builders.make_slot(session, doctors[1], world.site_a, day + timedelta(days=6, hours=13))]
    other = builders.make_practitioner(session, [world.site_a], rpps="10000000009")
    builders.make_slot(session, other, world.site_a, day + timedelta(hours=9))
    session.commit()
    return doctors, slots


def test_the_guides_example_search_finds_every_slot_a_regulator_may_take(sas_server, pki, guide_world):
    doctors, (public, snp, pro, too_late) = guide_world
    answer = _get(f"{sas_server}/fhir/sas/Slot?{_guide_search()}", pki)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    bundle = answer.json()
    Bundle.model_validate(bundle)  # valid FHIR, every resource inside included
    assert bundle["type"] == "searchset" and bundle["total"] == 3
    slots = {entry["resource"]["id"]: entry["resource"] for entry in bundle["entry"]
             if entry["search"]["mode"] == "match"}
    assert set(slots) == {str(public.id), str(snp.id), str(pro.id)}  # the fourth is after the period
    types = {slot_id: [s["code"] for s in slot["meta"]["security"]] for slot_id, slot in slots.items()}
    assert types == {str(public.id): ["PUBLIC"], str(snp.id): ["SNP"], str(pro.id): ["PRO"]}
    assert slots[str(pro.id)]["serviceType"][0]["coding"][0]["code"] == "VR"
    assert slots[str(public.id)]["serviceType"][0]["coding"][0]["code"] == "AMB"
    assert slots[str(public.id)]["start"] == public.starts_at.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    assert slots[str(public.id)]["comment"] == f"http://localhost/reserver/{public.id}"  # the booking page
    included = [entry["resource"] for entry in bundle["entry"] if entry["search"]["mode"] == "include"]
    practitioners = {r["identifier"][0]["value"] for r in included if r["resourceType"] == "Practitioner"}
    assert practitioners == {"810101288385", "800001288385"}
    roles = [r for r in included if r["resourceType"] == "PractitionerRole"]
    assert roles and all(role["contained"][0]["address"]["postalCode"] == "15140" for role in roles)
    assert {r["resourceType"] for r in included} == {"Schedule", "Practitioner", "PractitionerRole"}


def test_every_resource_keeps_the_cardinalities_and_fixed_values_of_its_profile(sas_server, pki, guide_world):
    bundle = _get(f"{sas_server}/fhir/sas/Slot?{_guide_search()}", pki).json()
    resources = [bundle] + [entry["resource"] for entry in bundle["entry"]]
    resources += [contained for r in resources for contained in r.get("contained", [])]
    checked = 0
    for resource in resources:
        profile = resource["meta"]["profile"][0].rsplit("/", 1)[1]
        for rule in rules(profile):
            values = values_at(resource, rule.path)
            if rule.minimum:
                assert len(values) >= rule.minimum, (profile, rule)
            if rule.maximum and rule.maximum != "*":
                assert len(values) <= int(rule.maximum), (profile, rule)
            if rule.fixed is not None and values:
                assert fixed_matches(values, rule.fixed), (profile, rule, values)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("query, code", [
    ("status=free&start=ge2021-01-02T10:00:00", "required"),
    (f"status=free&start=ge2021-01-02&start=le2021-01-06&schedule.actor:Practitioner.identifier={IDNPS}|123",
     "invalid"),
    ("start=ge2021-01-02&start=le2021-01-06&schedule.actor:Practitioner.identifier=" + IDNPS + "|810101288385",
     "required"),
    ("status=free&start=ge2021-01-02&start=le2021-01-06&schedule.actor:Practitioner.identifier="
     + ",".join(f"{IDNPS}|8{n:011d}" for n in range(26)), "too-costly"),
    (f"status=free&start=ge2021-01-09&start=le2021-01-02&schedule.actor:Practitioner.identifier={IDNPS}|810101288385",
     "invalid"),
    (f"status=free&start=gemardi&start=le2021-01-02&schedule.actor:Practitioner.identifier={IDNPS}|810101288385",
     "invalid"),
])
def test_a_search_that_cannot_run_gets_an_operation_outcome(sas_server, pki, query, code):
    answer = _get(f"{sas_server}/fhir/sas/Slot?{quote(query, safe='=&:|,')}", pki)
    assert answer.status_code == 400
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == code
    assert outcome["issue"][0]["diagnostics"]  # said in French, for the developer reading it


def test_only_the_registered_sas_gets_in(sas_server, pki, guide_world):
    url = f"{sas_server}/fhir/sas/Slot?{_guide_search()}"
    assert _get(url, pki).status_code == 200
    for who in ("stranger", None):  # the right authority but not registered; no certificate at all
        refused = _get(url, pki, who=who)
        assert refused.status_code == 403 and refused.json()["issue"][0]["code"] == "security", who
    with pytest.raises(requests.exceptions.SSLError):  # another authority: the handshake itself fails
        _get(url, pki, who="rogue")
    # A header typed by a client is not a certificate: without TRUSTED_PROXIES it is not even read.
    with open(pki["sas"][0]) as certificate:
        forged = requests.get(url, verify=pki["ca"], timeout=30, headers={
            "X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Cert": quote(certificate.read())})
    assert forged.status_code == 403


def _booking(slot_id: int, family="Roux", given="Martine", phone="06 12 34 56 78", operator="3456780581/11242343"):
    """An Appointment as the guide's FrAppointmentSAS shapes it (its example's regulator), with the slot taken and
    the caller, whom the guide leaves to the publisher's page, contained."""
    return {
        "resourceType": "Appointment",
        "meta": {"profile": ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]},
        "extension": [{"url": "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator",
                       "valueReference": {"identifier": {
                           "type": {"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                                "code": "IDNPS"}]},
                           "system": IDNPS, "value": operator}}}],
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "contained": [{"resourceType": "Patient", "id": "appelant", "name": [{"family": family, "given": [given]}],
                       "telecom": [{"system": "phone", "value": phone}]}],
        "participant": [{"actor": {"reference": "#appelant"}, "status": "accepted"}],
    }


def test_a_regulator_books_a_slot_residents_cannot_see_and_cancels_it_as_the_guide_says(
        sas_server, pki, guide_world, session, app):
    from sqlalchemy import select

    from booking.appointments.models import Appointment
    from notifications.models import Notification

    doctors, (public, snp, pro, too_late) = guide_world
    snp_id, pro_id = snp.id, pro.id
    session.commit()  # end the read: on SQLite the server's writes would wait for it
    answer = requests.post(f"{sas_server}/fhir/sas/Appointment", json=_booking(snp_id), cert=pki["sas"],
                           verify=pki["ca"], timeout=30)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert answer.headers["Location"].endswith(f"/fhir/sas/Appointment/{created['id']}")
    _assert_guide_shaped(created)
    assert created["status"] == "booked" and created["slot"] == [{"reference": f"Slot/{snp_id}"}]
    assert created["participant"][0]["actor"]["identifier"]["value"] == "810101288385"
    session.expire_all()
    booked = session.scalar(select(Appointment).where(Appointment.sas_id == created["id"]))
    assert booked.channel == "sas" and booked.sas_operator == "3456780581/11242343"
    assert booked.patient.full_name == "Martine Roux" and booked.patient.phone == "+33612345678"
    sms = session.scalars(select(Notification).where(Notification.group_key == f"appointment:{booked.id}")).all()
    assert "confirmation" in {message.dedupe_key.rsplit(":", 1)[1] for message in sms}  # told like anyone else
    booked_id = booked.id
    session.commit()

    # A second regulator on the same slot: one winner.
    again = requests.post(f"{sas_server}/fhir/sas/Appointment", json=_booking(snp_id, family="Blanc"),
                          cert=pki["sas"], verify=pki["ca"], timeout=30)
    assert again.status_code == 422 and again.json()["issue"][0]["code"] == "conflict"
    # A PRO slot is the regulators' too.
    assert requests.post(f"{sas_server}/fhir/sas/Appointment", json=_booking(pro_id), cert=pki["sas"],
                         verify=pki["ca"], timeout=30).status_code == 201

    url = f"{sas_server}/fhir/sas/Appointment?identifier={quote(created['identifier'][0]['system'])}|{created['id']}"
    cancelled = requests.put(url, json={**created, "status": "cancelled"}, cert=pki["sas"], verify=pki["ca"],
                             timeout=30)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert requests.get(url, cert=pki["sas"], verify=pki["ca"], timeout=30).json()["status"] == "cancelled"
    session.expire_all()
    assert session.get(Appointment, booked_id).status == "cancelled"
    session.commit()
    assert requests.put(url, json={**created, "status": "fulfilled"}, cert=pki["sas"], verify=pki["ca"],
                        timeout=30).status_code == 422
    assert requests.post(f"{sas_server}/fhir/sas/Appointment", json={"resourceType": "Patient"}, cert=pki["sas"],
                         verify=pki["ca"], timeout=30).status_code == 400


@pytest.mark.parametrize("count", [4])
def test_of_regulators_booking_the_last_seat_at_once_exactly_one_wins(sas_server, pki, guide_world, count, session):
    from concurrent.futures import ThreadPoolExecutor

    _, (public, *_) = guide_world
    public_id = public.id
    session.commit()  # end the read: on SQLite the server's writes would wait for it
    with ThreadPoolExecutor(count) as pool:
        statuses = list(pool.map(lambda n: requests.post(
            f"{sas_server}/fhir/sas/Appointment", json=_booking(public_id, family=f"Appelant{n}"), cert=pki["sas"],
            verify=pki["ca"], timeout=60).status_code, range(count)))
    assert sorted(statuses) == [201] + [422] * (count - 1)


def test_the_practitioner_and_the_desk_see_who_the_sas_sent(app, session, world, auth, client):
    import time_machine

    from booking.appointments.services import book_slot
    from booking.database import unit_of_work
    from tests.conftest import NOW

    slot = builders.make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(hours=2),
                              visibility="snp", released_at=NOW + timedelta(hours=1))
    session.commit()
    with unit_of_work(session):
        book_slot(session, slot_id=slot.id, patient_id=world.patient_b.id, channel="sas", now=NOW,
                  sas=("0f0e0d0c-0b0a-4909-8807-060504030201", "3456780581/11242343"))
    with time_machine.travel(NOW, tick=False):
        auth.login(world.practitioner_user_a.email)
        agenda = client.get("/praticien/agenda?semaine=2027-03-01").get_data(as_text=True)
        auth.logout()
        auth.login(world.agent_a.email)
        sheet = client.get(f"/gestion/sites/{world.site_a.id}/journee").get_data(as_text=True)
    assert "orienté par le SAS" in agenda
    assert "orienté par le SAS" in sheet


class _SasPlatform:
    """The SAS platform's side of the guide's « Mise à jour de rendez-vous »: a real TLS server that asks for our
    client certificate, records each request, and answers with the statuses the test lines up (then 200)."""

    def __init__(self, pki):
        import http.server

        platform = self
        self.received: list[dict] = []
        self.answers: list[int] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                subject = dict(item[0] for item in self.connection.getpeercert()["subject"])
                platform.received.append({"path": self.path, "type": self.headers["Content-Type"],
                                          "client": subject["commonName"], "document": json.loads(body)})
                status = platform.answers.pop(0) if platform.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*pki["server"])
        context.load_verify_locations(pki["ca"])
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no certificate of the authority, no connection
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.server.server_port}/fhir"

    def stop(self):
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


@pytest.fixture
def sas_platform(app, pki):
    platform = _SasPlatform(pki)
    app.config.update(SAS_PLATFORM_URL=platform.url, PARTNER_BACKEND="https", PARTNER_CA_FILE=pki["ca"],
                      PARTNER_CLIENT_CERT=pki["publisher"][0], PARTNER_CLIENT_KEY=pki["publisher"][1])
    yield platform
    platform.stop()


def _assert_guide_shaped(document: dict) -> None:
    from fhir.resources.R4B.appointment import Appointment as FhirAppointment

    FhirAppointment.model_validate(document)
    for rule in rules("FrAppointmentSAS"):
        values = values_at(document, rule.path)
        if rule.minimum:
            assert len(values) >= rule.minimum, rule
        if rule.fixed is not None and values:
            assert fixed_matches(values, rule.fixed), (rule, values)


def test_the_sas_platform_hears_of_each_change_we_make_to_its_appointments(
        sas_server, sas_platform, pki, guide_world, session, world, app):
    from sqlalchemy import select

    from booking.appointments.models import Appointment
    from booking.appointments.services import book_slot, cancel, mark_attendance, undo_attendance
    from booking.database import unit_of_work
    from notifications.models import Notification
    from notifications.setup import run_dispatch

    doctors, (public, snp, pro, too_late) = guide_world
    ids = {"snp": snp.id, "pro": pro.id, "public": public.id}
    ours = builders.make_slot(session, doctors[0], world.site_a, TODAY + timedelta(days=3, hours=10))
    ours_id = ours.id
    session.commit()
    made = {}
    for name in ("snp", "pro"):
        answer = requests.post(f"{sas_server}/fhir/sas/Appointment", json=_booking(ids[name], family=name.title()),
                               cert=pki["sas"], verify=pki["ca"], timeout=30)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()
    with unit_of_work(session):
        resident_booking = book_slot(session, slot_id=ours_id, patient_id=world.patient_b.id, channel="online",
                                     now=datetime.now(UTC))
    resident_booking_id = resident_booking.id
    by_sas_id = {row.sas_id: row.id for row in session.execute(select(Appointment.sas_id, Appointment.id)
                                                                 .where(Appointment.sas_id.is_not(None)))}
    snp_appointment, pro_appointment = by_sas_id[made["snp"]["id"]], by_sas_id[made["pro"]["id"]]
    session.commit()

    # The practitioner cannot come: the SNP appointment is cancelled on our side; the resident's one too.
    sas_platform.answers = [503]  # the platform is down at first: the outbox tries again later
    with unit_of_work(session):
        cancel(session, session.get(Appointment, snp_appointment), world.agent_a, "practitioner", datetime.now(UTC))
        cancel(session, session.get(Appointment, resident_booking_id), world.agent_a, "practitioner",
               datetime.now(UTC))
    pushes = session.scalars(select(Notification).where(Notification.channel == "fhir")).all()
    assert len(pushes) == 1  # the resident's own appointment is none of the SAS's business
    session.commit()
    first = run_dispatch(datetime.now(UTC))
    assert first.retried == 1 and len(sas_platform.received) == 1
    session.expire_all()
    assert session.scalars(select(Notification.status).where(Notification.channel == "fhir")).all() == ["pending"]
    session.commit()
    run_dispatch(datetime.now(UTC) + timedelta(hours=1))
    assert len(sas_platform.received) == 2

    sent = sas_platform.received[-1]
    authority = made["snp"]["identifier"][0]["system"]
    path, _, query = sent["path"].partition("?")
    assert path == "/fhir/Appointment" and parse_qs(query) == {"identifier": [f"{authority}|{made['snp']['id']}"]}
    assert sent["type"] == "application/fhir+json" and sent["client"] == "rdv-sante.example"
    assert sent["document"]["status"] == "cancelled" and sent["document"]["id"] == made["snp"]["id"]
    _assert_guide_shaped(sent["document"])

    # The PRO appointment took place without the caller: « absent », then corrected to « venu ».
    later = datetime.now(UTC) + timedelta(days=5)
    with unit_of_work(session):
        mark_attendance(session, world.agent_a, pro_appointment, "no_show", later)
    with unit_of_work(session):
        undo_attendance(session, world.agent_a, pro_appointment, later)
    with unit_of_work(session):
        mark_attendance(session, world.agent_a, pro_appointment, "attended", later)
    session.commit()
    run_dispatch(later)  # only the latest state of the appointment goes
    assert [item["document"]["status"] for item in sas_platform.received] == ["cancelled", "cancelled", "fulfilled"]
    _assert_guide_shaped(sas_platform.received[-1]["document"])
    withdrawn = session.scalars(select(Notification.last_error).where(Notification.channel == "fhir",
                                                                       Notification.status == "cancelled")).all()
    assert withdrawn == ["Remplacé par un état récent"] * 2


def test_without_a_platform_configured_nothing_waits_for_the_sas(sas_server, pki, guide_world, session, world):
    from sqlalchemy import func, select

    from booking.appointments.models import Appointment
    from booking.appointments.services import cancel
    from booking.database import unit_of_work
    from notifications.models import Notification

    _, (public, *_) = guide_world
    public_id = public.id
    session.commit()
    made = requests.post(f"{sas_server}/fhir/sas/Appointment", json=_booking(public_id), cert=pki["sas"],
                         verify=pki["ca"], timeout=30).json()
    appointment = session.scalar(select(Appointment).where(Appointment.sas_id == made["id"]))
    with unit_of_work(session):
        cancel(session, appointment, world.agent_a, "practitioner", datetime.now(UTC))
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.channel == "fhir")) == 0
