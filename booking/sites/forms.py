"""Forms of the site pages."""

from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from booking.formatting import SITE_KIND_LABELS
from booking.forms import BaseForm, CheckboxesField, FrenchDateField, NewPasswordFields, options
from booking.sites.models import CLOSURE_REASONS, SITE_KINDS
from booking.sites.professions import profession_choices
from booking.sites.rules import ACCESSIBILITY, EQUIPMENT


class SiteForm(BaseForm):
    kind = SelectField("Type de lieu", choices=options((k, SITE_KIND_LABELS[k]) for k in SITE_KINDS))
    name = StringField("Nom du lieu", validators=[DataRequired(), Length(max=200)])
    sms_label = StringField("Nom court dans les SMS (30 caractères au plus ; vide : le début du nom)",
                            validators=[Optional(), Length(max=30)])
    address = StringField("Adresse (numéro, rue, bâtiment)", validators=[DataRequired(), Length(max=300)])
    commune_insee = SelectField("Commune où se trouve le lieu", choices=[])
    postal_code = StringField("Code postal (rempli d’après la commune)", validators=[Optional(), Length(min=5, max=5)],
                              render_kw={"inputmode": "numeric"})
    operator = SelectField("Géré par", choices=[])
    served_communes = CheckboxesField("Communes desservies (par défaut : la commune, ou tout le groupement)",
                                      choices=[])
    time_zone = SelectField("Fuseau horaire", choices=[])
    latitude = StringField("Latitude du lieu (facultatif, par exemple 45,1581 ; vide : le point de sa commune)",
                           validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    longitude = StringField("Longitude du lieu (facultatif, par exemple 2,4993)",
                            validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    phone = StringField("Téléphone de la mairie ou du lieu", validators=[Optional(), Length(max=30)])
    contact_email = EmailField("E-mail de contact (reçoit le rapport mensuel)",
                               validators=[Optional(), Email("Adresse e-mail invalide."), Length(max=254)])
    opening_hours = TextAreaField("Précisions sur les horaires (facultatif ; les horaires se règlent dans le "
                                  "calendrier du lieu)", validators=[Optional(), Length(max=1000)])
    instructions = TextAreaField("Consignes pour les patients (où aller, présence d’une assistante…)",
                                 validators=[Optional(), Length(max=2000)])
    embed_origins = TextAreaField("Sites web autorisés à afficher les créneaux de ce lieu (un par ligne, "
                                  "par exemple https://www.saint-bonnet.fr)", validators=[Optional(), Length(max=1000)])
    rooms = TextAreaField("Salles (une par ligne)", validators=[Optional(), Length(max=1000)], default="Salle 1")
    equipment = CheckboxesField("Équipement de téléconsultation", choices=options(EQUIPMENT.items()))
    accessibility = CheckboxesField("Accessibilité", choices=options(ACCESSIBILITY.items()))
    booking_open = BooleanField("Ouvert à la réservation", default=True)
    members_may_edit = BooleanField("Lieu géré par l’intercommunalité : les référents des communes membres peuvent "
                                    "aussi le modifier")
    epci_runs_desk = BooleanField("Lieu géré par l’intercommunalité : elle tient elle-même l’accueil, et ses "
                                  "administrateurs voient donc qui est inscrit (sinon, seuls les accueils des "
                                  "mairies membres le voient)")
    drop_in_only = BooleanField("Sans rendez-vous (seuls les horaires sont affichés)")
    max_future_bookings = IntegerField("Rendez-vous à venir par patient et par profession, au plus", default=2,
                                       validators=[NumberRange(1, 20)])
    reminder_hours_before = IntegerField("Rappel par SMS, en heures avant le rendez-vous", default=24,
                                         validators=[NumberRange(1, 72)])
    second_reminder_hours = IntegerField("Second rappel, en heures avant (laisser vide : pas de second rappel)",
                                         default=2, validators=[Optional(), NumberRange(1, 71)])


class InviteForm(BaseForm):
    email = EmailField("E-mail du praticien", validators=[DataRequired(), Email("Adresse e-mail invalide."),
                                                          Length(max=254)])


class PractitionerProfileForm(NewPasswordFields, BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    profession = SelectField("Profession", choices=profession_choices())
    specialty = StringField("Spécialité ou orientation (facultatif)", validators=[Optional(), Length(max=80)])
    rpps = StringField("Numéro RPPS (11 chiffres)", validators=[Optional(), Length(max=20)])
    needed_equipment = CheckboxesField("Pour téléconsulter, j’ai besoin sur place de (facultatif)",
                                       choices=options(EQUIPMENT.items()))
    consults_remotely = BooleanField("Je consulte aussi à distance (téléconsultation)")


class HoursForm(BaseForm):
    """A site's opening hours: each weekday's ranges typed as people write them (« 9h-12h, 14h-17h »)."""

    schedule_mode = RadioField("Quand les praticiens peuvent-ils publier des créneaux ?", choices=options([
        ("opening_hours", "Seulement pendant les horaires d’ouverture (un accueil ou une assistante reçoit les "
                          "patients)"),
        ("any_time", "Quand ils le souhaitent (une salle avec sa propre clé, sans accueil)")]))
    agents_may_close = BooleanField("Les agents d’accueil peuvent aussi fermer le lieu pour un jour ou une période")
    requires_assistant = BooleanField("Les téléconsultations demandent une assistante présente : elles ne sont "
                                      "réservables que les jours où quelqu’un est de service")
    monday = StringField("Lundi", validators=[Optional(), Length(max=60)])
    tuesday = StringField("Mardi", validators=[Optional(), Length(max=60)])
    wednesday = StringField("Mercredi", validators=[Optional(), Length(max=60)])
    thursday = StringField("Jeudi", validators=[Optional(), Length(max=60)])
    friday = StringField("Vendredi", validators=[Optional(), Length(max=60)])
    saturday = StringField("Samedi", validators=[Optional(), Length(max=60)])
    sunday = StringField("Dimanche", validators=[Optional(), Length(max=60)])

    DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ClosureForm(BaseForm):
    first_day = FrenchDateField("Premier jour de fermeture", validators=[InputRequired("Indiquez une date.")])
    last_day = FrenchDateField("Dernier jour (inclus)", validators=[InputRequired("Indiquez une date.")])
    reason = SelectField("Raison (affichée au public)", choices=options(CLOSURE_REASONS.items()))
    room_id = SelectField("Ce qui ferme", choices=[])
    note = StringField("Précision pour l’équipe (facultatif, non publiée)", validators=[Optional(), Length(max=200)])


class RotaForm(BaseForm):
    first_day = FrenchDateField("Du", validators=[InputRequired("Indiquez une date.")])
    last_day = FrenchDateField("Au (inclus)", validators=[InputRequired("Indiquez une date.")])
    assistant = StringField("Qui assiste les patients (un prénom suffit)", validators=[DataRequired("Indiquez qui."),
                                                                                       Length(max=100)])


class ProfessionForm(BaseForm):
    label = StringField("Libellé (comme les habitants le lisent)", validators=[DataRequired(), Length(max=80)])
    code = StringField("Code (minuscules, sans accent ni espace ; il ne change plus)",
                       validators=[DataRequired(), Length(max=40)])
