"""Forms of the practitioner pages."""

from wtforms import IntegerField, SelectField, TimeField, URLField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from booking.formatting import WEEKDAY_LABELS
from booking.forms import BaseForm, CheckboxesField, FrenchDateField, options
from booking.sites.rules import EQUIPMENT
from booking.slots.rules import FREQUENCIES, POSITIONS, WEEKDAYS


class RuleForm(BaseForm):
    site_id = SelectField("Lieu de soins", coerce=int, choices=[])
    frequency = SelectField("Rythme", choices=options(FREQUENCIES.items()))
    days = CheckboxesField("Jours", choices=options(
        (code, label.capitalize()) for code, label in zip(WEEKDAYS, WEEKDAY_LABELS, strict=True)))
    position = SelectField("Semaine du mois (rythme mensuel)", coerce=int,
                           choices=options((key, label.capitalize()) for key, label in POSITIONS.items()))
    start_date = FrenchDateField("À partir du", validators=[InputRequired("Indiquez une date.")])
    until = FrenchDateField("Jusqu’au (facultatif)", validators=[Optional()])
    count = IntegerField("Ou nombre de séances (facultatif)", validators=[Optional(), NumberRange(1, 1000)])
    start_time = TimeField("De", validators=[DataRequired("Indiquez une heure.")])
    end_time = TimeField("À", validators=[DataRequired("Indiquez une heure.")])
    slot_minutes = IntegerField("Durée d’un créneau (minutes)", default=20, validators=[NumberRange(5, 240)])
    buffer_minutes = IntegerField("Pause entre deux créneaux (minutes)", default=0, validators=[NumberRange(0, 120)])
    capacity = IntegerField("Patients par créneau", default=1, validators=[NumberRange(1, 20)])
    modality = SelectField("Modalité", choices=options([("on_site", "Sur place"), ("remote", "À distance (vidéo)")]),
                           default="on_site")
    video_url = URLField("Lien de votre outil de visioconsultation (montré au personnel du lieu, jamais par SMS)",
                         validators=[Optional()])
    room_id = SelectField("Salle", coerce=int, choices=[])
    opens_days_ahead = IntegerField("Réservable jusqu’à (jours à l’avance)", default=60,
                                    validators=[NumberRange(0, 365)])
    closes_hours_before = IntegerField("Réservation close (heures avant)", default=2,
                                       validators=[NumberRange(0, 336)])
    visibility = SelectField("Qui peut réserver ces créneaux", default="public", choices=options([
        ("public", "Tout le monde : en ligne, à l’accueil de la mairie et le SAS"),
        ("snp", "Soins non programmés : réservés au SAS (le 15), puis ouverts à tous"),
        ("pro", "Professionnels de santé et régulateurs du SAS uniquement")]))
    snp_release_hours = IntegerField("Soins non programmés : ouverts à tous, s’ils sont encore libres, "
                                     "(heures avant)", default=2, validators=[Optional(), NumberRange(0, 48)])

    def validate_days(self, field):
        if not field.data:
            raise ValidationError("Choisissez au moins un jour.")


class BlockForm(BaseForm):
    first_day = FrenchDateField("Du", validators=[InputRequired("Indiquez une date.")])
    last_day = FrenchDateField("Au (inclus)", validators=[InputRequired("Indiquez une date.")])


class CancelForm(BaseForm):
    """Only the CSRF token: the appointment ids come as a list."""


class FeedForm(BaseForm):
    """Only the CSRF token."""


class EquipmentForm(BaseForm):
    needed_equipment = CheckboxesField("Pour téléconsulter, j’ai besoin sur place de",
                                       choices=options(EQUIPMENT.items()))


SINGLE_SLOT_AUDIENCES = {
    "snp": "Soins non programmés : réservés au SAS, puis ouverts à tous",
    "pro": "Professionnels de santé et régulateurs du SAS uniquement",
    "public": "Tout le monde (annuler la réservation au SAS)",
}


class AudienceForm(BaseForm):
    """Single slots of one day for the SAS (or for everyone again)."""

    day = FrenchDateField("Jour", validators=[InputRequired("Indiquez une date.")])
    start_time = TimeField("De", validators=[DataRequired("Indiquez une heure.")])
    end_time = TimeField("À", validators=[DataRequired("Indiquez une heure.")])
    visibility = SelectField("Pour", default="snp", choices=options(SINGLE_SLOT_AUDIENCES.items()))
    snp_release_hours = IntegerField("Ouverts à tous, s’ils sont encore libres (heures avant)", default=2,
                                     validators=[Optional(), NumberRange(0, 48)])
