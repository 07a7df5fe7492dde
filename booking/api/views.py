"""JSON API v1. Bearer tokens only: a browser session is never accepted here.

The docstrings of the operations are French: they are the published API reference.
"""

from datetime import date, datetime, time, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import current_app, g, request
from flask_smorest import Blueprint

from booking.accounts.services import add_relative
from booking.api import present
from booking.api import schemas as s
from booking.api.pagination import after_of, encode_cursor, offset_of, offset_page
from booking.api.services import user_for_token
from booking.appointments.messages import can_receive_sms
from booking.appointments.queries import read_appointment
from booking.appointments.services import book, cancel_appointment, mark_attendance
from booking.auth.models import User
from booking.auth.permissions import Action, fetch, is_resident, may_book, works_at_desk
from booking.auth.tokens import token_hash
from booking.clock import DEFAULT_TIME_ZONE, now
from booking.database import unit_of_work
from booking.errors import DomainError, Forbidden, InvalidInput
from booking.extensions import db, limiter
from booking.geo.models import Commune, Departement
from booking.geo.rules import time_zone_for_departement
from booking.geo.services import search_communes
from booking.patients.services import PatientInput, create_patient, find_patients
from booking.search.services import search
from booking.sites.models import Practitioner, Site
from booking.sites.professions import PROFESSIONS
from booking.sites.services import practitioners_at
from booking.slots.services import RuleInput, list_slots, publish_rule
from booking.stats.access import territory_figures, territory_map
from booking.stats.open_data import keyed, slug
from booking.stats.report import previous_month
from booking.stats.services import statistics_for

blueprint = Blueprint("api", __name__, url_prefix="/api/v1", description="API v1 de la prise de rendez-vous.")
BEARER = [{"bearerAuth": []}]
PUBLIC = [{}, {"bearerAuth": []}]
MAX_SLOT_DAYS = 92


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + token_hash(header)[:32]
    return "api-ip:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(blueprint)


class Unauthorized(DomainError):
    http_status = 401
    code = "unauthorized"

    def __init__(self, message: str, token_sent: bool = False):
        super().__init__(message)
        # RFC 6750 §3: every 401 names the scheme; a token that was sent and refused says so.
        challenge = 'Bearer realm="api"' + (', error="invalid_token"' if token_sent else "")
        self.headers = {"WWW-Authenticate": challenge}


def _token_user(required: bool) -> User | None:
    """The user of the request's bearer token; a token that is sent must be valid even where none is needed."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        user = None
        if header:
            token = header[7:].strip() if header[:7].lower() == "bearer " else ""
            if token:
                user, recorded = user_for_token(db.session, token, now())
                if recorded:
                    db.session.commit()  # the token's last use is kept even by a read (once a minute)
            if user is None:
                raise Unauthorized("Jeton d’API invalide ou révoqué.", token_sent=True)
        g.api_user = user
    if required and g.api_user is None:
        raise Unauthorized("Jeton d’API absent : envoyez « Authorization: Bearer <jeton> ».")
    return g.api_user


def token_auth(required: bool = True, desk: bool = False):
    """Authenticate the bearer token and pass its account to the view as ``user`` (None when optional and absent).

    ``desk``: only agents, referents and administrators (403 for the others).
    """
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = _token_user(required)
            if desk and not works_at_desk(user):
                raise Forbidden("Réservé aux agents des communes.")
            return view(*args, user=user, **kwargs)
        wrapped.token_required = required  # read before the arguments are (authenticate_first)
        return wrapped
    return decorate


@blueprint.before_request
def authenticate_first():
    """Who asks comes before what they ask: a missing or refused token is a 401, even with bad arguments (which
    the view's decorators would otherwise refuse first, with a 422)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and hasattr(view, "token_required"):
        _token_user(view.token_required)


ERROR_ANSWERS = {
    400: "Corps JSON illisible.",
    401: "Jeton absent, invalide ou révoqué (en-tête WWW-Authenticate: Bearer).",
    403: "Le rôle du jeton ne permet pas cette action.",
    404: "Objet introuvable, ou hors de portée du jeton.",
    409: "Conflit avec l’état présent (créneau pris, rendez-vous déjà annulé, doublon…).",
}


def answers(*statuses: int):
    """Document the error answers an operation gives (the envelope of ErrorEnvelopeSchema) and name the
    operation after its view, so that a client generated from the document has stable method names."""
    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=s.ErrorEnvelopeSchema, description=ERROR_ANSWERS[status])(view)
        return blueprint.doc(operationId=view.__name__)(view)
    return decorate


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


BAD_CURSOR = "Curseur de pagination invalide (code « bad_cursor »)."


# --- Public reference data ------------------------------------------------------------------------------

@blueprint.get("/communes")
@blueprint.arguments(s.CommuneArgsSchema(), location="query")
@blueprint.response(200, s.page_of(s.CommuneSchema, "CommunePage"))
@blueprint.alt_response(400, schema=s.ErrorEnvelopeSchema, description=BAD_CURSOR)
@blueprint.doc(security=PUBLIC)
@answers(401)
@token_auth(required=False)
def communes(args, user: User | None):
    """Communes par nom (accents et majuscules indifférents, anciens noms compris) ou par code postal."""
    offset = offset_of(args.get("cursor"))
    found = search_communes(db.session, args["q"], limit=offset + args["limit"] + 1)
    return offset_page(found, offset, args["limit"], present.commune)


@blueprint.get("/sites")
@blueprint.arguments(s.SiteArgsSchema(), location="query")
@blueprint.response(200, s.page_of(s.SiteSummarySchema, "SiteSummaryPage"))
@blueprint.alt_response(400, schema=s.ErrorEnvelopeSchema, description=BAD_CURSOR)
@blueprint.doc(security=PUBLIC)
@answers(401, 404)
@unit_of_work()
@token_auth(required=False)
def sites(args, user: User | None):
    """Lieux de soins qui servent une commune, puis son intercommunalité, puis son département."""
    fetch(db.session, Commune, args["commune"], "Commune inconnue.")
    offset = offset_of(args.get("cursor"))
    result = search(db.session, "", now(), profession=args.get("profession"), kind=args.get("kind"),
                    commune_insee=args["commune"], record_demand=False, with_all_practitioners=True,
                    all_sites=True)
    return offset_page(result.sites, offset, args["limit"], present.site_summary)


@blueprint.get("/sites/<int:site_id>")
@blueprint.response(200, s.SiteSchema)
@blueprint.doc(security=PUBLIC)
@answers(401, 404)
@token_auth(required=False)
def site(site_id: int, user: User | None):
    """Un lieu de soins, avec ses informations pratiques et ses praticiens."""
    found = fetch(db.session, Site, site_id, "Ce lieu de soins n’existe pas.")
    return present.site(found)


@blueprint.get("/practitioners")
@blueprint.arguments(s.PractitionerArgsSchema(), location="query")
@blueprint.response(200, s.page_of(s.PractitionerSchema, "PractitionerPage"))
@blueprint.alt_response(400, schema=s.ErrorEnvelopeSchema, description=BAD_CURSOR)
@blueprint.doc(security=PUBLIC)
@answers(401, 404)
@token_auth(required=False)
def practitioners(args, user: User | None):
    """Praticiens acceptés sur un lieu de soins."""
    found = fetch(db.session, Site, args["site_id"], "Ce lieu de soins n’existe pas.")
    offset = offset_of(args.get("cursor"))
    people = [link.practitioner for link in practitioners_at(db.session, found)
              if link.status == "accepted" and args.get("profession") in (None, link.practitioner.profession)]
    return offset_page(people, offset, args["limit"], present.practitioner)


@blueprint.get("/slots")
@blueprint.arguments(s.SlotArgsSchema(), location="query")
@blueprint.response(200, s.page_of(s.SlotSchema, "SlotPage"))
@blueprint.alt_response(400, schema=s.ErrorEnvelopeSchema, description=BAD_CURSOR)
@blueprint.doc(security=PUBLIC)
@answers(401, 404)
@token_auth(required=False)
def slots(args, user: User | None):
    """Créneaux libres ; avec le jeton de quelqu’un qui travaille sur le lieu, tous les créneaux et leur statut."""
    if args.get("site_id") is None and args.get("practitioner_id") is None:
        raise InvalidInput("Indiquez « site_id » ou « practitioner_id ».")
    zone = DEFAULT_TIME_ZONE
    if args.get("site_id") is not None:
        zone = fetch(db.session, Site, args["site_id"], "Ce lieu de soins n’existe pas.").time_zone
    else:  # the days of a practitioner's own sites
        practitioner = db.session.get(Practitioner, args["practitioner_id"])
        links = practitioner.site_links if practitioner is not None else []
        zone = next((link.site.time_zone for link in links if link.status == "accepted"), zone)
    moment = now()
    first = args.get("from_") or moment.astimezone(ZoneInfo(zone)).date()
    last = args.get("to") or first + timedelta(days=13)
    if last < first or (last - first).days >= MAX_SLOT_DAYS:
        raise InvalidInput(f"La période va de « from » à « to » inclus, {MAX_SLOT_DAYS} jours au plus.")
    found_slots = list_slots(db.session, user, start=_local_midnight(first, zone),
                             end=_local_midnight(last + timedelta(days=1), zone), now=moment,
                             site_id=args.get("site_id"), practitioner_id=args.get("practitioner_id"),
                             profession=args.get("profession"), after=after_of(args.get("cursor")),
                             limit=args["limit"])
    page = found_slots[:args["limit"]]
    cursor = None
    if len(found_slots) > args["limit"]:
        cursor = encode_cursor({"start": page[-1].starts_at.isoformat(), "id": page[-1].id})
    return {"items": [present.slot(slot) for slot in page], "next_cursor": cursor}


# --- Practitioners publish ------------------------------------------------------------------------------

@blueprint.post("/practitioners/<int:practitioner_id>/rules")
@blueprint.arguments(s.RuleInputSchema())
@blueprint.response(201, s.RuleCreatedSchema)
@blueprint.doc(security=BEARER)
@answers(400, 401, 403, 404, 409)
@unit_of_work()
@token_auth()
def publish(data, practitioner_id: int, user: User | None):
    """Publier une règle de disponibilité : ses créneaux sont créés sur 90 jours (409 nomme le conflit)."""
    result = publish_rule(db.session, user, practitioner_id, RuleInput(**data), now())
    return {"id": result.rule.id, "slots_created": result.created}


# --- Patients -------------------------------------------------------------------------------------------

@blueprint.get("/patients")
@blueprint.arguments(s.PatientArgsSchema(), location="query")
@blueprint.response(200, s.page_of(s.PatientSchema, "PatientPage"))
@blueprint.alt_response(400, schema=s.ErrorEnvelopeSchema, description=BAD_CURSOR)
@blueprint.doc(security=BEARER)
@answers(401, 403)
@unit_of_work()
@token_auth(desk=True)
def patients(args, user: User | None):
    """Retrouver un patient par nom et date de naissance (accents indifférents ; orthographes proches ensuite)."""
    offset = offset_of(args.get("cursor"))
    matches = find_patients(db.session, user, args["last_name"], args["birth_date"], now())
    return offset_page(matches.exact + matches.suggestions, offset, args["limit"], present.patient)


@blueprint.post("/patients")
@blueprint.arguments(s.PatientInputSchema())
@blueprint.response(201, s.PatientSchema)
@blueprint.doc(security=BEARER)
@answers(400, 401, 403, 409)
@unit_of_work()
@token_auth(desk=True)
def new_patient(data, user: User | None):
    """Enregistrer un patient (nom, date de naissance, commune ; un mobile, un fixe ou aucun téléphone)."""
    return present.patient(create_patient(db.session, user, PatientInput(**data), now()))


# --- Appointments ---------------------------------------------------------------------------------------

@blueprint.post("/appointments")
@blueprint.arguments(s.BookingInputSchema())
@blueprint.response(201, s.AppointmentSchema)
@blueprint.doc(security=BEARER)
@answers(400, 401, 403, 404, 409)
@unit_of_work()
@token_auth()
def new_appointment(data, user: User | None):
    """Réserver un créneau pour un patient (``patient_id`` existant ou nouveau ``patient``).

    409 si le créneau est pris.
    """
    if ("patient_id" in data) == ("patient" in data):
        raise InvalidInput("Indiquez soit « patient_id », soit « patient ».")
    if is_resident(user) and user.phone and not user.phone_verified_at:
        raise Forbidden("Confirmez d’abord votre numéro de téléphone depuis votre compte.")
    if not may_book(user):
        raise Forbidden("Votre rôle ne permet pas de réserver.")
    patient_id = data.get("patient_id")
    if "patient" in data:
        details = PatientInput(**data["patient"])
        created = (add_relative(db.session, user, details, now()) if is_resident(user)
                   else create_patient(db.session, user, details, now()))
        patient_id = created.id
    booked = book(db.session, user, slot_id=data["slot_id"], patient_id=patient_id, now=now(),
                  channel=data["channel"], reason=data.get("reason"), consent=data["consent"])
    return present.appointment(booked.appointment, booked.sms)


@blueprint.get("/appointments/<int:appointment_id>")
@blueprint.response(200, s.AppointmentSchema)
@blueprint.doc(security=BEARER)
@answers(401, 404)
@unit_of_work()
@token_auth()
def appointment(appointment_id: int, user: User | None):
    """Un rendez-vous : pour le compte du patient, le personnel du lieu et le praticien."""
    found = read_appointment(db.session, user, appointment_id, now())
    return present.appointment(found, can_receive_sms(found.patient))


@blueprint.post("/appointments/<int:appointment_id>/cancel")
@blueprint.arguments(s.CancelInputSchema())
@blueprint.response(200, s.AppointmentSchema)
@blueprint.doc(security=BEARER)
@answers(400, 401, 403, 404, 409)
@unit_of_work()
@token_auth()
def cancel(data, appointment_id: int, user: User | None):
    """Annuler un rendez-vous avec un motif : le patient est prévenu et la place proposée à nouveau."""
    found = cancel_appointment(db.session, user, appointment_id, data["reason"], now())
    return present.appointment(found, can_receive_sms(found.patient))


@blueprint.post("/appointments/<int:appointment_id>/attendance")
@blueprint.arguments(s.AttendanceInputSchema())
@blueprint.response(200, s.AppointmentSchema)
@blueprint.doc(security=BEARER)
@answers(400, 401, 403, 404, 409)
@unit_of_work()
@token_auth()
def attendance(data, appointment_id: int, user: User | None):
    """Noter la présence (« attended ») ou l’absence (« no_show ») une fois le rendez-vous commencé."""
    found = mark_attendance(db.session, user, appointment_id, data["status"], now())
    return present.appointment(found, can_receive_sms(found.patient))


# --- Statistics -----------------------------------------------------------------------------------------

@blueprint.get("/communes/<insee>/stats")
@blueprint.arguments(s.StatsArgsSchema(), location="query")
@blueprint.response(200, s.StatsSchema)
@blueprint.doc(security=BEARER)
@answers(401, 403, 404)
@token_auth()
def commune_stats(args, insee: str, user: User | None):
    """Statistiques d’une commune du jour « from » au jour « to » inclus.

    Les effectifs de 1 à 4 personnes valent « < 5 » ; ceux qui permettraient de les retrouver par soustraction
    valent « secret statistique ».
    """
    stats = statistics_for(db.session, user, insee, args["from_"], args["to"] + timedelta(days=1), now(),
                           site_id=args.get("site_id"), profession=args.get("profession"))
    return keyed(stats)


@blueprint.get("/departements/<code>/access")
@blueprint.arguments(s.AccessArgsSchema(), location="query")
@blueprint.response(200, s.AccessSchema)
@blueprint.doc(security=BEARER)
@answers(401, 403, 404)
@token_auth()
def departement_access(args, code: str, user: User | None):
    """Accès aux soins d’un département : le trajet estimé de chaque commune jusqu’au lieu le plus proche qui
    propose la profession, les parts de la population à plus de 20 et 30 min, les recherches restées sans
    créneau (de 1 à 4 : « < 5 »). Ce que montre la carte du département, pour ses observateurs."""
    departement = fetch(db.session, Departement, code.upper()[:3], "Département inconnu.", user, Action.READ_STATS)
    if args["profession"] not in PROFESSIONS:
        raise InvalidInput("Profession inconnue.")
    zone = time_zone_for_departement(departement.code)
    if args.get("month"):
        year, month = (int(part) for part in args["month"].split("-"))
    else:
        year, month = previous_month(now().astimezone(ZoneInfo(zone)).date())
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    drawn = territory_map(db.session, f"{departement.name} ({departement.code})", args["profession"], now(), start,
                          end, _local_midnight(start, zone), _local_midnight(end, zone),
                          departement=departement.code)
    return {"departement": {"code": departement.code, "name": departement.name},
            "profession": args["profession"],
            "period": {"from": start.isoformat(), "to": (end - timedelta(days=1)).isoformat()},
            "figures": [{"key": slug(label), "label": label, "value": value}
                        for label, value in territory_figures(drawn)],
            "communes": [present.access_commune(row.commune, row.unmet, row.unmet_per_thousand)
                         for row in drawn.rows]
            + [present.access_commune(commune, None, None) for commune in drawn.access.unplaced]}
