"""The one place that answers "may this user do this to that?".

Every view and service asks here. Objects outside the user's communes are
reported as missing (404) rather than forbidden, so that ids cannot be probed.
"""

from enum import Enum

from sqlalchemy import exists, false, select, true
from sqlalchemy.orm import object_session

from booking.appointments.models import Appointment
from booking.auth.models import User
from booking.errors import Forbidden, NotFound
from booking.geo.models import Commune, Epci, epci_members
from booking.patients.models import Patient
from booking.sites.models import Practitioner, Site, SitePractitioner
from booking.slots.models import Slot


class Action(str, Enum):
    VIEW = "view"                  # read the object (staff view of a site, a patient record…)
    MANAGE = "manage"              # edit a site, accept practitioners, invite agents
    BOOK = "book"                  # book at a site, or for a patient
    PUBLISH = "publish"            # publish availability at a site
    CANCEL = "cancel"              # cancel an appointment
    MARK_ATTENDANCE = "attendance"  # check in, attended / no-show
    READ_STATS = "read_stats"      # a commune's statistics
    CLOSE = "close"                # close a site for a day or a period (its calendar)


class Scope(str, Enum):
    """Why an answer is no: out of scope (hide it) or in scope but not for this role."""

    OUT = "out"
    DENIED = "denied"
    ALLOWED = "allowed"


# --- Roles: what each kind of account is, asked here rather than by comparing role names elsewhere -------

def is_admin(user: User) -> bool:
    """A platform administrator."""
    return user.role == "admin"


def is_resident(user: User) -> bool:
    """A resident, booking for themselves and their relatives."""
    return user.role == "resident"


def is_practitioner(user: User) -> bool:
    """A practitioner, publishing availability."""
    return user.role == "practitioner"


def is_commune_admin(user: User) -> bool:
    """A commune's health referent."""
    return user.role == "commune_admin"


def is_staff(user: User) -> bool:
    """Anyone with a workspace: agents, practitioners, referents, EPCI and département roles, administrators."""
    return user.role in ("agent", "practitioner", "commune_admin", "epci_admin", "departement_viewer", "admin")


def is_epci_admin(user: User) -> bool:
    """An EPCI's administrator: the sites the EPCI runs, its member communes' figures."""
    return user.role == "epci_admin"


def is_departement_viewer(user: User) -> bool:
    """A département's viewer: every figure of its communes and EPCIs, read only, never a person."""
    return user.role == "departement_viewer"


def acts_for_communes(user: User) -> bool:
    """An agent or referent, whose reach is the communes their account is attached to."""
    return user.role in ("agent", "commune_admin")


def works_at_desk(user: User) -> bool:
    """Someone who books for residents at a reception desk (agents, referents, administrators)."""
    return user.role in ("agent", "commune_admin", "admin")


def manages_sites(user: User) -> bool:
    """Someone who registers and edits sites (referents, EPCI administrators, administrators)."""
    return user.role in ("commune_admin", "epci_admin", "admin")


def may_book(user: User) -> bool:
    """Someone who may book at all: a resident for their own, desk staff for anyone in their communes."""
    return is_resident(user) or works_at_desk(user)


def site_ids_run_by(communes: set[str]):
    """Select the ids of the sites run by these communes, directly or through their EPCI."""
    epcis = select(epci_members.c.epci_siren).where(epci_members.c.commune_insee.in_(communes))
    # A UNION, not an OR: PostgreSQL estimates each branch from its index, where it guessed half the sites
    # for the OR and then scanned every slot of the country.
    return select(Site.id).where(Site.operator_commune_insee.in_(communes)).union(
        select(Site.id).where(Site.operator_epci_siren.in_(epcis)))


def visible_appointments(user: User):
    """SQL condition on Appointment: the appointments this user's role lets them see.

    Staff see the appointments at the sites their communes run; a practitioner sees their own
    patients, even at a site shared with others; a resident, those of their account's patients; an
    EPCI's administrator, only those of the sites whose desk the EPCI runs itself.
    """
    if user.role == "admin":
        return true()
    slots_seen = None
    if user.role in ("agent", "commune_admin"):
        slots_seen = select(Slot.id).where(Slot.site_id.in_(site_ids_run_by(_staff_communes(user))))
    elif user.role == "epci_admin":
        slots_seen = select(Slot.id).where(Slot.site_id.in_(_desk_sites_of_epci(user)))
    elif user.role == "practitioner":
        slots_seen = select(Slot.id).join(Practitioner, Slot.practitioner_id == Practitioner.id).where(
            Practitioner.user_id == user.id)
    elif user.role == "resident":
        return Appointment.patient_id.in_(select(Patient.id).where(Patient.account_id == user.id))
    return Appointment.slot_id.in_(slots_seen) if slots_seen is not None else false()


def _signed_in(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _desk_sites_of_epci(user: User):
    return select(Site.id).where(Site.operator_epci_siren == user.epci_siren, Site.epci_runs_desk.is_(True))


def sees_who_is_booked(user: User | None, site: Site) -> bool:
    """Tell whether ``user`` may see the people booked at ``site`` (names, phones, references), all of them.

    The site's desk: its communes' agents and referents (every member commune's, for a site an EPCI runs), the
    EPCI's administrators where the EPCI runs the desk itself, the platform's administrators. A practitioner
    sees only their own patients (``visible_appointments``); nobody else sees anyone.
    """
    if not _signed_in(user):
        return False
    if user.role == "admin":
        return True
    if user.role in ("agent", "commune_admin"):
        return bool(site.operator_commune_codes & _staff_communes(user))
    if user.role == "epci_admin":
        return _runs_desk(user, site)
    return False


def _runs_desk(user: User, site: Site) -> bool:
    return bool(user.epci_siren) and site.operator_epci_siren == user.epci_siren and site.epci_runs_desk


def sees_residents_of(user: User | None, insee: str) -> bool:
    """Tell whether ``user`` may see a commune's residents as people (its desk and the platform's administrators)."""
    if not _signed_in(user):
        return False
    return user.role == "admin" or insee in _staff_communes(user)


def only_visible(user: User, appointments: list[Appointment]) -> list[Appointment]:
    """Keep the appointments whose patient ``user`` may see, in order."""
    return [appointment for appointment in appointments if can(user, Action.VIEW, appointment)]


def _staff_communes(user: User) -> set[str]:
    return user.commune_codes if user.role in ("agent", "commune_admin") else set()


def _practitioner_of(user: User) -> Practitioner | None:
    if user.role != "practitioner":
        return None
    session = object_session(user)
    return session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))


def _accepted_at(practitioner: Practitioner | None, site: Site) -> bool:
    if practitioner is None:
        return False
    session = object_session(site)
    return bool(session.scalar(select(exists().where(
        SitePractitioner.site_id == site.id,
        SitePractitioner.practitioner_id == practitioner.id,
        SitePractitioner.status == "accepted",
    ))))


def _epci_members(user: User) -> set[str]:
    session = object_session(user)
    if not user.epci_siren or session is None:
        return set()
    return set(session.scalars(select(epci_members.c.commune_insee).where(
        epci_members.c.epci_siren == user.epci_siren)))


def _commune_decision(user: User, action: Action, commune: Commune) -> Scope:
    if user.role == "epci_admin":
        if commune.insee not in _epci_members(user):
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.READ_STATS) else Scope.DENIED
    if user.role == "departement_viewer":
        if commune.departement_code != user.departement_code:
            return Scope.OUT
        return Scope.ALLOWED if action == Action.READ_STATS else Scope.DENIED
    if commune.insee not in _staff_communes(user):
        return Scope.OUT
    if action in (Action.VIEW, Action.BOOK):
        return Scope.ALLOWED
    if action in (Action.MANAGE, Action.READ_STATS):
        return Scope.ALLOWED if user.role == "commune_admin" else Scope.DENIED
    return Scope.DENIED


def _site_decision(user: User, action: Action, site: Site) -> Scope:
    if user.role == "epci_admin":
        if not user.epci_siren or site.operator_epci_siren != user.epci_siren:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.MANAGE, Action.READ_STATS, Action.CLOSE) \
            else Scope.DENIED
    if user.role in ("agent", "commune_admin"):
        if not (site.operator_commune_codes & _staff_communes(user)):
            return Scope.OUT
        if action in (Action.VIEW, Action.BOOK, Action.MARK_ATTENDANCE):
            return Scope.ALLOWED
        # A site the EPCI runs is edited by the EPCI's administrators; member communes see it, read only.
        shared = site.operator_epci_siren is not None and not site.members_may_edit
        if action == Action.READ_STATS:
            return Scope.ALLOWED if user.role == "commune_admin" else Scope.DENIED
        if action == Action.MANAGE:
            return Scope.ALLOWED if user.role == "commune_admin" and not shared else Scope.DENIED
        if action == Action.CLOSE:  # agents too, when the commune lets them
            allowed = (user.role == "commune_admin" and not shared) or site.agents_may_close
            return Scope.ALLOWED if allowed else Scope.DENIED
        return Scope.DENIED
    if user.role == "practitioner":
        if not _accepted_at(_practitioner_of(user), site):
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.PUBLISH, Action.MARK_ATTENDANCE) else Scope.DENIED
    return Scope.OUT


def _patient_decision(user: User, action: Action, patient: Patient) -> Scope:
    session = object_session(patient)
    if user.role == "resident":
        if patient.account_id != user.id:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.BOOK, Action.MANAGE) else Scope.DENIED
    if user.role in ("agent", "commune_admin"):
        communes = _staff_communes(user)
        # Ours: a resident of our communes, a patient we registered, or one booked at our sites.
        in_scope = patient.commune_insee in communes or patient.created_by_id == user.id
        if not in_scope:
            # A patient from elsewhere booked at one of our sites is ours to receive.
            in_scope = bool(communes) and bool(session.scalar(select(exists().where(
                Appointment.patient_id == patient.id, Appointment.slot_id == Slot.id,
                Slot.site_id.in_(site_ids_run_by(communes)),
            ))))
        if not in_scope:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.BOOK, Action.MANAGE) else Scope.DENIED
    if user.role == "practitioner":
        practitioner = _practitioner_of(user)
        seen = practitioner is not None and session.scalar(select(exists().where(
            Appointment.patient_id == patient.id, Appointment.slot_id == Slot.id,
            Slot.practitioner_id == practitioner.id,
        )))
        if not seen:
            return Scope.OUT
        return Scope.ALLOWED if action == Action.VIEW else Scope.DENIED
    if user.role == "epci_admin":
        seen = bool(user.epci_siren) and session.scalar(select(exists().where(
            Appointment.patient_id == patient.id, Appointment.slot_id == Slot.id,
            Slot.site_id.in_(_desk_sites_of_epci(user)),
        )))
        if not seen:
            return Scope.OUT
        return Scope.ALLOWED if action == Action.VIEW else Scope.DENIED
    return Scope.OUT


def _appointment_decision(user: User, action: Action, appointment: Appointment) -> Scope:
    site = appointment.slot.site
    if user.role == "resident":
        if appointment.patient.account_id != user.id:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.CANCEL) else Scope.DENIED
    if user.role in ("agent", "commune_admin", "epci_admin"):
        if not sees_who_is_booked(user, site):
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.CANCEL, Action.MARK_ATTENDANCE) else Scope.DENIED
    if user.role == "practitioner":
        practitioner = _practitioner_of(user)
        if practitioner is None or appointment.slot.practitioner_id != practitioner.id:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.CANCEL, Action.MARK_ATTENDANCE) else Scope.DENIED
    return Scope.OUT


def _practitioner_decision(user: User, action: Action, practitioner: Practitioner) -> Scope:
    if user.role == "practitioner":
        if practitioner.user_id != user.id:
            return Scope.OUT
        return Scope.ALLOWED if action in (Action.VIEW, Action.PUBLISH, Action.MANAGE) else Scope.DENIED
    if user.role in ("agent", "commune_admin"):
        communes = _staff_communes(user)
        linked = any(link.status != "revoked" and link.site.operator_commune_codes & communes
                     for link in practitioner.site_links)
        if not linked:
            return Scope.OUT
        return Scope.ALLOWED if action == Action.VIEW else Scope.DENIED
    return Scope.OUT


def _epci_decision(user: User, action: Action, epci: Epci) -> Scope:
    """An EPCI's own figures: its administrators, its member communes' referents, its département's viewers."""
    session = object_session(epci)
    members = set(session.scalars(select(epci_members.c.commune_insee).where(epci_members.c.epci_siren == epci.siren)))
    if user.role == "epci_admin":
        in_scope = user.epci_siren == epci.siren
    elif user.role == "commune_admin":
        in_scope = bool(members & _staff_communes(user))
    elif user.role == "departement_viewer":
        in_scope = user.departement_code in set(session.scalars(
            select(Commune.departement_code).where(Commune.insee.in_(members))))
    else:
        in_scope = False
    if not in_scope:
        return Scope.OUT
    return Scope.ALLOWED if action == Action.READ_STATS else Scope.DENIED


_DECIDERS = {
    Epci: _epci_decision,
    Commune: _commune_decision,
    Site: _site_decision,
    Patient: _patient_decision,
    Appointment: _appointment_decision,
    Practitioner: _practitioner_decision,
}


def decide(user: User | None, action: Action, target) -> Scope:
    """Return whether ``user`` may do ``action`` on ``target``, and if not, why."""
    if not _signed_in(user):
        return Scope.OUT
    if user.role == "admin":
        return Scope.ALLOWED
    decider = _DECIDERS.get(type(target))
    if decider is None:
        raise TypeError(f"no permission rule for {type(target).__name__}")
    return decider(user, Action(action), target)


def can(user: User | None, action: Action, target) -> bool:
    """Tell whether ``user`` may do ``action`` on ``target``."""
    return decide(user, action, target) is Scope.ALLOWED


def fetch(session, model, object_id: int | str | tuple, missing: str, user: User | None = None,
          action: Action | None = None):
    """Return the ``model`` row with this id or raise NotFound(missing); with ``action``, ``user`` must be allowed."""
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(missing)
    if action is not None:
        require(user, action, found)
    return found


def require(user: User | None, action: Action, target) -> None:
    """Raise NotFound when the target is outside the user's scope, Forbidden when the role may not act."""
    scope = decide(user, action, target)
    if scope is Scope.OUT:
        raise NotFound("Cette page n’existe pas ou vous n’y avez pas accès.")
    if scope is Scope.DENIED:
        raise Forbidden("Votre rôle ne permet pas cette action.")
