"""Our sites, schedules and slots written as FHIR R4 resources, the SMART Scheduling Links way.

Pure functions: what a resource says is decided here, from plain values (no database).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.sites.nomenclatures import codings

DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
BOOKING_PHONE = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone"
SLOT_CAPACITY = "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity"
FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def iso(moment: datetime, time_zone: str | None = None) -> str:
    """An instant with its offset (the site's local time when given), as FHIR dateTime/instant want it."""
    local = moment.astimezone(ZoneInfo(time_zone)) if time_zone else moment
    return local.isoformat(timespec="seconds")


def location(site, base_url: str, kind_label: str, accessibility: list[str], departement: str,
             region: str | None = None) -> dict:
    resource = {
        "resourceType": "Location",
        "id": str(site.id),
        "identifier": [{"system": f"{base_url}/lieux", "value": str(site.id)}],
        "status": "active",
        "name": site.name,
        "type": [{"coding": [{"system": code_system_url(base_url, "site-kind"), "code": site.kind,
                              "display": kind_label}], "text": kind_label}],
        # SMART Scheduling Links requires ``state``: in France, the region (the département stays in district).
        "address": {"line": [site.address], "city": site.commune.name, "postalCode": site.postal_code,
                    "district": departement, "state": region or departement, "country": "FR"},
        "description": f"Accessibilité : {', '.join(accessibility)}" if accessibility else kind_label,
    }
    if site.phone:
        resource["telecom"] = [{"system": "phone", "value": site.phone}, {"system": "url",
                                                                          "value": f"{base_url}/lieux/{site.id}"}]
    else:
        resource["telecom"] = [{"system": "url", "value": f"{base_url}/lieux/{site.id}"}]
    if site.hours:
        resource["hoursOfOperation"] = [{"daysOfWeek": [FHIR_DAYS[row.weekday]],
                                         "openingTime": row.opens.strftime("%H:%M:%S"),
                                         "closingTime": row.closes.strftime("%H:%M:%S")} for row in site.hours]
    return resource


def schedule_id(site_id: int, practitioner_id: int) -> str:
    return f"{site_id}-{practitioner_id}"


def code_system_url(base_url: str, name: str) -> str:
    """The canonical URL of one of our own code systems: the server answers it with the CodeSystem resource."""
    return f"{base_url}/fhir/CodeSystem/{name}"


def code_system(base_url: str, name: str, title: str, concepts: dict[str, str]) -> dict:
    """A complete CodeSystem resource (FHIR R4) of our own codes, served at its canonical URL."""
    return {"resourceType": "CodeSystem", "id": name, "url": code_system_url(base_url, name),
            "name": name.title().replace("-", ""), "title": title, "status": "active", "content": "complete",
            "caseSensitive": True, "count": len(concepts),
            "concept": [{"code": code, "display": label} for code, label in concepts.items()]}


def schedule(site_id: int, practitioner_id: int, profession: str, profession_label: str, base_url: str) -> dict:
    """One practitioner's offer at one site; who they are is not said (the profession is what people look for).

    The profession in the ANS nomenclatures (TRE-G15, TRE-R38 for a physician's specialty) that French systems
    read, our own code beside it, and the French label as text.
    """
    return {
        "resourceType": "Schedule",
        "id": schedule_id(site_id, practitioner_id),
        "active": True,
        "serviceType": [{"coding": [*codings(profession),
                                    {"system": code_system_url(base_url, "profession"), "code": profession,
                                     "display": profession_label}], "text": profession_label}],
        "actor": [{"reference": f"Location/{site_id}"}],
    }


def slot(slot_row, free: bool, time_zone: str, base_url: str, phone: str | None) -> dict:
    extension = [{"url": DEEP_LINK, "valueUrl": f"{base_url}/reserver/{slot_row.id}"}]
    if phone:
        extension.append({"url": BOOKING_PHONE, "valueString": phone})
    if free:  # the seats left; a busy slot has none to count, and the extension is then left out
        extension.append({"url": SLOT_CAPACITY, "valueInteger": slot_row.capacity - slot_row.booked_count})
    resource = {
        "resourceType": "Slot",
        "id": str(slot_row.id),
        "schedule": {"reference": f"Schedule/{schedule_id(slot_row.site_id, slot_row.practitioner_id)}"},
        "status": "free" if free else "busy",
        "start": iso(slot_row.starts_at, time_zone),
        "end": iso(slot_row.ends_at, time_zone),
        "extension": extension,
    }
    if slot_row.updated_at is not None:
        resource["meta"] = {"lastUpdated": iso(slot_row.updated_at)}
    return resource
