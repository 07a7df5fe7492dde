"""Schemathesis against the live OpenAPI document: no 500, every answer as documented.

The app is served over real HTTP on 127.0.0.1 (both databases); the examples are
bounded so that the whole run stays within the CI budget.
"""

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from booking.api.services import create_token
from tests.conftest import NOW

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live_api(app, session, world):
    """The app on a real port, with a token for each kind of caller (admin: every operation reachable; the
    desk of a commune; a resident) and some data."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tokens = {role: create_token(session, user.email, f"schemathesis {role}", NOW)
              for role, user in (("admin", world.admin), ("desk", world.agent_a), ("resident", world.resident_a))}
    session.commit()
    yield f"http://127.0.0.1:{server.server_port}", tokens
    server.shutdown()
    thread.join()


def _operations(base_url: str):
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_lists_each_status_an_operation_gives_and_no_catch_all(live_api):
    import json
    import urllib.request

    base_url, _ = live_api
    with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json") as answer:
        document = json.load(answer)
    operations = [operation for path in document["paths"].values() for method, operation in path.items()
                  if method in ("get", "post", "put", "patch", "delete")]
    assert len({operation["operationId"] for operation in operations}) == len(operations) == 14
    for operation in operations:
        assert "default" not in operation["responses"] and "401" in operation["responses"]
    from openapi_spec_validator import validate

    validate(document)  # the OpenAPI 3.0 specification's own schema and rules, by a validator we do not write


@pytest.mark.parametrize("role", ["admin", "desk", "resident"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(live_api, mode, role):
    """All of schemathesis's response checks, strict: a status the document does not list fails the run."""
    base_url, tokens = live_api
    operations = _operations(base_url)
    assert len(operations) == 14
    cases = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=12, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def answers_as_documented(case):
            case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {tokens[role]}"},
                                   checks=CHECKS)
            cases.append(case)  # noqa: B023 (run at once, inside this iteration)

        answers_as_documented()
    assert len(cases) >= 5 * len(operations)


def test_answers_about_existing_objects_match_the_document(live_api, world, session):
    """Random ids mostly miss: here the ids are real, so the success bodies are checked too."""
    base_url, tokens = live_api
    token = tokens["admin"]
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    fixed = [
        ("/api/v1/slots", "GET", {"query": {"site_id": world.site_a.id}}),
        ("/api/v1/sites", "GET", {"query": {"commune": "15174"}}),
        ("/api/v1/sites/{site_id}", "GET", {"path_parameters": {"site_id": world.site_a.id}}),
        ("/api/v1/practitioners", "GET", {"query": {"site_id": world.site_a.id}}),
        ("/api/v1/appointments/{appointment_id}", "GET",
         {"path_parameters": {"appointment_id": world.appointment_a.id}}),
        ("/api/v1/patients", "GET", {"query": {"last_name": "Lefèvre"}}),
        ("/api/v1/communes/{insee}/stats", "GET", {"path_parameters": {"insee": "15174"}}),
        ("/api/v1/departements/{code}/access", "GET", {"path_parameters": {"code": "15"}}),
    ]
    session.rollback()  # reading the ids began a transaction; SQLite writers would wait for it
    statuses = set()
    for path, method, given_values in fixed:
        operation = schema[path][method]

        @given(case=operation.as_strategy(**given_values))
        @settings(max_examples=8, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def answers_as_documented(case):
            response = case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                              checks=CHECKS)
            statuses.add((path, response.status_code))  # noqa: B023 (run at once, inside this iteration)

        answers_as_documented()
    assert {path for path, status in statuses if status == 200} == {path for path, _, _ in fixed}
