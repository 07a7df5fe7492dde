"""The resources of the SAS slot search, as the guide's profiles shape them (pure functions, no database)."""

from dataclasses import dataclass

from booking.openslots.fhir import iso
from booking.sites.nomenclatures import SPECIALTY_SYSTEM, codings

PROFILE = "http://sas.fr/fhir/StructureDefinition/"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # the national identifier of health professionals (8 + RPPS)
IDENTIFIER_TYPES = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
SLOT_TYPES = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
APPOINTMENT_REASONS = "http://terminology.hl7.org/CodeSystem/v2-0276"


def national_id(rpps: str) -> str:
    """The IdNat_PS of a practitioner known by RPPS: « 8 » then the 11 digits."""
    return f"8{rpps}"


def slot_types(visibility: str, released: bool) -> list[str]:
    """TRE-R314 types of a slot; an SNP slot released to the public carries both."""
    if visibility == "snp":
        return ["SNP", "PUBLIC"] if released else ["SNP"]
    return ["PRO"] if visibility == "pro" else ["PUBLIC"]


def _meta(profile: str, **more) -> dict:
    return {"profile": [PROFILE + profile], **more}


def specialties(profession: str) -> list[dict]:
    """The ``specialty`` of a practitioner's slots (TRE-R38), computed once a practitioner, not once a slot."""
    return [{"coding": [coding]} for coding in codings(profession) if coding["system"] == SPECIALTY_SYSTEM]


def slot(slot_row, practitioner, profession_label: str, time_zone: str, booking_url: str, released: bool,
         specialty: list[dict] | None = None) -> dict:
    if specialty is None:
        specialty = specialties(practitioner.profession)
    resource = {
        "resourceType": "Slot",
        "id": str(slot_row.id),
        "meta": _meta("FrSlotAgregateur", security=[{"system": SLOT_TYPES, "code": code}
                                                    for code in slot_types(slot_row.visibility, released)]),
        "serviceType": [{"coding": [{"system": ACT_CODES, "code": "VR" if slot_row.modality == "remote" else "AMB"}]},
                        {"text": profession_label}],
        "appointmentType": {"coding": [{"system": APPOINTMENT_REASONS, "code": "ROUTINE"}]},
        "schedule": {"reference": f"Schedule/{schedule_id(slot_row.site_id, practitioner.id)}"},
        "status": "free",
        "start": iso(slot_row.starts_at, time_zone),
        "end": iso(slot_row.ends_at, time_zone),
        "comment": booking_url,
    }
    if specialty:
        resource["specialty"] = specialty
    return resource


def schedule_id(site_id: int, practitioner_id: int) -> str:
    return f"{site_id}-{practitioner_id}"


def schedule(site_id: int, practitioner_id: int) -> dict:
    return {"resourceType": "Schedule", "id": schedule_id(site_id, practitioner_id),
            "meta": _meta("FrScheduleAgregateur"),
            "actor": [{"reference": f"Practitioner/{practitioner_id}"},
                      {"reference": f"PractitionerRole/{schedule_id(site_id, practitioner_id)}"}]}


def practitioner(row) -> dict:
    return {"resourceType": "Practitioner", "id": str(row.id), "meta": _meta("FrPractitionerAgregateur"),
            "identifier": [{"type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "IDNPS"}]},
                            "system": IDNPS_SYSTEM, "value": national_id(row.rpps)}],
            "name": [{"family": row.last_name, "given": [row.first_name]}]}


@dataclass(frozen=True)
class Place:
    """Where a PractitionerRole is: a site's id, name, address and phone."""

    id: int
    name: str
    address: str
    postal_code: str
    city: str
    phone: str | None


def practitioner_role(site: Place, practitioner_id: int) -> dict:
    """The practitioner at one site, the site's Location contained (FrPractitionerRoleExerciceAgregateur)."""
    location = {"resourceType": "Location", "id": f"lieu-{site.id}", "meta": _meta("FrLocationAgregateur"),
                "name": site.name,
                "address": {"line": [site.address], "city": site.city, "postalCode": site.postal_code,
                            "country": "FR"}}
    role = {"resourceType": "PractitionerRole", "id": schedule_id(site.id, practitioner_id),
            "meta": _meta("FrPractitionerRoleExerciceAgregateur"), "contained": [location],
            "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
            "location": [{"reference": f"#lieu-{site.id}"}]}
    if site.phone:
        role["telecom"] = [{"system": "phone", "value": site.phone}]
    return role


def bundle(bundle_id: str, self_url: str, base_url: str, matches: list[dict], included: list[dict]) -> dict:
    def entry(resource: dict, mode: str) -> dict:
        return {"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}", "resource": resource,
                "search": {"mode": mode}}

    return {"resourceType": "Bundle", "id": bundle_id, "meta": _meta("BundleAgregateur"), "type": "searchset",
            "total": len(matches), "link": [{"relation": "self", "url": self_url}],
            "entry": [entry(resource, "match") for resource in matches]
            + [entry(resource, "include") for resource in included]}


def operation_outcome(code: str, message: str) -> dict:
    """Why a search could not run (FHIR OperationOutcome): ``code`` from the FHIR issue-type codes."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": message}]}


OPERATOR_EXTENSION = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
STATUSES = {"booked": "booked", "attended": "fulfilled", "no_show": "noshow", "cancelled": "cancelled"}


def appointment(row, authority: str, time_zone: str) -> dict:
    """An appointment a regulator made, as FrAppointmentSAS says (our identifier, the regulator, the
    practitioner by national identifier; no word about the patient, as in the guide)."""
    slot = row.slot
    return {
        "resourceType": "Appointment",
        "id": row.sas_id,
        "meta": _meta("FrAppointmentSAS"),
        "extension": [{"url": OPERATOR_EXTENSION, "valueReference": {"identifier": {
            "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "IDNPS"}]},
            "system": IDNPS_SYSTEM, "value": row.sas_operator}}}],
        "identifier": [{"system": authority, "value": row.sas_id}],
        "status": STATUSES[row.status],
        "slot": [{"reference": f"Slot/{slot.id}"}],
        "start": iso(slot.starts_at, time_zone),
        "end": iso(slot.ends_at, time_zone),
        "created": iso(row.created_at, time_zone),
        "participant": [{"actor": {"identifier": {
            "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "IDNPS"}]},
            "system": IDNPS_SYSTEM, "value": national_id(slot.practitioner.rpps)}}, "status": "accepted"}],
    }
