"""Domain objects as the API shows them: instants in UTC with ``Z``, slot times also in the site's local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.appointments.models import Appointment
from booking.geo.models import Commune
from booking.patients.models import Patient
from booking.search.services import SiteResult
from booking.sites.models import Practitioner, Site
from booking.slots.models import Slot

UTC = ZoneInfo("UTC")
TIERS = ("commune", "epci", "departement")


def instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def commune(item: Commune) -> dict:
    return {"insee": item.insee, "name": item.name, "departement_code": item.departement_code,
            "postal_codes": sorted(code.code for code in item.postal_codes)}


def practitioner(item: Practitioner) -> dict:
    return {"id": item.id, "first_name": item.first_name, "last_name": item.last_name,
            "profession": item.profession, "specialty": item.specialty}


def _accepted(site: Site) -> list[Practitioner]:
    return [link.practitioner for link in site.practitioner_links if link.status == "accepted"]


def _site_base(site: Site) -> dict:
    return {"id": site.id, "name": site.name, "kind": site.kind, "address": site.address,
            "postal_code": site.postal_code, "commune": {"insee": site.commune.insee, "name": site.commune.name},
            "booking_open": site.booking_open, "drop_in_only": site.drop_in_only,
            "professions": sorted({p.profession for p in _accepted(site)})}


def site_summary(result: SiteResult) -> dict:
    """A site found by the search, with how near it is and its first free slot."""
    starts = [slot.starts_at for _, slot in result.practitioners if slot is not None]
    return {**_site_base(result.site), "distance_tier": TIERS[result.tier],
            "next_free_slot": instant(min(starts)) if starts else None}


def site(item: Site) -> dict:
    return {**_site_base(item), "phone": item.phone, "opening_hours": item.opening_hours,
            "instructions": item.instructions, "equipment": list(item.equipment or []),
            "accessibility": list(item.accessibility or []), "time_zone": item.time_zone,
            "practitioners": [practitioner(p) for p in sorted(_accepted(item), key=lambda p: (p.last_name, p.id))]}


def slot(item: Slot) -> dict:
    zone = item.site.time_zone
    return {"id": item.id, "site_id": item.site_id, "practitioner_id": item.practitioner_id,
            "start": instant(item.starts_at), "end": instant(item.ends_at),
            "local_start": local(item.starts_at, zone), "local_end": local(item.ends_at, zone),
            "status": item.status, "modality": item.modality, "capacity": item.capacity,
            "remaining": max(0, item.capacity - item.booked_count)}


def patient(item: Patient) -> dict:
    return {"id": item.id, "first_name": item.first_name, "last_name": item.last_name,
            "birth_date": item.birth_date, "commune_insee": item.commune_insee, "phone": item.phone,
            "phone_kind": item.phone_kind, "email": item.email, "sms_consent": item.sms_consent}


def appointment(item: Appointment, sms: bool) -> dict:
    return {"id": item.id, "reference": item.reference, "status": item.status, "patient_id": item.patient_id,
            "channel": item.channel, "reason": item.reason, "booked_at": instant(item.created_at),
            "cancelled_at": instant(item.cancelled_at), "cancel_reason": item.cancel_reason,
            "checked_in_at": instant(item.checked_in_at), "sms": sms, "slot": slot(item.slot)}


def access_commune(commune, unmet, per_thousand) -> dict:
    """A commune of a département's access figures (booking.stats.access.CommuneAccess)."""
    return {"insee": commune.insee, "name": commune.name, "placed": commune.position is not None,
            "population_2021": commune.population, "population_2015": commune.population_2015,
            "minutes_to_site": round(commune.to_site) if commune.to_site is not None else None,
            "minutes_to_free_slot": round(commune.to_free_slot) if commune.to_free_slot is not None else None,
            "unmet_searches": unmet, "unmet_per_thousand": per_thousand}
