"""The JSON API v1, through HTTP, on both databases."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from booking.api.services import create_token, revoke_tokens
from booking.appointments.models import Appointment
from booking.auth.models import AuditEvent
from booking.patients.models import Patient
from notifications.models import Notification
from tests.conftest import NOW, statements_run

RULE = {"site_id": None, "rrule": "FREQ=WEEKLY;BYDAY=TU", "start_date": "2027-03-02", "until": "2027-03-30",
        "start_time": "09:00", "end_time": "12:00", "slot_minutes": 20, "buffer_minutes": 0, "capacity": 1,
        "modality": "on_site"}


class Api:
    """A test client speaking JSON with a bearer token."""

    def __init__(self, client, session, user=None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {create_token(session, user.email, 'test', NOW)}"} if user else {}

    def get(self, path, **query):
        return self.client.get("/api/v1" + path, query_string=query, headers=self.headers)

    def post(self, path, body=None):
        return self.client.post("/api/v1" + path, json=body, headers=self.headers)


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_whole_journey(client, session, world, travel):
    practitioner = Api(client, session, world.practitioner_user_a)
    agent = Api(client, session, world.agent_a)
    public = Api(client, session)

    created = _ok(practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules",
                                    {**RULE, "site_id": world.site_a.id}), 201)
    assert created["slots_created"] == 5 * 9 and created["id"] > 0

    day = _ok(public.get("/slots", site_id=world.site_a.id, **{"from": "2027-03-02", "to": "2027-03-02"}))
    assert len(day["items"]) == 9 and day["next_cursor"] is None
    first = day["items"][0]
    assert first["start"] == "2027-03-02T08:00:00Z" and first["end"] == "2027-03-02T08:20:00Z"
    assert first["local_start"] == "2027-03-02T09:00:00+01:00" and first["local_end"] == "2027-03-02T09:20:00+01:00"
    assert (first["status"], first["capacity"], first["remaining"]) == ("open", 1, 1)
    summer = _ok(public.get("/slots", site_id=world.site_a.id, **{"from": "2027-03-30", "to": "2027-03-30"}))
    assert summer["items"][0]["local_start"] == "2027-03-30T09:00:00+02:00"
    assert summer["items"][0]["start"] == "2027-03-30T07:00:00Z"

    patient = _ok(agent.post("/patients", {"first_name": "Zoé", "last_name": "Lefèvre-N'Diaye",
                                           "birth_date": "1944-05-02", "phone": "06 12 34 56 78",
                                           "commune_insee": "15174", "sms_consent": True}), 201)
    assert (patient["first_name"], patient["last_name"]) == ("Zoé", "Lefèvre-N'Diaye")
    assert (patient["phone"], patient["phone_kind"], patient["sms_consent"]) == ("+33612345678", "mobile", True)
    found = _ok(agent.get("/patients", last_name="lefevre-ndiaye", birth_date="1944-05-02"))
    assert patient["id"] in [p["id"] for p in found["items"]]

    booking = {"slot_id": first["id"], "patient_id": patient["id"], "channel": "phone", "consent": True}
    booked = _ok(agent.post("/appointments", booking), 201)
    assert booked["status"] == "booked" and booked["sms"] is True
    assert session.get(Appointment, booked["id"]).reference == booked["reference"]
    assert booked["slot"]["remaining"] == 0 and booked["channel"] == "phone"

    other = _ok(agent.post("/patients", {"first_name": "Ève", "last_name": "d'Arcy", "birth_date": "1950-01-01",
                                         "commune_insee": "15174"}), 201)
    full = _error(agent.post("/appointments", {**booking, "patient_id": other["id"]}), 409)
    assert full["code"] == "slot_unavailable"
    assert first["id"] not in [s["id"] for s in _ok(public.get(
        "/slots", site_id=world.site_a.id, **{"from": "2027-03-02", "to": "2027-03-02"}))["items"]]

    seen = _ok(practitioner.get(f"/appointments/{booked['id']}"))
    assert seen["reference"] == booked["reference"] and seen["patient_id"] == patient["id"]
    cancelled = _ok(agent.post(f"/appointments/{booked['id']}/cancel", {"reason": "patient"}))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "patient")
    assert cancelled["cancelled_at"] == "2027-03-01T09:00:00Z"

    again = _ok(agent.post("/appointments", {**booking, "patient_id": other["id"]}), 201)
    assert again["status"] == "booked" and again["sms"] is False

    too_early = _error(practitioner.post(f"/appointments/{again['id']}/attendance", {"status": "attended"}), 409)
    assert "commencé" in too_early["message"]
    travel.move_to(datetime(2027, 3, 2, 8, 30, tzinfo=UTC))
    marked = _ok(practitioner.post(f"/appointments/{again['id']}/attendance", {"status": "attended"}))
    assert marked["status"] == "attended"

    admin = Api(client, session, world.commune_admin_a)
    stats = _ok(admin.get("/communes/15174/stats", **{"from": "2027-03-01", "to": "2027-03-31"}))
    assert stats["commune"] == {"insee": "15174", "name": "Saint-Bonnet-de-Salers"}
    assert stats["period"] == {"from": "2027-03-01", "to": "2027-03-31"}
    assert {t["key"] for t in stats["tables"]} >= {"reach", "reminders", "reminder_channels"}
    assert session.scalar(select(Appointment.status).where(Appointment.id == again["id"])) == "attended"


def test_lists_are_paged_with_cursors(client, session, world, travel):
    practitioner = Api(client, session, world.practitioner_user_a)
    _ok(practitioner.post(f"/practitioners/{world.practitioner_a.id}/rules", {**RULE, "site_id": world.site_a.id}),
        201)
    public = Api(client, session)
    query = {"site_id": world.site_a.id, "from": "2027-03-02", "to": "2027-03-09", "limit": 4}
    seen, cursor, pages = [], None, 0
    while True:
        page = _ok(public.get("/slots", **query, **({"cursor": cursor} if cursor else {})))
        seen += [slot["id"] for slot in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 18 and pages == 5
    assert _error(public.get("/slots", **query, cursor="pas-un-curseur"), 400)["code"] == "bad_cursor"

    communes = _ok(public.get("/communes", q="15140", limit=1))
    assert len(communes["items"]) == 1 and communes["next_cursor"]
    rest = _ok(public.get("/communes", q="15140", limit=50, cursor=communes["next_cursor"]))
    names = [communes["items"][0]["name"]] + [c["name"] for c in rest["items"]]
    assert "Saint-Bonnet-de-Salers" in names and len(names) == len(set(names))


def test_public_reads_sites_and_practitioners(client, session, world, travel):
    public = Api(client, session)
    sites = _ok(public.get("/sites", commune="15174"))
    by_name = {s["name"]: s for s in sites["items"]}
    assert by_name["Cabine de Saint-Bonnet"]["distance_tier"] == "commune"
    assert by_name["Cabine de Saint-Bonnet"]["next_free_slot"] is None  # its one slot is booked
    assert by_name["Cabine de Saint-Bonnet"]["professions"] == ["medecin_generaliste"]
    one = _ok(public.get(f"/sites/{world.site_a.id}"))
    assert one["practitioners"][0]["id"] == world.practitioner_a.id and one["time_zone"] == "Europe/Paris"
    people = _ok(public.get("/practitioners", site_id=world.site_a.id))
    assert [p["id"] for p in people["items"]] == [world.practitioner_a.id]
    assert _ok(public.get("/practitioners", site_id=world.site_a.id, profession="ophtalmologue"))["items"] == []
    assert _error(public.get("/sites", commune="99999"), 404)["code"] == "not_found"
    assert _error(public.get("/sites/999999"), 404)["code"] == "not_found"


def test_staff_tokens_see_every_slot_of_their_sites_the_public_only_free_ones(client, session, world, travel):
    query = {"site_id": world.site_a.id, "from": "2027-03-01", "to": "2027-03-10"}
    assert _ok(Api(client, session).get("/slots", **query))["items"] == []  # its one slot is booked
    staff = _ok(Api(client, session, world.agent_a).get("/slots", **query))["items"]
    assert [(s["id"], s["remaining"]) for s in staff] == [(world.slot_a.id, 0)]
    assert _ok(Api(client, session, world.agent_b).get("/slots", **query))["items"] == []


def test_bad_requests_get_json_errors_never_html(client, session, world, travel):
    agent = Api(client, session, world.agent_a)
    unknown = _error(agent.post("/patients", {"first_name": "Zoé", "last_name": "L", "birth_date": "1944-05-02",
                                              "shoe_size": 40}), 422)
    assert unknown["fields"] == {"shoe_size": "Champ inconnu."} and "shoe_size" in unknown["message"]
    missing = _error(agent.post("/patients", {"first_name": "Zoé"}), 422)
    assert missing["fields"]["last_name"] == "Champ obligatoire."
    assert _error(agent.post("/appointments", {"slot_id": "abc"}), 422)["fields"]["slot_id"] == "Nombre entier attendu."
    both = _error(agent.post("/appointments", {"slot_id": world.slot_a.id}), 422)
    assert "patient_id" in both["message"]
    raw = client.post("/api/v1/patients", data="{pas du json", content_type="application/json", headers=agent.headers)
    assert raw.status_code in (400, 422) and raw.get_json()["error"]
    too_long = _error(agent.post("/patients", {"first_name": "Z" * 101, "last_name": "L", "birth_date": "1944-05-02"}),
                      422)
    assert too_long["fields"]["first_name"] == "Entre 1 et 100 caractères."
    assert _error(agent.get("/slots"), 422)["message"] == "Indiquez « site_id » ou « practitioner_id »."
    assert _error(agent.get("/slots", site_id=world.site_a.id, **{"from": "2027-01-01", "to": "2027-12-31"}),
                  422)["code"] == "invalid_input"
    assert _error(client.delete("/api/v1/sites/1"), 405)["code"] == "method_not_allowed"
    assert _error(client.get("/api/v1/nowhere"), 404)["code"] == "not_found"
    # Beyond a 32-bit id the databases would fail (SQLite overflows, PostgreSQL refuses): simply not found.
    assert _error(agent.get("/appointments/99999999999999999999"), 404)["code"] == "not_found"
    assert client.get("/rendez-vous/99999999999999999999").status_code == 404
    huge = client.post("/api/v1/patients", data="x" * (2 * 1024 * 1024), content_type="application/json",
                       headers=agent.headers)
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "too_large"
    assert session.scalar(select(Patient).where(Patient.first_name == "Zoé")) is None


def test_tokens_sessions_and_roles(client, session, world, auth, travel):
    client.post("/connexion", data={"login": world.agent_a.email, "password": "correct horse battery"})
    assert _error(client.get("/api/v1/patients?last_name=x&birth_date=1944-05-02"), 401)["code"] == "unauthorized"
    assert _error(client.get("/api/v1/sites/1", headers={"Authorization": "Bearer rvs_faux"}), 401)
    agent = Api(client, session, world.agent_a)
    assert _ok(agent.get("/patients", last_name="Lefèvre", birth_date="1944-05-02"))["items"]
    revoke_tokens(session, world.agent_a.email, NOW)
    assert _error(agent.get("/patients", last_name="Lefèvre", birth_date="1944-05-02"), 401)
    resident = Api(client, session, world.resident_a)
    assert _error(resident.get("/patients", last_name="Lefèvre", birth_date="1944-05-02"), 403)["code"] == "forbidden"
    assert _error(resident.post("/patients", {"first_name": "A", "last_name": "B", "birth_date": "2000-01-01"}), 403)


def test_a_resident_books_for_a_relative_and_cancels(client, session, world, travel):
    other = session.get(type(world.slot_a), world.slot_b.id)
    resident = Api(client, session, world.resident_a)
    slot = _make_free_slot(session, world)
    booked = _ok(resident.post("/appointments", {"slot_id": slot.id, "patient": {
        "first_name": "Léon", "last_name": "Lefèvre", "birth_date": "2015-06-01"}}), 201)
    assert booked["channel"] == "online"
    relative = session.get(Patient, booked["patient_id"])
    assert relative.account_id == world.resident_a.id
    assert _error(resident.post("/appointments", {"slot_id": other.id, "patient_id": world.patient_b.id}), 404)
    assert _ok(resident.post(f"/appointments/{booked['id']}/cancel", {"reason": "site"}))["cancel_reason"] == "patient"


def _make_free_slot(session, world):
    from tests.builders import make_slot

    slot = make_slot(session, world.practitioner_a, world.site_a, NOW + timedelta(days=3))
    session.commit()
    return slot


# Expected statuses of (read A, read B, cancel B, attendance B, publish for practitioner B, stats of B's commune).
API_STATUSES = {
    "admin": (200, 200),
    "agent_a": (200, 404),
    "commune_admin_a": (200, 404),
    "practitioner_user_a": (200, 404),
    "resident_a": (200, 404),
    "agent_b": (404, 200),
}


@pytest.mark.parametrize("role", API_STATUSES)
def test_ids_walked_across_communes_on_the_api(client, session, world, travel, role):
    api = Api(client, session, getattr(world, role))
    reads = tuple(api.get(f"/appointments/{a.id}").status_code for a in (world.appointment_a, world.appointment_b))
    assert reads == API_STATUSES[role]
    hidden = world.appointment_b if reads[1] == 404 else world.appointment_a
    if 404 in reads:
        assert api.post(f"/appointments/{hidden.id}/cancel", {"reason": "other"}).status_code == 404
        assert api.post(f"/appointments/{hidden.id}/attendance", {"status": "no_show"}).status_code == 404
        assert session.get(Appointment, hidden.id).status == "booked"
    other_practitioner = world.practitioner_b if role != "agent_b" else world.practitioner_a
    publish = api.post(f"/practitioners/{other_practitioner.id}/rules",
                       {**RULE, "site_id": other_practitioner.site_links[0].site_id})
    assert publish.status_code == (201 if role == "admin" else 404)
    other_commune = "15120" if role != "agent_b" else "15174"
    stats = api.get(f"/communes/{other_commune}/stats", **{"from": "2027-03-01", "to": "2027-03-31"})
    assert stats.status_code == {"admin": 200, "agent_a": 404, "commune_admin_a": 404, "agent_b": 404}.get(role, 404)
    assert api.get("/appointments/999999").status_code == 404


def test_api_reads_of_an_appointment_by_staff_are_audited(client, session, world, travel):
    _ok(Api(client, session, world.agent_a).get(f"/appointments/{world.appointment_a.id}"))
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.read")).all()
    assert [(e.user_id, e.patient_id) for e in events] == [(world.agent_a.id, world.patient_a.id)]


def test_the_api_is_rate_limited(database_url):
    from booking.extensions import db, limiter
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="5 per minute")
    with app.app_context():
        limiter.reset()
        client = app.test_client()
        statuses = [client.get("/api/v1/communes", query_string={"q": "Salers"}).status_code for _ in range(7)]
        assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
        body = client.get("/api/v1/communes", query_string={"q": "Salers"}).get_json()
        assert body["error"]["code"] == "too_many_requests"
        # Another token has its own allowance.
        other = client.get("/api/v1/communes", query_string={"q": "Salers"}, headers={"Authorization": "Bearer x"})
        assert other.status_code == 401
        limiter.reset()
        db.session.remove()
        db.engine.dispose()


def test_the_openapi_document_and_its_docs_page(client):
    spec = _ok(client.get("/api/v1/openapi.json"))
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/communes", "/api/v1/sites", "/api/v1/slots", "/api/v1/practitioners/{practitioner_id}/rules",
                 "/api/v1/patients", "/api/v1/appointments", "/api/v1/appointments/{appointment_id}/cancel",
                 "/api/v1/appointments/{appointment_id}/attendance", "/api/v1/communes/{insee}/stats"):
        assert path in spec["paths"], path
    rule = spec["components"]["schemas"]["RuleInput"]
    assert set(rule["required"]) == {"site_id", "rrule", "start_date", "start_time", "end_time"}
    assert spec["components"]["schemas"]["ErrorEnvelope"]["required"] == ["error"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]


def test_a_booking_costs_a_handful_of_statements(client, session, world, travel):
    """The hot path of the national peak: the token and its user, the patient, the slot, one conditional update
    deciding the seat, the patient's presence and the per-profession limit, then three inserts (appointment, its
    messages in one statement, the audit event). 24 statements before the work on #19."""
    agent = Api(client, session, world.agent_a)
    slot_id, patient_id = _make_free_slot(session, world).id, world.patient_a.id
    _ok(agent.get("/sites", commune=world.site_a.commune_insee))  # the token's first use is recorded once
    with statements_run(session.get_bind()) as statements:
        booked = _ok(agent.post("/appointments", {"slot_id": slot_id, "patient_id": patient_id,
                                                  "channel": "phone", "consent": True}), 201)
    # An agent's communes are read too, for the permission check: 8 (7 for an administrator's token).
    assert len(statements) <= 8, "\n".join(statements)
    assert booked["slot"]["remaining"] == 0 and booked["sms"] is True
    session.expire_all()
    assert session.get(Appointment, booked["id"]).reminder_channel == "sms"
    keys = set(session.scalars(select(Notification.dedupe_key).where(
        Notification.group_key == f"appointment:{booked['id']}")))
    assert {f"appointment:{booked['id']}:confirmation", f"appointment:{booked['id']}:reminder"} <= keys


def test_what_the_document_allows_is_what_the_api_takes(client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    sites = spec["paths"]["/api/v1/sites"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in sites["parameters"]}
    assert parameters["profession"]["pattern"] == "^[a-z][a-z0-9_]{1,38}$"
    assert parameters["cursor"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert "400" in sites["responses"] and "bad_cursor" in sites["responses"]["400"]["description"]
    # A cursor of the documented shape that no page gave: the documented 400, with its code.
    stale = client.get("/api/v1/sites", query_string={"commune": "15174", "cursor": "0" * 40})
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "bad_cursor"
    # An empty profession is outside the documented pattern: refused as the document says (422).
    empty = client.get("/api/v1/sites", query_string={"commune": "15174", "profession": ""})
    assert empty.status_code == 422 and "profession" in empty.get_json()["error"]["fields"]


def test_who_asks_comes_first_and_every_401_names_the_bearer_scheme(client, session, world):
    missing = client.get("/api/v1/patients")  # neither a token nor the required arguments
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert missing.get_json()["error"]["code"] == "unauthorized"
    refused = client.get("/api/v1/patients", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    public = client.get("/api/v1/sites")  # public: arguments are checked, no token needed
    assert public.status_code == 422 and "WWW-Authenticate" not in public.headers


def test_the_document_names_each_operation_and_lists_the_statuses_it_returns(client, session, world, travel):
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {(method.upper(), path.removeprefix("/api/v1")): operation
                  for path, item in spec["paths"].items() for method, operation in item.items()
                  if method in ("get", "post")}
    names = [operation["operationId"] for operation in operations.values()]
    assert len(names) == len(set(names)) == 14

    def documented(method, template, response):
        listed = operations[(method, template)]["responses"]
        assert str(response.status_code) in listed, (method, template, response.status_code, sorted(listed))
        if response.status_code >= 400:
            answer = listed[str(response.status_code)]
            answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
            assert answer["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")

    resident, desk = Api(client, session, world.resident_a), Api(client, session, world.agent_a)
    anonymous = Api(client, session)
    session.commit()
    documented("GET", "/patients", anonymous.get("/patients"))                                     # 401
    documented("GET", "/patients", resident.get("/patients", last_name="Lefèvre"))                 # 403
    documented("GET", "/appointments/{appointment_id}", desk.get("/appointments/999999"))          # 404
    documented("GET", "/sites/{site_id}", anonymous.get("/sites/999999"))                          # 404
    documented("POST", "/appointments/{appointment_id}/cancel",
               resident.post(f"/appointments/{world.appointment_a.id}/cancel", {}))                # 200
    documented("POST", "/appointments/{appointment_id}/cancel",
               resident.post(f"/appointments/{world.appointment_a.id}/cancel", {}))                # 409
    documented("POST", "/appointments", desk.post("/appointments", {
        "slot_id": world.slot_b.id, "patient_id": world.patient_a.id, "consent": True}))           # 403 or 404
    documented("GET", "/communes/{insee}/stats", resident.get("/communes/15174/stats"))            # 403
