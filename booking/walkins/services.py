"""Record the visits of a permanence without appointment, and count them."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.models import User
from booking.auth.permissions import Action, fetch
from booking.errors import InvalidInput
from booking.geo.services import resolve_commune
from booking.sites.models import Site
from booking.sites.professions import PROFESSIONS
from booking.walkins.models import WalkInVisit


def record_visit(session: Session, actor: User, site_id: int, at: time, profession: str, commune_text: str,
                 now: datetime) -> WalkInVisit:
    """Count one visit of today at a site (the desk types the time, the profession and the commune)."""
    site = fetch(session, Site, site_id, "Lieu de soins introuvable.", actor, Action.MARK_ATTENDANCE)
    if profession not in PROFESSIONS:
        raise InvalidInput("Choisissez la profession consultée.", field="profession")
    zone = ZoneInfo(site.time_zone)
    visited_at = datetime.combine(now.astimezone(zone).date(), at, tzinfo=zone)
    if visited_at > now + timedelta(minutes=5):
        raise InvalidInput("Une visite se note quand elle a eu lieu : l’heure est à venir.", field="at")
    commune = resolve_commune(session, commune_text) if (commune_text or "").strip() else None
    visit = WalkInVisit(site_id=site.id, visited_at=visited_at, profession=profession,
                        commune_insee=commune.insee if commune else None, recorded_by_id=actor.id, created_at=now)
    session.add(visit)
    session.flush()
    return visit


def visits_on(session: Session, site: Site, day: date) -> list[WalkInVisit]:
    """A site's visits of one local day, in time order."""
    zone = ZoneInfo(site.time_zone)
    start = datetime.combine(day, time(), tzinfo=zone)
    return list(session.scalars(select(WalkInVisit).where(
        WalkInVisit.site_id == site.id, WalkInVisit.visited_at >= start,
        WalkInVisit.visited_at < start + timedelta(days=1)).order_by(WalkInVisit.visited_at)))


def count_visits(session: Session, site_ids: list[int], first: datetime, last: datetime,
                 profession: str | None = None) -> int:
    """How many walk-in visits these sites received in [first, last)."""
    query = select(func.count(WalkInVisit.id)).where(WalkInVisit.site_id.in_(site_ids),
                                                     WalkInVisit.visited_at >= first, WalkInVisit.visited_at < last)
    if profession:
        query = query.where(WalkInVisit.profession == profession)
    return session.scalar(query) or 0
