"""Site use cases."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.auth.models import User
from booking.auth.permissions import Action, require, site_ids_run_by
from booking.errors import NotFound
from booking.sites.models import Practitioner, Site, SitePractitioner


def list_public_sites(session: Session) -> list[Site]:
    """Return the sites shown to the public, by commune then name."""
    return list(session.scalars(
        select(Site)
        .options(selectinload(Site.commune), selectinload(Site.practitioner_links)
                 .selectinload(SitePractitioner.practitioner))
        .order_by(Site.commune_insee, Site.name)
    ))


def sites_visible_to(session: Session, user: User) -> list[Site]:
    """Return the sites a staff member works at, by name."""
    query = select(Site).order_by(Site.name)
    if user.role in ("agent", "commune_admin"):
        query = query.where(Site.id.in_(site_ids_run_by(user.commune_codes)))
    elif user.role == "practitioner":
        query = query.join(SitePractitioner).join(Practitioner).where(
            Practitioner.user_id == user.id, SitePractitioner.status == "accepted")
    elif user.role != "admin":
        return []
    return list(session.scalars(query))


def get_site_for(session: Session, user: User, site_id: int, action: Action = Action.VIEW) -> Site:
    """Return a site the user may act on, or raise NotFound / Forbidden."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("Ce lieu de soins n’existe pas.")
    require(user, action, site)
    return site
