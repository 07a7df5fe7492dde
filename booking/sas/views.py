"""The SAS's endpoints: FHIR JSON, OperationOutcome on every refusal, admitted by client certificate."""

import json

from flask import Blueprint, Response, request

from booking.clock import now
from booking.extensions import csrf, db, limiter
from booking.sas import fhir, services
from booking.sas.access import NotAdmitted, admitted_consumer
from booking.urls import public_url

blueprint = Blueprint("sas", __name__, url_prefix="/fhir/sas")
FHIR_JSON = "application/fhir+json"
csrf.exempt(blueprint)


def _answer(resource: dict, status: int = 200) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


@blueprint.before_request
def only_the_sas():
    try:
        admitted_consumer(db.session)
    except NotAdmitted as refusal:
        return _answer(fhir.operation_outcome("security", refusal.message), 403)
    return None


@blueprint.get("/Slot")
@limiter.exempt
def slot_search():
    """GET /fhir/sas/Slot?start=ge…&start=le…&schedule.actor:Practitioner.identifier=…&status=free"""
    try:
        query = services.parse(request.args)
    except services.SearchError as error:
        return _answer(fhir.operation_outcome(error.code, error.message), 400)
    base = public_url("/fhir/sas")
    return _answer(services.search(db.session, query, now(), base, public_url(request.full_path.rstrip("?"))))
