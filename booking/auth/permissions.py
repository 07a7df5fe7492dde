"""The one place that answers "may this user do this to that?".

Every view and service asks here. The answer is data: ``ROLE_ACTIONS`` says what each role may do to each kind
of object, and each kind's owner registers one predicate, « is this object within the user's reach? »
(``register``): the sites package for sites and practitioners, the appointments package for appointments and
patients. This module imports no feature's models. Objects outside the user's reach are reported as missing
(404) rather than forbidden, so that ids cannot be probed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import object_session

from booking.auth.models import User
from booking.errors import Forbidden, NotFound
from booking.geo.models import Commune, Departement, Epci, epci_members


class Action(StrEnum):
    VIEW = "view"                  # read the object (staff view of a site, a patient record…)
    MANAGE = "manage"              # edit a site, accept practitioners, invite agents
    BOOK = "book"                  # book at a site, or for a patient
    PUBLISH = "publish"            # publish availability at a site
    CANCEL = "cancel"              # cancel an appointment
    MARK_ATTENDANCE = "attendance"  # check in, attended / no-show
    READ_STATS = "read_stats"      # a commune's statistics
    CLOSE = "close"                # close a site for a day or a period (its calendar)


class Scope(StrEnum):
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


def sees_who_is_booked(user: User | None, site) -> bool:
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
        return bool(site.operator_commune_codes & staff_communes(user))
    if user.role == "epci_admin":
        return runs_desk(user, site)
    return False


def runs_desk(user: User, site) -> bool:
    """An EPCI's administrator at a site whose desk the EPCI keeps itself."""
    return bool(user.epci_siren) and site.operator_epci_siren == user.epci_siren and site.epci_runs_desk


def sees_residents_of(user: User | None, insee: str) -> bool:
    """Tell whether ``user`` may see a commune's residents as people (its desk and the platform's administrators)."""
    if not _signed_in(user):
        return False
    return user.role == "admin" or insee in staff_communes(user)


def only_visible(user: User, appointments: list) -> list:
    """Keep the appointments whose patient ``user`` may see, in order."""
    return [appointment for appointment in appointments if can(user, Action.VIEW, appointment)]


def staff_communes(user: User) -> set[str]:
    """The communes an agent or a referent acts for (none for any other role)."""
    return user.commune_codes if user.role in ("agent", "commune_admin") else set()


def _signed_in(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


# --- What each role may do to each kind of object within its reach ------------------------------------------

V, M, B, P, C, A, S, X = (Action.VIEW, Action.MANAGE, Action.BOOK, Action.PUBLISH, Action.CANCEL,
                          Action.MARK_ATTENDANCE, Action.READ_STATS, Action.CLOSE)
ROLE_ACTIONS: dict[str, dict[str, frozenset[Action]]] = {
    "resident": {"patient": frozenset({V, B, M}), "appointment": frozenset({V, C})},
    "agent": {"commune": frozenset({V, B}), "site": frozenset({V, B, A}), "patient": frozenset({V, B, M}),
              "appointment": frozenset({V, C, A}), "practitioner": frozenset({V})},
    "commune_admin": {"commune": frozenset({V, B, M, S}), "site": frozenset({V, B, A, S, M, X}),
                      "patient": frozenset({V, B, M}), "appointment": frozenset({V, C, A}),
                      "practitioner": frozenset({V}), "epci": frozenset({S})},
    "epci_admin": {"commune": frozenset({V, S}), "site": frozenset({V, M, S, X}), "patient": frozenset({V}),
                   "appointment": frozenset({V, C, A}), "epci": frozenset({S})},
    "departement_viewer": {"commune": frozenset({S}), "epci": frozenset({S}), "departement": frozenset({S})},
    "practitioner": {"site": frozenset({V, P, A}), "patient": frozenset({V}), "appointment": frozenset({V, C, A}),
                     "practitioner": frozenset({V, P, M})},
}


@dataclass(frozen=True)
class Kind:
    """A kind of object permissions speak of: its name in ROLE_ACTIONS, whether an object is within a user's
    reach, and (rarely) what the object itself adds or takes away (a site shared by an EPCI, say)."""

    name: str
    within_reach: Callable[[User, object], bool]
    refine: Callable[[User, "Action", object, bool], bool] | None = None


_KINDS: dict[type, Kind] = {}


def register(model: type, kind: Kind) -> None:
    """Say how permissions treat ``model``'s objects (each feature registers the objects it owns)."""
    _KINDS[model] = kind


def decide(user: User | None, action: Action, target) -> Scope:
    """Return whether ``user`` may do ``action`` on ``target``, and if not, why."""
    if not _signed_in(user):
        return Scope.OUT
    if user.role == "admin":
        return Scope.ALLOWED
    kind = _KINDS.get(type(target))
    if kind is None:
        raise TypeError(f"no permission rule for {type(target).__name__}")
    action = Action(action)
    allowed = ROLE_ACTIONS.get(user.role, {}).get(kind.name)
    if allowed is None or not kind.within_reach(user, target):
        return Scope.OUT
    permitted = action in allowed
    if kind.refine is not None:
        permitted = kind.refine(user, action, target, permitted)
    return Scope.ALLOWED if permitted else Scope.DENIED


def can(user: User | None, action: Action, target) -> bool:
    """Tell whether ``user`` may do ``action`` on ``target``."""
    return decide(user, action, target) is Scope.ALLOWED


# --- The objects of the layers below: communes and EPCIs ------------------------------------------------------

def epci_member_communes(user: User) -> set[str]:
    session = object_session(user)
    if not user.epci_siren or session is None:
        return set()
    return set(session.scalars(select(epci_members.c.commune_insee).where(
        epci_members.c.epci_siren == user.epci_siren)))


def _commune_within_reach(user: User, commune: Commune) -> bool:
    if user.role == "epci_admin":
        return commune.insee in epci_member_communes(user)
    if user.role == "departement_viewer":
        return commune.departement_code == user.departement_code
    return commune.insee in staff_communes(user)


def _epci_within_reach(user: User, epci: Epci) -> bool:
    """An EPCI's own figures: its administrators, its member communes' referents, its département's viewers."""
    session = object_session(epci)
    members = set(session.scalars(select(epci_members.c.commune_insee).where(epci_members.c.epci_siren == epci.siren)))
    if user.role == "epci_admin":
        return user.epci_siren == epci.siren
    if user.role == "commune_admin":
        return bool(members & staff_communes(user))
    if user.role == "departement_viewer":
        return user.departement_code in set(session.scalars(
            select(Commune.departement_code).where(Commune.insee.in_(members))))
    return False


def _departement_within_reach(user: User, departement: Departement) -> bool:
    """A département's figures and map: its viewers (and the platform's administrators)."""
    return user.role == "departement_viewer" and user.departement_code == departement.code


register(Commune, Kind("commune", _commune_within_reach))
register(Epci, Kind("epci", _epci_within_reach))
register(Departement, Kind("departement", _departement_within_reach))


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
