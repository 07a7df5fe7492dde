"""What the open-slots feed and the widget read: public sites, their schedules, their future slots."""

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from booking.formatting import SITE_KIND_LABELS
from booking.geo.models import Commune, Departement, Region
from booking.openslots import fhir
from booking.sites.models import Site, SitePractitioner
from booking.sites.professions import PROFESSIONS
from booking.sites.rules import ACCESSIBILITY
from booking.slots.models import Slot, bookable, public, slot_changes
from booking.slots.services import DEFAULT_HORIZON_DAYS, next_free_slots

BATCH = 2000


def public_sites():
    """Sites people can book online (drop-in permanences have no slots to publish)."""
    return (select(Site).options(selectinload(Site.commune), selectinload(Site.hours))
            .where(Site.booking_open.is_(True), Site.drop_in_only.is_(False)).order_by(Site.id))


def locations(session: Session, base_url: str):
    for site in session.scalars(public_sites()):
        yield fhir.location(site, base_url, SITE_KIND_LABELS.get(site.kind, site.kind),
                            [ACCESSIBILITY.get(code, code) for code in site.accessibility or []],
                            site.commune.departement.name, site.commune.departement.region.name)


def schedules(session: Session, base_url: str):
    links = session.scalars(
        select(SitePractitioner).options(selectinload(SitePractitioner.practitioner))
        .join(Site, Site.id == SitePractitioner.site_id)
        .where(SitePractitioner.status == "accepted", Site.booking_open.is_(True), Site.drop_in_only.is_(False))
        .order_by(SitePractitioner.site_id, SitePractitioner.practitioner_id))
    for link in links:
        profession = link.practitioner.profession
        yield fhir.schedule(link.site_id, link.practitioner_id, profession, PROFESSIONS.get(profession, profession),
                            base_url)


def _slot_query(now: datetime, since: datetime | None):
    horizon = now + timedelta(days=DEFAULT_HORIZON_DAYS)
    query = (select(Slot, Site.time_zone, Site.phone, bookable(now).label("free"))
             .join(Site, Site.id == Slot.site_id)
             .where(Site.booking_open.is_(True), Site.drop_in_only.is_(False), Slot.starts_at > now,
                    Slot.starts_at < horizon))
    if since is not None:
        # Changes since then, withdrawn slots included (said busy): an aggregator keeps its copy current. An SNP
        # slot released since then is a change too; one that stopped being public is said busy, as withdrawn.
        changed = select(slot_changes.c.slot_id).where(slot_changes.c.changed_at > since)
        released = and_(Slot.visibility == "snp", Slot.released_at > since, Slot.released_at <= now)
        return query.where(or_(Slot.id.in_(changed), released)).order_by(Slot.id)
    # Slots reserved to professionals or, until released, to the SAS are not published.
    return query.where(Slot.status.in_(("open", "blocked")), public(now)).order_by(Slot.id)


def slots(session: Session, base_url: str, now: datetime, since: datetime | None = None):
    # Closed with the generator, so that a reader who stops early leaves no server-side cursor open.
    with session.execute(_slot_query(now, since).execution_options(yield_per=BATCH)) as rows:
        for slot_row, time_zone, phone, free in rows:
            yield fhir.slot(slot_row, bool(free) and slot_row.status == "open", time_zone, base_url, phone)


def states_covered(session: Session) -> list[str]:
    """The regions the published sites lie in: the manifest's ``state`` extension (SMART Scheduling Links)."""
    return list(session.scalars(
        select(Region.name).distinct().join(Departement, Departement.region_code == Region.code)
        .join(Commune, Commune.departement_code == Departement.code)
        .join(Site, Site.commune_insee == Commune.insee)
        .where(Site.booking_open.is_(True), Site.drop_in_only.is_(False)).order_by(Region.name)))


def slots_version(session: Session, now: datetime) -> tuple[datetime | None, int]:
    """What changes whenever any slot does: its last update (or an SNP slot's release) and the highest id (three
    index look-ups)."""
    last, released, highest = session.execute(select(
        select(func.max(slot_changes.c.changed_at)).scalar_subquery(),
        select(func.max(Slot.released_at)).where(Slot.released_at <= now).scalar_subquery(),
        select(func.max(Slot.id)).scalar_subquery())).one()
    return max((moment for moment in (last, released) if moment is not None), default=None), highest or 0


def ndjson(resources) -> str:
    return "".join(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n" for resource in resources)


def etag_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def widget_slots(session: Session, sites: list[Site], now: datetime, per_practitioner: int = 3, days: int = 30):
    """The next free slots of some sites, a few per practitioner, for the widget: ((site, practitioner), slots)."""
    offers = [((site, practitioner), slots) for site in sites
              for practitioner, slots in next_free_slots(session, site, now, per_practitioner, days).items()]
    return sorted(offers, key=lambda item: (item[0][0].name, item[1][0].starts_at))
