"""Public search: the places of care near a commune, with each practitioner's next free slot."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from booking.database import one_of
from booking.geo.models import Commune, epci_members
from booking.geo.rules import time_zone_for_departement
from booking.geo.services import find_communes, the_one_commune_named
from booking.geo.travel import Trip, position, reach_box, trip
from booking.search.models import UnmetDemand
from booking.sites.models import (
    SITE_KINDS,
    Practitioner,
    Site,
    SitePractitioner,
    site_position_columns,
    site_served_communes,
)
from booking.sites.professions import PROFESSIONS
from booking.slots.models import Slot, bookable
from notifications.sqltypes import UtcDateTime

UNMET_DEMAND_DAYS = 30
FAR_SITES_SHOWN = 10
# The longest drive a search looks across the département's border for, when the person sets no limit.
REACH_MINUTES = 60
RADIUS_CHOICES = (15, 20, 30, 45, 60)  # « jusqu'à 30 min »
TIER_LABELS = ("Dans votre commune", "À proximité (sites qui desservent votre commune, intercommunalité)",
               "Ailleurs dans votre département")


class NextSlot(NamedTuple):
    id: int
    starts_at: datetime


@dataclass
class SiteResult:
    site: Site
    tier: int
    practitioners: list[tuple[Practitioner, NextSlot | None]] = field(default_factory=list)
    trip: Trip | None = None         # from the person's commune; None when either end has no known position


@dataclass
class SearchResult:
    commune: Commune | None
    choices: list[Commune]           # several communes matched: the person picks one
    sites: list[SiteResult]
    found_free_slot: bool
    typed: str | None = None         # what the person typed, when the commune was found despite a typo
    more_elsewhere: int = 0          # sites further away in the département, left out of this page
    placed: bool = False             # the commune has a known position: sites are ranked by travel time
    radius: int | None = None        # « jusqu'à N min », as asked
    beyond_radius: int = 0           # sites left out by the radius (or whose distance is unknown)

    @property
    def total(self) -> int:
        return len(self.sites) + self.more_elsewhere


def search(session: Session, query: str, now: datetime, profession: str | None = None, kind: str | None = None,
           from_day: date | None = None, commune_insee: str | None = None, record_demand: bool = True,
           with_all_practitioners: bool = False, all_sites: bool = False,
           departement_first: str | None = None, radius: int | None = None) -> SearchResult:
    """Find the sites near a commune and their next free slots: by estimated travel time from the commune (then
    the first free slot) when it is placed, else the sites serving it, its EPCI's, then its département's.

    The candidates are the sites of the commune, those serving it or its EPCI, the département's, and, for a
    placed commune, those within ``radius`` minutes (``REACH_MINUTES`` without one) across the border. Of the
    sites elsewhere, only the ``FAR_SITES_SHOWN`` nearest (or soonest) are kept unless ``all_sites``.
    ``with_all_practitioners`` also loads every practitioner of each site found (the API lists their
    professions).
    """
    radius = radius if radius in RADIUS_CHOICES else None
    profession = profession if profession in PROFESSIONS else None
    kind = kind if kind in SITE_KINDS else None
    commune = session.scalar(_COMMUNE, {"insee": commune_insee}) if commune_insee else None
    chosen, misspelt = commune is not None, False
    if commune is None:
        matches, misspelt = find_communes(session, query, limit=12, departement_first=departement_first)
        # Homonyms and longer names are never set aside silently: "Saint-Bonnet" names a dozen communes.
        commune = the_one_commune_named(matches, query)
        if commune is None:
            return SearchResult(None, matches, [], False, typed=query.strip() if misspelt else None)
        # Demand is counted for a commune the person named exactly (or picked), not for a guess from a typo.
        chosen = commune.search_name == _key(query) or query.strip() in {p.code for p in commune.postal_codes}
    origin = position(commune.latitude, commune.longitude)
    tiers = session.execute(_TIERS, {"insee": commune.insee, "departement": commune.departement_code,
                                     **_box(origin, radius or REACH_MINUTES)}).all()
    tier_of = {row.id: row.tier for row in tiers}
    trips = {row.id: trip(origin, position(row.latitude, row.longitude)) for row in tiers} if origin else {}

    # « À partir du 2 mars » is the person's 2 March: their commune's day (La Réunion is 3 hours ahead of Paris).
    zone = ZoneInfo(time_zone_for_departement(commune.departement_code))
    start = max(now, datetime.combine(from_day, time(), tzinfo=zone)) if from_day else now
    dialect = session.get_bind().dialect.name
    of_kind = [row for row in tiers if kind is None or row.kind == kind]
    practitioner_ids_at: dict[int, list[int]] = {}
    nexts: dict[tuple[int, int], NextSlot] = {}
    if of_kind:
        for link in session.execute(_links_with_next_slot(bool(profession), dialect), {
                "site_ids": [row.id for row in of_kind], "profession": profession, "start": start, "now": now}):
            practitioner_ids_at.setdefault(link.site_id, []).append(link.practitioner_id)
            if link.slot_id is not None:
                nexts[link.site_id, link.practitioner_id] = NextSlot(link.slot_id, link.starts_at)
    # The candidates as the tiers' plain rows (id, tier, name, kind, drop-in): the sites and practitioners a
    # page shows are loaded as objects once they are known, not the département's dozens of sites and their
    # practitioners. Without a profession, the drop-in permanences are candidates too (nobody to book there:
    # one comes).
    candidates = [row for row in of_kind if row.id in practitioner_ids_at or (not profession and row.drop_in_only)]
    beyond = 0
    if origin and radius:
        within = [row for row in candidates if trips[row.id] is not None and trips[row.id].minutes <= radius]
        beyond, candidates = len(candidates) - len(within), within
    never = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    soonest = {row.id: min((nexts[row.id, p].starts_at for p in practitioner_ids_at.get(row.id, ())
                            if (row.id, p) in nexts), default=never) for row in candidates}
    if origin:
        # By the drive, to the minute (two sites of one town are as near), then the first free slot; sites whose
        # place is unknown last, as without positions.
        candidates.sort(key=lambda row: (0, round(trips[row.id].minutes), soonest[row.id], row.name)
                        if trips[row.id] else (1, tier_of[row.id], soonest[row.id], row.name))
    else:
        candidates.sort(key=lambda row: (tier_of[row.id], soonest[row.id], row.name))
    horizon = now + timedelta(days=UNMET_DEMAND_DAYS)
    found = any(first <= horizon for first in soonest.values())
    more_elsewhere = 0
    elsewhere = [row for row in candidates if tier_of[row.id] == 2]
    if not all_sites and len(elsewhere) > FAR_SITES_SHOWN:
        # The rest of the département after the ten soonest: on demand, not in a page of fifty cards.
        more_elsewhere = len(elsewhere) - FAR_SITES_SHOWN
        candidates = [row for row in candidates if tier_of[row.id] < 2] + elsewhere[:FAR_SITES_SHOWN]
    shown_ids = [row.id for row in candidates]
    sites = {site.id: site for site in session.scalars(_sites_by_id(with_all_practitioners, dialect),
                                                       {"site_ids": shown_ids})}
    practitioners = {p.id: p for p in session.scalars(_practitioners_by_id(dialect), {"ids": sorted(
        {p for site_id in shown_ids for p in practitioner_ids_at.get(site_id, ())})})}
    results = [SiteResult(sites[site_id], tier_of[site_id],
                          [(practitioners[p], nexts.get((site_id, p))) for p in practitioner_ids_at.get(site_id, ())],
                          trips.get(site_id))
               for site_id in shown_ids]
    if not found and record_demand and chosen:
        # Anonymous by construction: which commune, which profession, which day — nobody's name.
        session.add(UnmetDemand(commune_insee=commune.insee, profession=profession, site_kind=kind,
                                searched_on=now.date()))
        session.flush()
    return SearchResult(commune, [], results, found, typed=query.strip() if misspelt else None,
                        more_elsewhere=more_elsewhere, placed=origin is not None, radius=radius,
                        beyond_radius=beyond)


def _box(origin: tuple[float, float] | None, minutes: int) -> dict:
    """The bounds a drive of ``minutes`` may reach from ``origin``, as the search binds them; an empty box for a
    commune without position."""
    if origin is None:
        return {"south": 1.0, "north": -1.0, "west": 1.0, "east": -1.0}
    return dict(zip(("south", "north", "west", "east"), reach_box([origin], minutes), strict=True))


def _tiers():
    """Every candidate site with its tier (0: in the commune, 1: serving it or its EPCI, 2: elsewhere in the
    département), in one UNION ALL of small id lists: an OR across them made PostgreSQL read every commune of
    France. Flat, because SQLite takes no UNION nested in another."""
    insee = bindparam("insee")
    epcis = select(epci_members.c.epci_siren).where(epci_members.c.commune_insee == insee)
    epci_communes = select(epci_members.c.commune_insee).where(epci_members.c.epci_siren.in_(epcis))
    tiers = union_all(
        select(Site.id.label("site_id"), literal(0).label("tier")).where(Site.commune_insee == insee),
        select(Site.id, literal(1)).where(Site.operator_commune_insee == insee),
        select(site_served_communes.c.site_id, literal(1)).where(site_served_communes.c.commune_insee == insee),
        select(site_served_communes.c.site_id, literal(1)).where(site_served_communes.c.commune_insee.in_(
            epci_communes)),
        select(Site.id, literal(1)).where(Site.operator_epci_siren.in_(epcis)),
        select(Site.id, literal(2)).join(Commune, Site.commune_insee == Commune.insee).where(
            Commune.departement_code == bindparam("departement")),
        # Within reach across the border: the sites of the communes in the box, and those placed in it.
        select(Site.id, literal(2)).join(Commune, Site.commune_insee == Commune.insee).where(
            Commune.latitude.between(bindparam("south"), bindparam("north")),
            Commune.longitude.between(bindparam("west"), bindparam("east"))),
        select(Site.id, literal(2)).where(Site.latitude.between(bindparam("south"), bindparam("north")),
                                          Site.longitude.between(bindparam("west"), bindparam("east"))),
    ).subquery()
    # With what decides which are candidates and their order (name, kind, drop-in, where it is): no second query.
    place = aliased(Commune)
    latitude, longitude = site_position_columns(place)
    return (select(Site.id, func.min(tiers.c.tier).label("tier"), Site.name, Site.kind, Site.drop_in_only,
                   latitude.label("latitude"), longitude.label("longitude"))
            .join(Site, Site.id == tiers.c.site_id).join(place, place.insee == Site.commune_insee)
            .group_by(Site.id, Site.name, Site.kind, Site.drop_in_only, Site.latitude, Site.longitude,
                      place.latitude, place.longitude))


# The search's statements are built once, with their values bound at each search: building them cost more
# than PostgreSQL took to run them.
_TIERS = _tiers()
# The département is named in the page's heading: read with the commune.
_COMMUNE = select(Commune).options(joinedload(Commune.departement)).where(Commune.insee == bindparam("insee"))


@cache
def _links_with_next_slot(of_profession: bool, dialect: str):
    """(site, practitioner, first free slot's id and start or NULLs) for the practitioners the person looks for at
    the candidate sites, in one statement: a département holds dozens of sites and hundreds of links.

    The first free slot is one index probe per (site, practitioner) that stops at it (ordered as the index
    ``ix_slots_open_site_practitioner_start`` is), rather than a GROUP BY over every future slot of the
    département's sites (thousands of rows at national scale).
    """
    now = bindparam("now", type_=UtcDateTime())

    def first_free(column):
        return (select(column).where(Slot.site_id == SitePractitioner.site_id,
                                     Slot.practitioner_id == SitePractitioner.practitioner_id, bookable(now),
                                     Slot.starts_at >= bindparam("start", type_=UtcDateTime()))
                .order_by(Slot.starts_at).limit(1).scalar_subquery())  # a practitioner's slots never overlap

    links = (select(SitePractitioner.site_id, SitePractitioner.practitioner_id,
                    first_free(Slot.id).label("slot_id"), first_free(Slot.starts_at).label("starts_at"))
             .where(one_of(SitePractitioner.site_id, "site_ids", dialect), SitePractitioner.status == "accepted")
             .order_by(SitePractitioner.practitioner_id))
    if not of_profession:
        return links
    return (links.join(Practitioner, SitePractitioner.practitioner_id == Practitioner.id)
            .where(Practitioner.profession == bindparam("profession")))


@cache
def _sites_by_id(with_all_practitioners: bool, dialect: str):
    query = select(Site).options(joinedload(Site.commune)).where(one_of(Site.id, "site_ids", dialect))
    if with_all_practitioners:
        query = query.options(selectinload(Site.practitioner_links).selectinload(SitePractitioner.practitioner))
    return query


@cache
def _practitioners_by_id(dialect: str):
    return select(Practitioner).where(one_of(Practitioner.id, "ids", dialect))


def _key(text: str) -> str:
    from booking.geo.rules import search_key

    return search_key(text or "")
