"""Bad input gets a clear answer, never a 500: every GET page, with and without garbage parameters."""

import re

import pytest

GARBAGE = {"semaine": "pas-une-date", "jour": "2027-02-30", "du": "hier", "au": "31/31/2027", "mois": "2027-13",
           "site": "x", "profession": "sorcier", "naissance": "1944-99-99", "commune": "%%%", "insee": "<script>",
           "last_name": "x" * 300, "birth_date": "32/13/1944", "depuis": "demain", "format": "A9", "praticien": "'"}


ANSWERS = {200, 302, 400, 401, 403, 404, 414, 422}


def _urls(app, world):
    ids = {"site_id": world.site_a.id, "patient_id": world.patient_a.id, "appointment_id": world.appointment_a.id,
           "insee": "15174", "token": "abc-def", "rule_id": 999999, "practitioner_id": world.practitioner_a.id,
           "slot_id": world.slot_b.id}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        try:
            urls.append(app.url_for(rule.endpoint, **{k: ids[k] for k in rule.arguments}))
        except KeyError:
            continue
    return urls


@pytest.mark.parametrize("role", ["admin", "agent_a", "practitioner_user_a", "resident_a", None])
def test_no_page_answers_500(app, client, auth, world, role):
    if role:
        auth.login(getattr(world, role).email)
    for url in _urls(app, world):
        for query in ({}, GARBAGE):
            # Closed as a server closes what it answered: a streamed body (the slot feed) is released at once.
            with client.get(url, query_string=query) as response:
                where = f"{role} GET {url} {query and 'with garbage'}: {response.status_code}"
                # A page, a redirect (to log in, to a canonical page), or a refusal explained in French.
                assert response.status_code in ANSWERS, where
                if response.status_code >= 400:
                    body = response.get_json() if response.is_json else None
                    if response.mimetype == "application/fhir+json":  # the SAS's endpoints speak FHIR
                        explained = body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"]
                    elif body is not None:
                        explained = body.get("error", {}).get("message")
                    else:
                        page = response.get_data(as_text=True)
                        explained = "Code d’erreur" in page or "has-error" in page
                    assert explained, where


def test_bad_posts_are_refused_with_their_reason(client, auth, world):
    auth.login(world.agent_a.email)
    for url, data, status, reason in [
        (f"/accueil/patients/{world.patient_a.id}/reserver", {"slot_id": "abc", "consent": "1"}, 422,
         "Choisissez un créneau."),
        (f"/accueil/patients/{world.patient_a.id}/reserver", {"slot_id": "999999", "consent": "1"}, 404,
         "Créneau introuvable."),
        (f"/rendez-vous/{world.appointment_a.id}/presence", {"status": "peut-être"}, 422, "(venu)"),
        ("/accueil/patients/nouveau", {"last_name": "A", "first_name": "B", "birth_date": "99/99/9999",
                                       "commune": "nulle part"}, 422, "Cette date n’existe pas"),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == status, (url, response.status_code)
        assert reason in response.get_data(as_text=True), (url, reason)


HOSTILE_VALUES = ["%00", "a%00b", "%ED%A0%80", "%FF%FE", "0001-01-01", "9999-12-31", "-1", "99999999999999999999",
                  "x" * 5000]
HOSTILE_PAGES = [
    ("/recherche", ["commune", "insee", "profession", "depuis"]),
    ("/lieux/{site}/creneaux", ["semaine"]),
    ("/praticien/agenda", ["semaine"]),
    ("/gestion/sites/{site}/journee", ["jour"]),
    ("/gestion/communes/15174/statistiques", ["du", "au", "site", "profession"]),
    ("/gestion/communes/15174/statistiques.csv", ["du", "au"]),
    ("/accueil", ["last_name", "birth_date"]),
]
HOSTILE_API = [
    ("/api/v1/slots", {"site_id": "{site}"}, ["from", "to", "cursor", "profession"]),
    ("/api/v1/communes", {"q": "salers"}, ["q", "cursor", "limit"]),
    ("/api/v1/communes/{insee}/stats", {}, ["from", "to", "insee"]),
    ("/api/v1/sites", {"commune": "15174"}, ["commune", "cursor"]),
    ("/api/v1/patients", {"last_name": "x"}, ["last_name", "birth_date", "cursor"]),
]
CRAFTED_CURSORS = ["e30", "eyJzdGFydCI6IjAwMDEtMDEtMDEiLCJpZCI6LTF9", "eyJvZmZzZXQiOjk5OTk5OTk5OTk5OTk5OTk5fQ",
                   "!!!", "eyJzdGFydCI6bnVsbH0"]


@pytest.mark.parametrize("role", ["admin", "practitioner_user_a"])
def test_hostile_query_values_get_4xx_or_a_page_never_500(app, client, auth, session, world, role):
    from booking.api.services import create_token
    from booking.database import unit_of_work

    auth.login(getattr(world, role).email)
    with unit_of_work(session):
        token = create_token(session, getattr(world, role).email, "crawl", world.slot_a.starts_at)
    fill = {"site": world.site_a.id, "insee": "15174"}
    for path, names in HOSTILE_PAGES:
        for name in names:
            for value in HOSTILE_VALUES:
                response = client.get(f"{path.format(**fill)}?{name}={value}")
                assert response.status_code in ANSWERS, (role, path, name, repr(value[:20]), response.status_code)
    headers = {"Authorization": f"Bearer {token}"}
    for path, base, names in HOSTILE_API:
        base = {key: value.format(**fill) for key, value in base.items()}
        for name in names:
            for value in HOSTILE_VALUES + (CRAFTED_CURSORS if name == "cursor" else []):
                query = "&".join(f"{key}={val}" for key, val in {**base, name: value}.items())
                response = client.get(f"{path.format(**fill)}?{query}", headers=headers)
                assert response.status_code in ANSWERS, (role, path, name, repr(value[:20]), response.status_code)
                if response.status_code >= 400:
                    assert response.get_json()["error"]["message"]


def test_hostile_bodies_get_4xx_never_500(client, auth, session, world):
    from booking.api.services import create_token
    from booking.database import unit_of_work

    with unit_of_work(session):
        token = create_token(session, world.agent_a.email, "crawl", world.slot_a.starts_at)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deep = "[" * 5000 + "]" * 5000
    for body in (deep, '{"first_name": "\\ud800", "last_name": "B", "birth_date": "1944-05-02"}',
                 '{"first_name": "A\\u0000", "last_name": "B", "birth_date": "0001-01-01"}',
                 '{"first_name": "A", "last_name": "B", "birth_date": "9999-12-31"}'):
        response = client.post("/api/v1/patients", data=body, headers=headers)
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)
        assert response.get_json()["error"]["message"]
    auth.login(world.agent_a.email)
    for data in ({"last_name": "A\x00", "first_name": "B", "birth_date": "01/01/0001", "commune": "15174"},
                 {"last_name": "A", "first_name": "B", "birth_date": "31/12/9999", "commune": "\x00"}):
        response = client.post("/accueil/patients/nouveau", data=data)
        assert response.status_code == 422, response.status_code
    auth.logout()
    form = "application/x-www-form-urlencoded"
    for path, body in (("/connexion", "login=%00%ED%A0%80&password=%00"),
                       ("/inscription", "first_name=%00&last_name=B&birth_date=0001-01-01&commune=%00"
                                        "&email=a%00%40b.fr&password=xxxxxxxxxxxxxxxxxxxx&confirm=xxxxxxxxxxxxxxxxxxxx")):
        response = client.post(path, data=body, content_type=form)
        assert response.status_code in (200, 422), (path, response.status_code)


HOSTILE_SEGMENTS = ["²", "٣", "99999999999999999999", "%00", "a%00b", "9999-12", "0000-00", "²-abc",
                    "99999999999999999999-abc", "1-%00", "%ED%A0%80"]


def _with_hostile_segments(app, world):
    """Every GET route once per argument and hostile value, the other arguments valid."""
    valid = {"site_id": world.site_a.id, "patient_id": world.patient_a.id, "appointment_id": world.appointment_a.id,
             "insee": "15174", "siren": "241501139", "token": "abc-def", "rule_id": 1, "closure_id": 1,
             "practitioner_id": world.practitioner_a.id, "slot_id": world.slot_b.id, "month": "2027-02",
             "fmt": "json", "day": "2027-03-02", "entry_id": 1}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or not rule.arguments:
            continue
        for hostile_name in sorted(rule.arguments):
            for value in HOSTILE_SEGMENTS:
                path = rule.rule
                for name in rule.arguments:
                    segment = value if name == hostile_name else str(valid.get(name, 1))
                    path = re.sub(rf"<(?:[^:<>]+:)?{name}>", segment, path)
                yield path


@pytest.mark.parametrize("role", ["agent_a", None])
def test_hostile_path_segments_get_4xx_on_every_route_never_500(app, client, auth, world, role):
    if role:
        auth.login(getattr(world, role).email)
    walked = 0
    for path in _with_hostile_segments(app, world):
        with client.get(path) as response:
            assert response.status_code in ANSWERS, (role, path, response.status_code)
        walked += 1
    assert walked > 300


@pytest.mark.twilio
def test_signed_webhooks_with_hostile_values_get_4xx_never_500(app, client, session, world):
    from tests.conftest import TWILIO
    from tests.integration.test_notifications import _signed_post

    for path, form in [
        ("/notifications/twilio/voice/keypress?n=99999999999999999999", {"CallSid": "CA1", "Digits": "1"}),
        ("/notifications/twilio/voice/keypress?n=²", {"CallSid": "CA1", "Digits": "1"}),
        ("/notifications/twilio/voice/keypress?n=1", {"CallSid": "CA1", "Digits": "\x00"}),
        ("/notifications/twilio/inbound", {"MessageSid": "SM1", "From": "+33600000001", "Body": "OUI\x00"}),
        ("/notifications/twilio/inbound", {"MessageSid": "SM\x00", "From": "+33600000001", "Body": "OUI"}),
        ("/notifications/twilio/status", {"MessageSid": "SM\x00", "MessageStatus": "delivered"}),
        ("/notifications/twilio/voice/status", {"CallSid": "CA\x00", "CallStatus": "completed"}),
    ]:
        response = _signed_post(client, path, form, token=TWILIO["TWILIO_AUTH_TOKEN"])
        assert 400 <= response.status_code < 500, (path, form, response.status_code)


def test_a_method_the_address_does_not_take_says_which_it_does(client):
    page = client.post("/mentions-legales")
    assert page.status_code == 405 and set(page.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert "Action impossible" in page.get_data(as_text=True)
    api = client.delete("/api/v1/communes")
    assert api.status_code == 405 and "GET" in api.headers["Allow"] and api.get_json()["error"]["message"]


def test_an_address_too_long_is_answered_by_the_application_in_its_own_words(client):
    api = client.get("/api/v1/communes", query_string={"q": "a" * 5000})
    assert api.status_code == 414 and api.get_json()["error"]["code"] == "uri_too_long"
    page = client.get("/recherche", query_string={"commune": "a" * 5000})
    assert page.status_code == 414 and "Adresse trop longue" in page.get_data(as_text=True)
