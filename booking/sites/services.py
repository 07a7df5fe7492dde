"""Site and practitioner use cases: register and edit sites, accept practitioners."""

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

import notifications
from booking.auth.models import User
from booking.auth.permissions import (
    Action,
    acts_for_communes,
    can,
    fetch,
    is_admin,
    is_commune_admin,
    is_epci_admin,
    is_practitioner,
    require,
)
from booking.auth.services import create_user, normalize_email, record_audit
from booking.auth.tokens import token_hash
from booking.errors import Conflict, Forbidden, InvalidInput, NotFound
from booking.extensions import db
from booking.geo.models import Commune, Epci, epci_members
from booking.geo.rules import great_circle_km, time_zone_for_departement
from booking.outgoing import mail
from booking.sites.access import site_ids_run_by
from booking.sites.models import (
    SITE_KINDS,
    SMS_LABEL_LENGTH,
    Practitioner,
    Room,
    Site,
    SiteInvitation,
    SitePractitioner,
)
from booking.sites.professions import PROFESSIONS
from booking.sites.rules import ACCESSIBILITY, EQUIPMENT, clean_rpps, default_served_communes, web_origin

INVITATION_DAYS = 14


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
    if acts_for_communes(user):
        query = query.where(Site.id.in_(site_ids_run_by(user.commune_codes)))
    elif is_practitioner(user):
        query = query.join(SitePractitioner).join(Practitioner).where(
            Practitioner.user_id == user.id, SitePractitioner.status == "accepted")
    elif user.role == "epci_admin" and user.epci_siren:
        query = query.where(Site.operator_epci_siren == user.epci_siren)
    elif not is_admin(user):
        return []
    return list(session.scalars(query))


def get_site_for(session: Session, user: User, site_id: int, action: Action = Action.VIEW) -> Site:
    """Return a site the user may act on, or raise NotFound / Forbidden."""
    site = fetch(session, Site, site_id, "Ce lieu de soins n’existe pas.")
    require(user, action, site)
    return site


def get_practitioner_for(session: Session, user: User, practitioner_id: int,
                         action: Action = Action.VIEW) -> Practitioner:
    """Return a practitioner record the user may act on, or raise NotFound / Forbidden."""
    practitioner = fetch(session, Practitioner, practitioner_id, "Praticien introuvable.")
    require(user, action, practitioner)
    return practitioner


@dataclass
class SiteInput:
    kind: str
    name: str
    address: str
    postal_code: str
    commune_insee: str
    operator_epci_siren: str | None = None  # None: run by the commune where it stands
    sms_label: str | None = None  # None: the name, cut to 30 characters
    served_communes: list[str] = field(default_factory=list)
    time_zone: str | None = None
    phone: str | None = None
    contact_email: str | None = None
    opening_hours: str | None = None
    instructions: str | None = None
    equipment: list[str] = field(default_factory=list)
    embed_origins: list[str] = field(default_factory=list)
    members_may_edit: bool | None = None  # only the EPCI's administrators (and the platform's) change it
    epci_runs_desk: bool | None = None  # only the platform's administrators change it: who sees patients
    accessibility: list[str] = field(default_factory=list)
    rooms: list[str] = field(default_factory=lambda: ["Salle 1"])
    booking_open: bool = True
    drop_in_only: bool = False
    max_future_bookings: int = 2
    reminder_hours_before: int = 24
    second_reminder_hours: int | None = 2
    # The site's own position as typed (« 45,1581 »); both empty: its commune's point.
    latitude: str | float | None = None
    longitude: str | float | None = None


# How far from its commune's point a site may be placed: further, the figures were surely swapped or mistyped.
SITE_POSITION_MAX_KM = 30


def _coordinate(value, label: str, bound: float, field: str) -> float | None:
    text = str(value if value is not None else "").strip().replace(",", ".").replace("\u00a0", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"{label} : un nombre décimal est attendu, par exemple 45,1581.", field=field) from None
    if not -bound <= number <= bound:
        raise InvalidInput(f"{label} : entre -{bound:g} et {bound:g} degrés.", field=field)
    return number


def _site_position(commune: Commune, data: SiteInput) -> tuple[float | None, float | None]:
    """The position typed for a site, checked against its commune's point; (None, None): the commune's."""
    latitude = _coordinate(data.latitude, "Latitude", 90, "latitude")
    longitude = _coordinate(data.longitude, "Longitude", 180, "longitude")
    if (latitude is None) != (longitude is None):
        raise InvalidInput("Donnez la latitude et la longitude, ou laissez les deux vides (le point de la commune).",
                           field="longitude" if longitude is None else "latitude")
    if latitude is not None and commune.latitude is not None:
        km = great_circle_km((latitude, longitude), (commune.latitude, commune.longitude))
        if km > SITE_POSITION_MAX_KM:
            raise InvalidInput(f"Ce point est à {round(km)} km de {commune.name} : vérifiez la latitude et la "
                               "longitude (ne sont-elles pas inversées ?).", field="latitude")
    return latitude, longitude


def _text(value: str | None, label: str, limit: int, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{label} : ce champ est obligatoire.")
    if len(value) > limit:
        raise InvalidInput(f"{label} : {limit} caractères au plus.")
    return value or None


def _apply_site_input(session: Session, site: Site, data: SiteInput) -> None:
    from booking.phones import parse_phone

    if data.kind not in SITE_KINDS:
        raise InvalidInput("Type de lieu inconnu.")
    commune = session.get(Commune, (data.commune_insee or "").upper())
    if commune is None:
        raise InvalidInput("Commune inconnue.", field="commune_insee")
    codes = [p.code for p in commune.postal_codes]
    postal_code = (data.postal_code or "").strip() or (codes[0] if len(codes) == 1 else "")
    if postal_code not in codes:
        raise InvalidInput(f"Le code postal {postal_code or '(vide)'} n’est pas celui de {commune.name} "
                           f"({', '.join(codes)}).", field="postal_code")
    epci = None
    if data.operator_epci_siren:
        epci = session.get(Epci, data.operator_epci_siren)
        if epci is None:
            raise InvalidInput("Groupement de communes (EPCI) inconnu.")
    zone = data.time_zone or time_zone_for_departement(commune.departement_code)
    if zone not in available_timezones():
        raise InvalidInput(f"Fuseau horaire inconnu : {zone}.")
    served_codes = data.served_communes or default_served_communes(
        None if epci else commune.insee, [m.insee for m in epci.members] if epci else [])
    served = [session.get(Commune, code) for code in dict.fromkeys(served_codes)]
    if None in served:
        raise InvalidInput("Une des communes desservies est inconnue.")
    room_names = [name.strip() for name in data.rooms if name.strip()]
    if len(set(room_names)) != len(room_names):
        raise InvalidInput("Deux salles portent le même nom.")
    if not room_names and not data.drop_in_only:
        raise InvalidInput("Indiquez au moins une salle : une salle accueille une consultation à la fois.")
    if not 1 <= data.max_future_bookings <= 20 or not 1 <= data.reminder_hours_before <= 72:
        raise InvalidInput("Les limites de réservation ou de rappel sont hors des bornes permises.")
    if data.second_reminder_hours is not None and not 1 <= data.second_reminder_hours < data.reminder_hours_before:
        raise InvalidInput("Le second rappel doit partir après le premier (entre 1 heure et le premier rappel).")
    latitude, longitude = _site_position(commune, data)

    site.kind = data.kind
    site.name = _text(data.name, "Nom", 200, required=True)
    site.sms_label = (_text(data.sms_label, "Nom court dans les SMS", SMS_LABEL_LENGTH)
                      or site.name[:SMS_LABEL_LENGTH].strip())
    site.address = _text(data.address, "Adresse", 300, required=True)
    site.postal_code = postal_code
    site.commune_insee = commune.insee
    site.latitude, site.longitude = latitude, longitude
    site.operator_epci_siren = epci.siren if epci else None
    site.operator_commune_insee = None if epci else commune.insee
    site.served_communes = served
    site.time_zone = zone
    site.phone = parse_phone(data.phone, commune.departement_code).e164 if (data.phone or "").strip() else None
    site.contact_email = normalize_email(_text(data.contact_email, "E-mail", 254))
    site.opening_hours = _text(data.opening_hours, "Horaires", 1000)
    site.instructions = _text(data.instructions, "Consignes", 2000)
    site.equipment = [code for code in data.equipment if code in EQUIPMENT]
    site.embed_origins = [web_origin(text) for text in data.embed_origins if text.strip()]
    if data.members_may_edit is not None:
        site.members_may_edit = bool(data.members_may_edit) and site.operator_epci_siren is not None
    if data.epci_runs_desk is not None:
        site.epci_runs_desk = bool(data.epci_runs_desk) and site.operator_epci_siren is not None
    site.accessibility = [code for code in data.accessibility if code in ACCESSIBILITY]
    site.booking_open = data.booking_open
    site.drop_in_only = data.drop_in_only
    site.max_future_bookings = data.max_future_bookings
    site.reminder_hours_before = data.reminder_hours_before
    site.second_reminder_hours = data.second_reminder_hours
    _sync_rooms(session, site, room_names)


def _sync_rooms(session: Session, site: Site, names: list[str]) -> None:
    current = {room.name: room for room in site.rooms}
    for name, room in current.items():
        if name not in names:
            # The slots table, named rather than imported: slots sit above sites.
            slots = db.metadata.tables["slots"]
            in_use = room.id is not None and session.scalar(select(exists().where(slots.c.room_id == room.id)))
            if in_use:
                raise Conflict(f"La salle « {name} » a des créneaux : elle ne peut pas être supprimée.")
            site.rooms.remove(room)
    for name in names:
        if name not in current:
            site.rooms.append(Room(name=name))


def _check_operator(session: Session, actor: User, data: SiteInput) -> None:
    if is_admin(actor):
        return
    if is_epci_admin(actor):
        # An EPCI's administrators register and edit the sites the EPCI runs, in its member communes.
        epci = session.get(Epci, actor.epci_siren) if actor.epci_siren else None
        if epci is None or data.operator_epci_siren != epci.siren:
            raise Forbidden("Vous gérez les lieux que votre intercommunalité tient, et eux seuls.")
        if (data.commune_insee or "").upper() not in {member.insee for member in epci.members}:
            raise Forbidden("Le lieu doit se trouver dans une commune membre de votre intercommunalité.")
        return
    if not is_commune_admin(actor):
        raise Forbidden("Seul le référent santé de la commune enregistre ses lieux de soins.")
    communes = actor.commune_codes
    if data.operator_epci_siren:
        epci = session.get(Epci, data.operator_epci_siren)
        if epci is None or not ({m.insee for m in epci.members} & communes):
            raise Forbidden("Votre commune n’est pas membre de ce groupement.")
    elif (data.commune_insee or "").upper() not in communes:
        raise Forbidden("Vous ne pouvez enregistrer un lieu que dans votre commune.")


def create_site(session: Session, actor: User, data: SiteInput) -> Site:
    """Register a new place of care run by the actor's commune or EPCI."""
    _check_operator(session, actor, data)
    site = Site()
    _apply_site_input(session, site, data)
    session.add(site)
    session.flush()
    return site


def update_site(session: Session, actor: User, site_id: int, data: SiteInput) -> Site:
    """Edit a site the actor manages."""
    site = get_site_for(session, actor, site_id, Action.MANAGE)
    _check_operator(session, actor, data)
    _apply_site_input(session, site, data)
    session.flush()
    return site


@dataclass
class PractitionerInput:
    first_name: str
    last_name: str
    profession: str
    rpps: str | None = None
    specialty: str | None = None
    consults_remotely: bool = False
    email: str | None = None
    needed_equipment: list[str] = field(default_factory=list)


def _apply_practitioner_input(practitioner: Practitioner, data: PractitionerInput) -> None:
    if data.profession not in PROFESSIONS:
        raise InvalidInput("Profession inconnue.")
    practitioner.first_name = _text(data.first_name, "Prénom", 100, required=True)
    practitioner.last_name = _text(data.last_name, "Nom", 100, required=True)
    practitioner.profession = data.profession
    practitioner.rpps = clean_rpps(data.rpps) if (data.rpps or "").strip() else None
    practitioner.specialty = _text(data.specialty, "Spécialité", 80)
    practitioner.consults_remotely = data.consults_remotely
    practitioner.email = normalize_email(data.email)
    unknown = set(data.needed_equipment) - set(EQUIPMENT)
    if unknown:
        raise InvalidInput("Équipement inconnu.", field="needed_equipment")
    practitioner.needed_equipment = list(data.needed_equipment)


def create_practitioner(session: Session, data: PractitionerInput, user: User | None = None) -> Practitioner:
    """Record a practitioner (RPPS checked), optionally tied to their account."""
    practitioner = Practitioner(user=user)
    _apply_practitioner_input(practitioner, data)
    if practitioner.rpps and session.scalar(select(exists().where(Practitioner.rpps == practitioner.rpps))):
        raise Conflict("Un praticien porte déjà ce numéro RPPS.")
    session.add(practitioner)
    session.flush()
    return practitioner


def find_practitioners(session: Session, query: str, limit: int = 20) -> list[Practitioner]:
    """Find practitioners by RPPS number or by last name."""
    text = "".join((query or "").split())
    if not text:
        return []
    if text.isdigit():
        condition = Practitioner.rpps == text
    else:
        condition = func.lower(Practitioner.last_name).like(query.strip().lower() + "%")
    return list(session.scalars(select(Practitioner).where(condition).order_by(Practitioner.last_name)
                                .limit(limit)))


def missing_equipment(site: Site, practitioner: Practitioner) -> list[str]:
    """What the practitioner needs to consult here that the site lacks, named for people."""
    return [EQUIPMENT.get(code, code) for code in practitioner.needed_equipment or [] if code not in site.equipment]


def link_practitioner(session: Session, actor: User, site_id: int, practitioner_id: int, now: datetime,
                      despite_missing_equipment: bool = False) -> None:
    """Accept an existing practitioner at a site, once told what equipment they need and the site lacks."""
    site = get_site_for(session, actor, site_id, Action.MANAGE)
    practitioner = fetch(session, Practitioner, practitioner_id, "Ce praticien n’existe pas.")
    missing = missing_equipment(site, practitioner)
    if missing and not despite_missing_equipment:
        raise Conflict(f"{practitioner.full_name} a besoin de : {', '.join(missing)}, que ce lieu n’a pas. "
                       f"Ajoutez cet équipement au lieu, ou acceptez quand même en connaissance de cause.")
    link = session.get(SitePractitioner, (site.id, practitioner.id))
    if link is None:
        link = SitePractitioner(site_id=site.id, practitioner_id=practitioner.id)
        session.add(link)
    link.status, link.accepted_at = "accepted", now
    session.flush()


def revoke_practitioner(session: Session, actor: User, site_id: int, practitioner_id: int) -> None:
    """Stop a practitioner from publishing at a site (their existing slots stay)."""
    site = get_site_for(session, actor, site_id, Action.MANAGE)
    link = fetch(session, SitePractitioner, (site.id, practitioner_id), "Ce praticien n’est pas rattaché à ce lieu.")
    link.status = "revoked"
    session.flush()


def invite_practitioner(session: Session, actor: User, site_id: int, email: str, now: datetime,
                        accept_url: str) -> SiteInvitation:
    """Invite a practitioner by email; the message waits in the outbox until the dispatcher sends it.

    ``accept_url`` holds ``{token}``, replaced by the invitation's secret.
    """
    site = get_site_for(session, actor, site_id, Action.MANAGE)
    address = normalize_email(email)
    if not address or "@" not in address or len(address) > 254:
        raise InvalidInput("Adresse e-mail invalide.")
    token = secrets.token_urlsafe(24)
    invitation = SiteInvitation(site_id=site.id, email=address, token_hash=token_hash(token),
                                invited_by_id=actor.id, created_at=now,
                                expires_at=now + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    session.flush()
    notifications.enqueue(
        session, channel="email", recipient=address, due_at=now, dedupe_key=f"invitation:{invitation.id}",
        subject=mail.invitation_subject(site.name),
        body=mail.invitation_body(site.name, site.commune.name, accept_url.format(token=token), INVITATION_DAYS),
    )
    session.flush()
    return invitation


def find_invitation(session: Session, token: str, now: datetime) -> SiteInvitation:
    """Return the pending invitation behind a link, or raise NotFound."""
    invitation = session.scalar(select(SiteInvitation).where(SiteInvitation.token_hash == token_hash(token)))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        raise NotFound("Cette invitation n’existe pas, a déjà servi ou a expiré. Demandez-en une nouvelle.")
    return invitation


def accept_invitation(session: Session, token: str, now: datetime, *, user: User | None = None,
                      password: str | None = None, practitioner_data: PractitionerInput | None = None) -> User:
    """Accept an invitation as the signed-in practitioner, or by creating the account; return the user."""
    invitation = find_invitation(session, token, now)
    if user is None:
        if practitioner_data is None or password is None:
            raise InvalidInput("Complétez votre profil pour accepter l’invitation.")
        user = create_user(session, role="practitioner", email=invitation.email, password=password,
                           display_name=f"{practitioner_data.first_name} {practitioner_data.last_name}".strip(),
                           )
        practitioner_data.email = invitation.email
        practitioner = create_practitioner(session, practitioner_data, user=user)
    else:
        if not is_practitioner(user):
            raise Forbidden("Seul un compte de praticien peut accepter cette invitation.")
        practitioner = session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))
        if practitioner is None:
            raise InvalidInput("Votre compte n’a pas encore de fiche praticien.")
    link = session.get(SitePractitioner, (invitation.site_id, practitioner.id))
    if link is None:
        link = SitePractitioner(site_id=invitation.site_id, practitioner_id=practitioner.id)
        session.add(link)
    link.status, link.accepted_at, link.invited_email = "accepted", now, invitation.email
    invitation.accepted_at = now
    session.flush()
    return user


def practitioner_of(session: Session, user: User) -> Practitioner:
    """Return the practitioner record of a practitioner account, or raise NotFound."""
    practitioner = session.scalar(select(Practitioner).where(Practitioner.user_id == user.id))
    if practitioner is None:
        raise NotFound("Aucune fiche praticien n’est liée à ce compte.")
    return practitioner


def accepted_sites(session: Session, practitioner: Practitioner) -> list[Site]:
    """Return the sites where a practitioner may publish."""
    return list(session.scalars(select(Site).join(SitePractitioner).where(
        SitePractitioner.practitioner_id == practitioner.id, SitePractitioner.status == "accepted")
        .order_by(Site.name)))


def practitioners_at(session: Session, site: Site) -> list[SitePractitioner]:
    """Return a site's practitioner links, accepted first."""
    return sorted(site.practitioner_links, key=lambda link: (link.status != "accepted", link.practitioner.last_name))


def delegation(session: Session, actor: User, practitioner: Practitioner, site: Site) -> SitePractitioner | None:
    """The accepted link through which this staff member runs the practitioner's days at the site, if granted."""
    if not acts_for_communes(actor) or not can(actor, Action.VIEW, site):
        return None
    link = session.get(SitePractitioner, (site.id, practitioner.id))
    return link if link is not None and link.status == "accepted" and link.delegated_at is not None else None


def set_delegation(session: Session, actor: User, site_id: int, granted: bool, now: datetime) -> SitePractitioner:
    """The practitioner lets the mairie manage their availability at one site, or takes it back (audited)."""
    practitioner = practitioner_of(session, actor)
    link = session.get(SitePractitioner, (site_id, practitioner.id))
    if link is None or link.status != "accepted":
        raise NotFound("Ce lieu ne vous a pas accepté.")
    link.delegated_at = now if granted else None
    record_audit(session, user=actor, action="practitioner.delegate" if granted else "practitioner.undelegate",
                 object_type="site", object_id=site_id, details={"practitioner_id": practitioner.id}, now=now)
    session.flush()
    return link


def set_needed_equipment(session: Session, actor: User, practitioner_id: int, codes: list[str]) -> None:
    """A practitioner says what they need at a site to consult remotely."""
    practitioner = get_practitioner_for(session, actor, practitioner_id, Action.MANAGE)
    if set(codes) - set(EQUIPMENT):
        raise InvalidInput("Équipement inconnu.", field="needed_equipment")
    practitioner.needed_equipment = list(codes)
    session.flush()


def figures_within_reach(session: Session, user: User) -> dict:
    """The communes and EPCIs whose figures this account reads beyond its own commune's: {"epcis", "communes"}."""
    if user.role == "epci_admin" and user.epci_siren:
        members = select(epci_members.c.commune_insee).where(epci_members.c.epci_siren == user.epci_siren)
        return {"epcis": [session.get(Epci, user.epci_siren)],
                "communes": list(session.scalars(select(Commune).where(Commune.insee.in_(members))
                                                 .order_by(Commune.name)))}
    if user.role == "departement_viewer":
        runners = select(Site.operator_commune_insee).where(Site.operator_commune_insee.is_not(None))
        epcis = select(Site.operator_epci_siren).where(Site.operator_epci_siren.is_not(None))
        return {"epcis": [e for e in session.scalars(select(Epci).where(Epci.siren.in_(epcis)).order_by(Epci.name))
                          if any(m.departement_code == user.departement_code for m in e.members)],
                "communes": list(session.scalars(select(Commune).where(
                    Commune.departement_code == user.departement_code, Commune.insee.in_(runners))
                    .order_by(Commune.name)))}
    if user.role == "commune_admin":
        running = {site.operator_epci_siren for site in sites_visible_to(session, user)}
        return {"epcis": sorted({epci for commune in user.communes for epci in commune.epcis
                                 if epci.siren in running}, key=lambda e: e.name), "communes": []}
    return {"epcis": [], "communes": []}
