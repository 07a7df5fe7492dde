"""The SAS's endpoints: FHIR JSON, OperationOutcome on every refusal, admitted by client certificate."""

import orjson
from flask import Blueprint, Response, g, request

from booking.clock import now
from booking.database import unit_of_work
from booking.extensions import csrf, db, limiter
from booking.sas import appointments, fhir, services
from booking.sas.access import NotAdmitted, admitted_consumer
from booking.sas.pushes import authority
from booking.urls import public_url

blueprint = Blueprint("sas", __name__, url_prefix="/fhir/sas")
FHIR_JSON = "application/fhir+json"
csrf.exempt(blueprint)


def _answer(resource: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(resource), status=status, mimetype=FHIR_JSON)  # UTF-8, as json.dumps wrote it


@blueprint.before_request
def only_the_sas():
    try:
        g.sas_consumer = admitted_consumer(db.session)
    except NotAdmitted as refusal:
        return _answer(fhir.operation_outcome("security", refusal.message), 403)
    return None


def _refused(refusal: appointments.Refused) -> Response:
    return _answer(fhir.operation_outcome(refusal.code, refusal.message), refusal.status)


def _appointment_answer(appointment, status: int) -> Response:
    response = _answer(fhir.appointment(appointment, authority(), appointment.slot.site.time_zone), status)
    response.headers["Location"] = f"{authority()}/{appointment.sas_id}"
    return response


@blueprint.post("/Appointment")
@limiter.exempt
def create_appointment():
    """A regulator books a slot for a caller (FHIR create): 201 with Location, or an OperationOutcome."""
    resource = request.get_json(silent=True)
    try:
        with unit_of_work():
            appointment = appointments.create(db.session, g.sas_consumer, resource, now())
    except appointments.Refused as refusal:
        return _refused(refusal)
    return _appointment_answer(appointment, 201)


@blueprint.route("/Appointment", methods=["GET", "PUT"])
@limiter.exempt
def appointment_by_identifier():
    """GET reads, PUT updates (conditional, ``?identifier=…``; the guide writes ``Identifier``, both are read):
    the SAS cancels this way."""
    try:
        with unit_of_work():
            identifier = request.args.get("identifier") or request.args.get("Identifier", "")
            appointment = appointments.find(db.session, identifier, authority())
            if request.method == "PUT":
                appointments.update(db.session, appointment, request.get_json(silent=True), now())
            answer = _appointment_answer(appointment, 200)
    except appointments.Refused as refusal:
        return _refused(refusal)
    return answer


@blueprint.get("/Slot")
@limiter.exempt
def slot_search():
    """GET /fhir/sas/Slot?start=ge…&start=le…&schedule.actor:Practitioner.identifier=…&status=free"""
    try:
        query = services.parse(request.args)
    except services.SearchError as error:
        return _answer(fhir.operation_outcome(error.code, error.message), 400)
    return _answer(services.search(db.session, query, now(), public_url(), public_url(request.full_path.rstrip("?"))))
