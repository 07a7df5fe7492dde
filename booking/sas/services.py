"""The SAS's slot search (guide: « Recherche de créneaux », individual practitioners)."""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.clock import DEFAULT_TIME_ZONE
from booking.geo.models import Commune
from booking.sas import fhir
from booking.sites.models import Practitioner, Site
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot, bookable

MAX_IDENTIFIERS = 25
MAX_DAYS = 31
IDENTIFIER = "schedule.actor:Practitioner.identifier"


class SearchError(Exception):
    """A search that cannot run: answered 400 with an OperationOutcome."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Search:
    start: datetime
    end: datetime
    rpps: list[str]


def _instant(text: str, end_of_day: bool) -> datetime:
    """A FHIR date or dateTime; without an offset, French metropolitan time (the SAS's)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(date.fromisoformat(text), time.max if end_of_day else time.min)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SearchError("invalid", f"Date illisible : « {text} » (attendu : AAAA-MM-JJ ou "
                                     f"AAAA-MM-JJThh:mm:ss avec son décalage).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(DEFAULT_TIME_ZONE))


def _period(values: list[str]) -> tuple[datetime, datetime]:
    bounds = {}
    for value in values:
        prefix, text = value[:2], value[2:]
        if prefix not in ("ge", "le") or prefix in bounds:
            raise SearchError("invalid", "« start » s’emploie deux fois : une avec le préfixe ge, une avec le "
                                         "préfixe le (start=ge…&start=le…).")
        bounds[prefix] = _instant(text, end_of_day=prefix == "le")
    if set(bounds) != {"ge", "le"}:
        raise SearchError("required", "Indiquez la période : start=ge… et start=le….")
    if bounds["le"] < bounds["ge"]:
        raise SearchError("invalid", "La fin de la période (start=le…) précède son début (start=ge…).")
    if bounds["le"] - bounds["ge"] > timedelta(days=MAX_DAYS):
        raise SearchError("too-costly", f"Une recherche couvre {MAX_DAYS} jours au plus.")
    return bounds["ge"], bounds["le"]


def _identifiers(values: list[str]) -> list[str]:
    tokens = [token.strip() for value in values for token in value.split(",") if token.strip()]
    if not tokens:
        raise SearchError("required", f"Indiquez de 1 à {MAX_IDENTIFIERS} praticiens : {IDENTIFIER}="
                                      f"{fhir.IDNPS_SYSTEM}|8…")
    if len(tokens) > MAX_IDENTIFIERS:
        raise SearchError("too-costly", f"{MAX_IDENTIFIERS} praticiens au plus par recherche ({len(tokens)} "
                                        f"demandés).")
    rpps = []
    for token in tokens:
        system, bar, value = token.rpartition("|")
        if not bar or system != fhir.IDNPS_SYSTEM or not re.fullmatch(r"8\d{11}", value):
            raise SearchError("invalid", f"Identifiant illisible : « {token} » (attendu : {fhir.IDNPS_SYSTEM}|8 "
                                         f"suivi des 11 chiffres du RPPS).")
        rpps.append(value[1:])
    return rpps


def parse(args) -> Search:
    """Read the guide's search parameters (``args``: a MultiDict of the query string)."""
    if args.getlist("status") != ["free"]:
        raise SearchError("required" if not args.getlist("status") else "not-supported",
                          "Seuls les créneaux libres se recherchent : status=free.")
    start, end = _period(args.getlist("start"))
    return Search(start, end, _identifiers(args.getlist(IDENTIFIER)))


def search(session: Session, query: Search, now: datetime, root_url: str, self_url: str) -> dict:
    """The free slots of the named practitioners in the period, as a searchset Bundle with their Schedule,
    Practitioner and PractitionerRole (Location contained): everything a regulator may book, PRO and SNP
    slots included. Two queries of plain rows (no ORM objects): the SAS asks often, for 25 practitioners."""
    practitioners = {row.id: row for row in session.execute(
        select(Practitioner.id, Practitioner.rpps, Practitioner.first_name, Practitioner.last_name,
               Practitioner.profession).where(Practitioner.rpps.in_(query.rpps)))}
    slots = session.execute(
        select(Slot.id, Slot.site_id, Slot.practitioner_id, Slot.starts_at, Slot.ends_at, Slot.modality,
               Slot.visibility, Slot.released_at, Site.name.label("site_name"), Site.address, Site.postal_code,
               Site.phone, Site.time_zone, Commune.name.label("city"))
        .join(Site, Site.id == Slot.site_id).join(Commune, Commune.insee == Site.commune_insee)
        .where(Slot.practitioner_id.in_(list(practitioners) or [0]), Slot.starts_at >= query.start,
               Slot.starts_at <= query.end, bookable(now, regulator=True))
        .order_by(Slot.starts_at, Slot.id)).all()
    matches, included, practitioners_in, schedules_in = [], [], set(), set()
    coded = {p.id: (PROFESSIONS.get(p.profession, p.profession), fhir.specialties(p.profession))
             for p in practitioners.values()}
    for slot in slots:
        practitioner = practitioners[slot.practitioner_id]
        released = slot.released_at is not None and slot.released_at <= now
        label, specialty = coded[practitioner.id]
        matches.append(fhir.slot(slot, practitioner, label, slot.time_zone, f"{root_url}/reserver/{slot.id}",
                                 released, specialty))
        # Each Schedule, Practitioner and PractitionerRole once, built only the first time.
        if (slot.site_id, practitioner.id) not in schedules_in:
            schedules_in.add((slot.site_id, practitioner.id))
            included += [fhir.schedule(slot.site_id, practitioner.id), fhir.practitioner_role(
                fhir.Place(slot.site_id, slot.site_name, slot.address, slot.postal_code, slot.city, slot.phone),
                practitioner.id)]
        if practitioner.id not in practitioners_in:
            practitioners_in.add(practitioner.id)
            included.append(fhir.practitioner(practitioner))
    return fhir.bundle(str(uuid.uuid4()), self_url, f"{root_url}/fhir/sas", matches, included)
