"""Site use cases."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.sites.models import SitePractitioner, Site


def list_public_sites(session: Session) -> list[Site]:
    """Return the sites shown to the public, by commune then name."""
    return list(session.scalars(
        select(Site)
        .options(selectinload(Site.commune), selectinload(Site.practitioner_links)
                 .selectinload(SitePractitioner.practitioner))
        .order_by(Site.commune_insee, Site.name)
    ))
