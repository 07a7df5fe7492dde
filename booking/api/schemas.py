"""The API's request and response schemas: they validate what comes in and are the OpenAPI document.

Marshmallow (through flask-smorest) both parses requests and feeds apispec, so
a field documented here is exactly a field checked here.
"""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from booking.appointments.services import CANCEL_REASONS
from booking.sites.models import SITE_KINDS
from booking.sites.professions import PROFESSIONS
from booking.slots.models import MODALITIES, VISIBILITIES
from booking.text import text_problem


class _KnownProfession(validate.Validator):
    """One of the professions of the reference table, read when the request is checked (the list grows)."""

    def __call__(self, value: str) -> str:
        if value not in PROFESSIONS:
            raise ValidationError("Profession inconnue : voir la liste des codes de profession de la plateforme.")
        return value


# The document says the shape of a code (what a client can check); the reference table says which exist.
PROFESSION = [validate.Regexp(r"^[a-z][a-z0-9_]{1,38}$", error="Code de profession attendu (minuscules, "
                              "chiffres et « _ »), par exemple medecin_generaliste."), _KnownProfession()]
# Beyond these, a date is a typing error (and 0001-01-01 or 9999-12-31 overflow date arithmetic).
DAYS = validate.Range(min=date(1900, 1, 1), max=date(2100, 12, 31))
INSEE = validate.Regexp(r"^[0-9][0-9AB][0-9]{3}$", error="Code INSEE à 5 caractères attendu.")
# JSON bodies take integers only ("12" is refused); query strings are text by nature.
ID = {"strict": True, "validate": validate.Range(min=1, max=2**31 - 1)}
QUERY_ID = {"validate": validate.Range(min=1, max=2**31 - 1)}
INSTANT = {"format": "date-time", "description": "Instant UTC, ISO 8601 avec « Z »."}
LOCAL = {"format": "date-time", "description": "Heure locale du lieu, avec son décalage (ISO 8601)."}


def _typed_text(multiline: bool):
    def check(value: str) -> None:
        problem = text_problem(value, multiline=multiline)
        if problem:
            raise ValidationError(problem)
    return check


def _text(limit: int, minimum: int = 0, multiline: bool = False, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=minimum or None, max=limit), _typed_text(multiline)], **kwargs)


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Code stable, en anglais, pour les programmes."})
    message = fields.String(required=True, metadata={"description": "Explication en français, pour les personnes."})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "Erreurs par champ (validation)."})


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200), strict=False)
    cursor = fields.String(validate=[validate.Length(max=200), validate.Regexp(
        r"^[A-Za-z0-9_-]+$", error="Curseur de pagination invalide : reprenez la valeur « next_cursor » de la page "
                                   "précédente.")], metadata={
        "description": "Valeur de « next_cursor » de la page précédente, telle quelle ; un autre texte au même "
                       "format est refusé avec le code « bad_cursor » (400)."})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A list page: ``{"items": [...], "next_cursor": null or "…"}``."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item), required=True),
                             "next_cursor": fields.String(required=True, allow_none=True)}, name=name)


# --- Reference data -------------------------------------------------------------------------------------

class CommuneArgsSchema(PageArgsSchema):
    q = _text(100, required=True, minimum=1,
              metadata={"description": "Nom de commune ou code postal."})


class CommuneSchema(Schema):
    insee = fields.String(required=True)
    name = fields.String(required=True)
    departement_code = fields.String(required=True)
    postal_codes = fields.List(fields.String(), required=True)


# --- Sites and practitioners -----------------------------------------------------------------------------

class SiteArgsSchema(PageArgsSchema):
    commune = fields.String(required=True, validate=INSEE, metadata={"description": "Code INSEE de la commune."})
    profession = fields.String(validate=PROFESSION)
    kind = fields.String(validate=validate.OneOf(SITE_KINDS))


class PractitionerSchema(Schema):
    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    profession = fields.String(required=True)
    specialty = fields.String(allow_none=True)


class CommuneRefSchema(Schema):
    insee = fields.String(required=True)
    name = fields.String(required=True)


class _SiteBaseSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    address = fields.String(required=True)
    postal_code = fields.String(required=True)
    commune = fields.Nested(CommuneRefSchema, required=True)
    booking_open = fields.Boolean(required=True)
    drop_in_only = fields.Boolean(required=True)
    professions = fields.List(fields.String(), required=True)


class SiteSummarySchema(_SiteBaseSchema):
    distance_tier = fields.String(required=True, validate=validate.OneOf(["commune", "epci", "departement"]),
                                  metadata={"description": "Sert la commune, son intercommunalité ou son département."})
    next_free_slot = fields.String(required=True, allow_none=True, metadata=INSTANT)


class SiteSchema(_SiteBaseSchema):
    phone = fields.String(allow_none=True)
    opening_hours = fields.String(allow_none=True)
    instructions = fields.String(allow_none=True)
    equipment = fields.List(fields.String(), required=True)
    accessibility = fields.List(fields.String(), required=True)
    time_zone = fields.String(required=True)
    practitioners = fields.List(fields.Nested(PractitionerSchema), required=True)


class PractitionerArgsSchema(PageArgsSchema):
    site_id = fields.Integer(required=True, **QUERY_ID)
    profession = fields.String(validate=PROFESSION)


# --- Slots and rules ------------------------------------------------------------------------------------

class SlotArgsSchema(PageArgsSchema):
    site_id = fields.Integer(**QUERY_ID)
    practitioner_id = fields.Integer(**QUERY_ID)
    profession = fields.String(validate=PROFESSION)
    from_ = fields.Date(validate=DAYS, data_key="from",
                        metadata={"description": "Premier jour (heure locale du lieu)."})
    to = fields.Date(validate=DAYS, metadata={"description": "Dernier jour inclus ; 92 jours au plus après « from »."})


class SlotSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    practitioner_id = fields.Integer(required=True)
    start = fields.String(required=True, metadata=INSTANT)
    end = fields.String(required=True, metadata=INSTANT)
    local_start = fields.String(required=True, metadata=LOCAL)
    local_end = fields.String(required=True, metadata=LOCAL)
    status = fields.String(required=True, validate=validate.OneOf(["open", "blocked", "withdrawn"]))
    modality = fields.String(required=True, validate=validate.OneOf(MODALITIES))
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True)


class RuleInputSchema(Schema):
    site_id = fields.Integer(required=True, **ID)
    rrule = _text(300, required=True, metadata={"example": "FREQ=WEEKLY;BYDAY=TU",
                                                "description": "RRULE RFC 5545, sans DTSTART."})
    start_date = fields.Date(required=True)
    until = fields.Date(allow_none=True)
    count = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=1000))
    start_time = fields.Time(required=True, format="%H:%M", metadata={"example": "09:00"})
    end_time = fields.Time(required=True, format="%H:%M", metadata={"example": "12:00"})
    slot_minutes = fields.Integer(load_default=20, strict=True, validate=validate.Range(min=5, max=240))
    buffer_minutes = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=120))
    capacity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=20))
    modality = fields.String(load_default="on_site", validate=validate.OneOf(MODALITIES))
    room_id = fields.Integer(allow_none=True, **ID)
    video_url = _text(500, allow_none=True)
    opens_days_ahead = fields.Integer(load_default=60, strict=True, validate=validate.Range(min=0, max=365))
    closes_hours_before = fields.Integer(load_default=2, strict=True, validate=validate.Range(min=0, max=336))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES), metadata={
        "description": "public : tout le monde ; snp : soins non programmés, réservés au SAS jusqu’à "
                       "snp_release_hours heures avant le créneau ; pro : professionnels et régulateurs."})
    snp_release_hours = fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=0, max=48))


class RuleCreatedSchema(Schema):
    id = fields.Integer(required=True)
    slots_created = fields.Integer(required=True)


# --- Patients and appointments --------------------------------------------------------------------------

class PatientArgsSchema(PageArgsSchema):
    last_name = _text(100, required=True, minimum=1)
    birth_date = fields.Date(validate=DAYS, required=True)


class PatientInputSchema(Schema):
    first_name = _text(100, required=True, minimum=1)
    last_name = _text(100, required=True, minimum=1)
    birth_date = fields.Date(validate=DAYS, required=True)
    phone = _text(30, allow_none=True)
    email = _text(254, allow_none=True)
    commune_insee = fields.String(allow_none=True, validate=INSEE)
    sms_consent = fields.Boolean(load_default=False)


class PatientSchema(Schema):
    id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    birth_date = fields.Date(validate=DAYS, allow_none=True)
    commune_insee = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "Format E.164."})
    phone_kind = fields.String(allow_none=True, validate=validate.OneOf(["mobile", "landline"]))
    email = fields.String(allow_none=True)
    sms_consent = fields.Boolean(required=True)


class BookingInputSchema(Schema):
    slot_id = fields.Integer(required=True, **ID)
    patient_id = fields.Integer(**ID)
    patient = fields.Nested(PatientInputSchema,
                            metadata={"description": "Un nouveau patient, à la place de patient_id."})
    reason = _text(500, allow_none=True, multiline=True)
    channel = fields.String(load_default="reception", validate=validate.OneOf(["online", "reception", "phone"]))
    consent = fields.Boolean(load_default=False, metadata={
        "description": "Pour un agent : le patient a donné son accord pour ce rendez-vous (obligatoire)."})


class AppointmentSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["booked", "cancelled", "attended", "no_show"]))
    patient_id = fields.Integer(required=True)
    channel = fields.String(required=True)
    reason = fields.String(allow_none=True)
    booked_at = fields.String(required=True, metadata=INSTANT)
    cancelled_at = fields.String(allow_none=True, metadata=INSTANT)
    cancel_reason = fields.String(allow_none=True)
    checked_in_at = fields.String(allow_none=True, metadata=INSTANT)
    sms = fields.Boolean(required=True, metadata={"description": "Le patient recevra ses rappels par SMS."})
    slot = fields.Nested(SlotSchema, required=True)


class CancelInputSchema(Schema):
    reason = fields.String(load_default="other", validate=validate.OneOf(sorted(CANCEL_REASONS)))


class AttendanceInputSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["attended", "no_show"]))


# --- Statistics ------------------------------------------------------------------------------------------

class StatsArgsSchema(Schema):
    from_ = fields.Date(validate=DAYS, data_key="from", required=True)
    to = fields.Date(validate=DAYS, required=True)
    site_id = fields.Integer(**QUERY_ID)
    profession = fields.String(validate=PROFESSION)


class KeyedLabelSchema(Schema):
    key = fields.String(required=True,
                        metadata={"description": "Clé stable (ASCII), qui ne change pas avec le libellé."})
    label = fields.String(required=True, metadata={"description": "Libellé français, pour l’affichage."})


class FigureSchema(KeyedLabelSchema):
    value = fields.Raw(allow_none=True, metadata={"description": "Nombre, ou « < 5 » (effectif masqué), ou null."})


class StatsRowSchema(KeyedLabelSchema):
    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                         metadata={"description": "Par clé de colonne. Les effectifs de 1 à 4 personnes "
                                                  "valent « < 5 » ; ceux qui permettraient de les "
                                                  "retrouver valent « secret statistique »."})


class StatsTableSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    columns = fields.List(fields.Nested(KeyedLabelSchema), required=True)
    rows = fields.List(fields.Nested(StatsRowSchema), required=True)


class StatsSchema(Schema):
    schema_version = fields.String(required=True)
    commune = fields.Nested(CommuneRefSchema, required=True)
    period = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    site_id = fields.Integer(allow_none=True)
    profession = fields.String(allow_none=True)
    headline = fields.List(fields.Nested(FigureSchema), required=True,
                           metadata={"description": "appointments_booked, occupancy_rate, no_show_rate, "
                                                    "median_lead_days, unmet_searches."})
    tables = fields.List(fields.Nested(StatsTableSchema), required=True)


class AccessArgsSchema(Schema):
    profession = fields.String(validate=PROFESSION, load_default="medecin_generaliste")
    month = fields.String(validate=validate.Regexp(r"^(19|20)\d\d-(0[1-9]|1[0-2])$",
                                                   error="Mois attendu au format AAAA-MM."),
                          metadata={"description": "Mois des consultations et des recherches (par défaut le "
                                                   "dernier mois terminé)."})


class DepartementRefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class AccessCommuneSchema(Schema):
    insee = fields.String(required=True)
    name = fields.String(required=True)
    placed = fields.Boolean(required=True, metadata={"description": "Position connue ; sinon, non comptée."})
    population_2021 = fields.Integer(allow_none=True)
    population_2015 = fields.Integer(allow_none=True)
    minutes_to_site = fields.Integer(allow_none=True, metadata={
        "description": "Trajet estimé en voiture jusqu’au lieu le plus proche qui propose la profession ; null : "
                       "aucun à moins de 60 min, ou commune sans position."})
    minutes_to_free_slot = fields.Integer(allow_none=True, metadata={
        "description": "Même chose jusqu’à un lieu qui a un créneau libre dans les 7 jours."})
    unmet_searches = fields.Raw(allow_none=True, metadata={
        "description": "Recherches restées sans créneau dans le mois : nombre, ou « < 5 » (de 1 à 4)."})
    unmet_per_thousand = fields.Float(allow_none=True)


class AccessSchema(Schema):
    departement = fields.Nested(DepartementRefSchema, required=True)
    profession = fields.String(required=True)
    period = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    figures = fields.List(fields.Nested(FigureSchema), required=True)
    communes = fields.List(fields.Nested(AccessCommuneSchema), required=True)
