"""Public search: the places of care near a commune, with each practitioner's next free slot."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, union
from sqlalchemy.orm import Session, selectinload

from booking.geo.models import Commune, epci_members
from booking.geo.services import find_communes
from booking.search.models import UnmetDemand
from booking.sites.models import SITE_KINDS, Practitioner, Site, SitePractitioner, site_served_communes
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot, bookable

UNMET_DEMAND_DAYS = 30
TIER_LABELS = ("Dans votre commune", "À proximité (sites qui desservent votre commune, intercommunalité)",
               "Ailleurs dans votre département")


@dataclass
class SiteResult:
    site: Site
    tier: int
    practitioners: list[tuple[Practitioner, Slot | None]] = field(default_factory=list)


@dataclass
class SearchResult:
    commune: Commune | None
    choices: list[Commune]           # several communes matched: the person picks one
    sites: list[SiteResult]
    found_free_slot: bool
    typed: str | None = None         # what the person typed, when the commune was found despite a typo


def search(session: Session, query: str, now: datetime, profession: str | None = None, kind: str | None = None,
           from_day: date | None = None, commune_insee: str | None = None, record_demand: bool = True) -> SearchResult:
    """Find the sites serving a commune (then its EPCI, then its département) and their next free slots."""
    profession = profession if profession in PROFESSIONS else None
    kind = kind if kind in SITE_KINDS else None
    commune = session.get(Commune, commune_insee) if commune_insee else None
    chosen, misspelt = commune is not None, False
    if commune is None:
        matches, misspelt = find_communes(session, query, limit=8)
        exact = [match for match in matches if match.search_name == _key(query)]
        # Homonyms are never picked silently: "Saint-Bonnet" names a dozen communes in France.
        if len(matches) == 1:
            commune = matches[0]
        elif len(exact) == 1:
            commune = exact[0]
        else:
            return SearchResult(None, exact or matches, [], False, typed=query.strip() if misspelt else None)
        # Demand is counted for a commune the person named exactly (or picked), not for a guess from a typo.
        chosen = commune.search_name == _key(query) or query.strip() in {p.code for p in commune.postal_codes}
    epcis = select(epci_members.c.epci_siren).where(epci_members.c.commune_insee == commune.insee)
    epci_communes = select(epci_members.c.commune_insee).where(epci_members.c.epci_siren.in_(epcis))
    here_parts = (select(site_served_communes.c.site_id).where(site_served_communes.c.commune_insee == commune.insee),
                  select(Site.id).where(or_(Site.commune_insee == commune.insee,
                                            Site.operator_commune_insee == commune.insee)))
    served_here = union(*here_parts)
    served_epci = select(site_served_communes.c.site_id).where(site_served_communes.c.commune_insee.in_(epci_communes))
    in_departement = select(Site.id).join(Commune, Site.commune_insee == Commune.insee).where(
        Commune.departement_code == commune.departement_code)
    # One UNION of small id lists: an OR across them made PostgreSQL read every commune of France.
    # Flat, because SQLite takes no UNION nested in another.
    candidates = union(*here_parts, served_epci, select(Site.id).where(Site.operator_epci_siren.in_(epcis)),
                       in_departement)
    query_sites = (select(Site).options(selectinload(Site.commune), selectinload(Site.practitioner_links)
                                        .selectinload(SitePractitioner.practitioner))
                   .where(Site.id.in_(candidates)))
    if kind:
        query_sites = query_sites.where(Site.kind == kind)
    sites = list(session.scalars(query_sites))
    here = set(session.scalars(served_here))
    own_epcis = set(session.scalars(epcis))
    near = set(session.scalars(served_epci)) | {s.id for s in sites if s.operator_epci_siren in own_epcis}
    start = max(now, datetime.combine(from_day, time(), tzinfo=ZoneInfo("Europe/Paris"))) if from_day else now
    wanted = sorted({link.practitioner_id for site in sites for link in site.practitioner_links
                     if link.status == "accepted" and profession in (None, link.practitioner.profession)})
    nexts = _next_slots(session, [s.id for s in sites], wanted, start, now)
    results = []
    for site in sites:
        tier = 0 if site.commune_insee == commune.insee else 1 if site.id in here or site.id in near else 2
        result = SiteResult(site, tier)
        for link in site.practitioner_links:
            practitioner = link.practitioner
            if link.status != "accepted" or (profession and practitioner.profession != profession):
                continue
            result.practitioners.append((practitioner, nexts.get((site.id, practitioner.id))))
        if result.practitioners or (site.drop_in_only and not profession):
            results.append(result)
    results.sort(key=lambda r: (r.tier, _first_start(r), r.site.name))
    horizon = now + timedelta(days=UNMET_DEMAND_DAYS)
    found = any(slot is not None and slot.starts_at <= horizon for r in results for _, slot in r.practitioners)
    if not found and record_demand and chosen:
        # Anonymous by construction: which commune, which profession, which day — nobody's name.
        session.add(UnmetDemand(commune_insee=commune.insee, profession=profession, site_kind=kind,
                                searched_on=now.date()))
        session.flush()
    return SearchResult(commune, [], results, found, typed=query.strip() if misspelt else None)


def _key(text: str) -> str:
    from booking.geo.rules import search_key

    return search_key(text or "")


def _first_start(result: SiteResult) -> datetime:
    starts = [slot.starts_at for _, slot in result.practitioners if slot is not None]
    return min(starts) if starts else datetime.max.replace(tzinfo=ZoneInfo("UTC"))


def _next_slots(session: Session, site_ids: list[int], practitioner_ids: list[int], start: datetime,
                now: datetime) -> dict[tuple[int, int], Slot]:
    """The first bookable slot of each of these practitioners at each of these sites, in one GROUP BY."""
    if not site_ids or not practitioner_ids:
        return {}
    first = (select(Slot.site_id, Slot.practitioner_id, func.min(Slot.starts_at).label("starts_at"))
             .where(Slot.site_id.in_(site_ids), Slot.practitioner_id.in_(practitioner_ids), bookable(now),
                    Slot.starts_at >= start)
             .group_by(Slot.site_id, Slot.practitioner_id)).subquery()
    rows = session.scalars(select(Slot).join(first, (Slot.site_id == first.c.site_id)
                                             & (Slot.practitioner_id == first.c.practitioner_id)
                                             & (Slot.starts_at == first.c.starts_at)))
    return {(slot.site_id, slot.practitioner_id): slot for slot in rows}
