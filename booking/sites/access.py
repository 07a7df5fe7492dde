"""Who reaches which site and which practitioner: the sites package's part of the permission rules."""

from sqlalchemy import exists, select
from sqlalchemy.orm import object_session

from booking.auth.models import User
from booking.auth.permissions import Action, Kind, register, staff_communes
from booking.geo.models import epci_members
from booking.sites.models import Practitioner, Site, SitePractitioner


def site_ids_run_by(communes: set[str]):
    """Select the ids of the sites run by these communes, directly or through their EPCI."""
    epcis = select(epci_members.c.epci_siren).where(epci_members.c.commune_insee.in_(communes))
    # A UNION, not an OR: PostgreSQL estimates each branch from its index, where it guessed half the sites
    # for the OR and then scanned every slot of the country.
    return select(Site.id).where(Site.operator_commune_insee.in_(communes)).union(
        select(Site.id).where(Site.operator_epci_siren.in_(epcis)))


def desk_sites_of_epci(user: User):
    """Select the ids of the sites whose reception desk the user's EPCI keeps itself."""
    return select(Site.id).where(Site.operator_epci_siren == user.epci_siren, Site.epci_runs_desk.is_(True))


def practitioner_of_user(user: User) -> Practitioner | None:
    """The practitioner a practitioner's account is, if any."""
    if user.role != "practitioner":
        return None
    session = object_session(user)
    return session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))


def _accepted_at(practitioner: Practitioner | None, site: Site) -> bool:
    if practitioner is None:
        return False
    return bool(object_session(site).scalar(select(exists().where(
        SitePractitioner.site_id == site.id, SitePractitioner.practitioner_id == practitioner.id,
        SitePractitioner.status == "accepted"))))


def _site_within_reach(user: User, site: Site) -> bool:
    if user.role == "epci_admin":
        return bool(user.epci_siren) and site.operator_epci_siren == user.epci_siren
    if user.role in ("agent", "commune_admin"):
        return bool(site.operator_commune_codes & staff_communes(user))
    if user.role == "practitioner":
        return _accepted_at(practitioner_of_user(user), site)
    return False


def _site_refined(user: User, action: Action, site: Site, permitted: bool) -> bool:
    """A site an EPCI runs is edited by the EPCI's administrators (its member communes read it, unless the EPCI
    lets them edit); agents close a site when their commune lets them."""
    if user.role not in ("agent", "commune_admin"):
        return permitted
    shared = site.operator_epci_siren is not None and not site.members_may_edit
    if action == Action.MANAGE:
        return permitted and not shared
    if action == Action.CLOSE:
        return (permitted and not shared) or site.agents_may_close
    return permitted


def _practitioner_within_reach(user: User, practitioner: Practitioner) -> bool:
    if user.role == "practitioner":
        return practitioner.user_id == user.id
    communes = staff_communes(user)
    return any(link.status != "revoked" and link.site.operator_commune_codes & communes
               for link in practitioner.site_links)


register(Site, Kind("site", _site_within_reach, _site_refined))
register(Practitioner, Kind("practitioner", _practitioner_within_reach))
