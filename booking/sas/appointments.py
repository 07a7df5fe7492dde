"""Appointments the SAS's regulators make for their callers (guide: « Gestion de rendez-vous »): created on a slot
through the one booking rule (race-safe: of two regulators, one wins), read and cancelled by our identifier."""

import re
import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.appointments.models import Appointment
from booking.appointments.services import SlotUnavailable, book_slot, cancel
from booking.errors import DomainError
from booking.patients.services import PatientInput, create_patient
from booking.sas import fhir
from booking.sas.models import SasConsumer
from booking.slots.models import Slot


class Refused(Exception):
    """A request the guide answers with an OperationOutcome: 400 unreadable, 404 unknown, 422 a rule refused."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _one(items, what: str):
    if not isinstance(items, list) or len(items) != 1:
        raise Refused(400, "required", f"Attendu : exactement un élément « {what} ».")
    return items[0]


def _operator(resource: dict) -> str:
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == fhir.OPERATOR_EXTENSION:
            value = ((extension.get("valueReference") or {}).get("identifier") or {}).get("value")
            if isinstance(value, str) and 0 < len(value) <= 100:
                return value
    raise Refused(400, "required", "L’extension FrAppointmentOperator (identifiant du régulateur) manque.")


def _caller(resource: dict) -> PatientInput:
    patients = [item for item in resource.get("contained") or []
                if isinstance(item, dict) and item.get("resourceType") == "Patient"]
    patient = _one(patients, "Patient contenu (la personne qui appelle)")
    name = _one(patient.get("name") or [None], "Patient.name") or {}
    family, given = name.get("family"), (name.get("given") or [None])[0]
    if not (isinstance(family, str) and family.strip() and isinstance(given, str) and given.strip()):
        raise Refused(400, "required", "Le nom et le prénom de la personne (Patient.name) manquent.")
    phones = [telecom.get("value") for telecom in patient.get("telecom") or []
              if isinstance(telecom, dict) and telecom.get("system") == "phone"]
    born = patient.get("birthDate")
    try:
        birth_date = date.fromisoformat(born) if born else None
    except (TypeError, ValueError):
        raise Refused(400, "invalid", f"Date de naissance illisible : « {born} ».") from None
    return PatientInput(given.strip(), family.strip(), birth_date, None, phone=phones[0] if phones else None,
                        sms_consent=True)


def _slot_id(resource: dict) -> int:
    reference = (_one(resource.get("slot"), "slot") or {}).get("reference", "")
    found = re.fullmatch(r"Slot/(\d{1,18})", reference or "")
    if not found:
        raise Refused(400, "invalid", f"Référence de créneau illisible : « {reference} » (attendu : Slot/<id>).")
    return int(found.group(1))


def create(session: Session, consumer: SasConsumer, resource: dict, now: datetime) -> Appointment:
    """Book the slot an Appointment names for the caller it contains; the patient is told as any other."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
        raise Refused(400, "structure", "Le corps doit être une ressource FHIR Appointment (JSON).")
    if resource.get("status", "booked") != "booked":
        raise Refused(400, "invalid", "Un rendez-vous se crée avec le statut « booked ».")
    operator, slot_id, caller = _operator(resource), _slot_id(resource), _caller(resource)
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise Refused(404, "not-found", "Ce créneau n’existe pas.")
    try:
        patient = create_patient(session, None, caller, now)
        return book_slot(session, slot_id=slot.id, patient_id=patient.id, channel="sas", now=now,
                         reason=f"Orienté par le SAS ({consumer.label})", sas=(str(uuid.uuid4()), operator))
    except SlotUnavailable as taken:
        raise Refused(422, "conflict", taken.message) from None
    except DomainError as error:
        raise Refused(422, "business-rule", error.message) from None


def find(session: Session, identifier: str, authority: str) -> Appointment:
    """The appointment a conditional request names: ``identifier=<authority>|<our id>`` (or our id alone)."""
    system, _, value = (identifier or "").rpartition("|")
    if system not in ("", authority) or not re.fullmatch(r"[0-9a-f-]{36}", value or ""):
        raise Refused(400, "invalid", f"Identifiant de rendez-vous illisible : « {identifier} ».")
    appointment = session.scalar(select(Appointment).where(Appointment.sas_id == value))
    if appointment is None:
        raise Refused(404, "not-found", "Aucun rendez-vous du SAS ne porte cet identifiant.")
    return appointment


def update(session: Session, appointment: Appointment, resource: dict, now: datetime) -> Appointment:
    """The guide's conditional update: the SAS cancels (status « cancelled »); nothing else may change."""
    status = (resource or {}).get("status") if isinstance(resource, dict) else None
    if status == fhir.STATUSES.get(appointment.status):
        return appointment
    if status != "cancelled":
        raise Refused(422, "business-rule", "Le SAS ne peut que l’annuler (status « cancelled »).")
    try:
        cancel(session, appointment, None, "patient", now)
    except DomainError as error:
        raise Refused(422, "business-rule", error.message) from None
    return appointment
