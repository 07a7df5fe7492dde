"""Forms of the booking pages."""

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from booking.appointments.services import CANCEL_REASONS
from booking.formatting import SITE_KIND_LABELS
from booking.forms import BaseForm, FrenchDateField
from booking.sites.forms import options
from booking.sites.rules import PROFESSIONS


class ConfirmForm(BaseForm):
    """A confirmation button: only the CSRF token."""


class SearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search, bookmarkable

    commune = StringField("Votre commune ou code postal", validators=[DataRequired("Indiquez une commune."),
                                                                     Length(max=100)])
    profession = SelectField("Qui voulez-vous consulter ?", validate_choice=False,
                             choices=options([("", "Tous les professionnels")] + list(PROFESSIONS.items())))
    kind = SelectField("Type de lieu", validate_choice=False,
                       choices=options([("", "Tous les lieux")] + list(SITE_KIND_LABELS.items())))
    depuis = DateField("À partir du", validators=[Optional()])


class SignupForm(BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)],
                            render_kw={"autocomplete": "family-name"})
    birth_date = FrenchDateField("Date de naissance", validators=[DataRequired("Indiquez votre date de naissance.")],
                                 render_kw={"autocomplete": "bday"})
    commune = StringField("Commune de résidence (nom ou code postal)", validators=[DataRequired(), Length(max=100)])
    phone = StringField("Numéro de mobile (pour recevoir les rappels)", validators=[Optional(), Length(max=30)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField("Adresse e-mail (facultative si vous donnez un mobile)",
                       validators=[Optional(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField("Mot de passe (10 caractères au moins)",
                             validators=[DataRequired(), Length(min=10, max=256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirmez le mot de passe",
                            validators=[DataRequired(), EqualTo("password", "Les deux mots de passe diffèrent.")],
                            render_kw={"autocomplete": "new-password"})
    sms_consent = BooleanField("J’accepte de recevoir des SMS de confirmation et de rappel", default=True)


class CodeForm(BaseForm):
    code = StringField("Code reçu par SMS (6 chiffres)", validators=[DataRequired(), Length(min=6, max=6)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PatientForm(BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)])
    birth_date = FrenchDateField("Date de naissance", validators=[DataRequired("Indiquez la date de naissance.")])
    commune = StringField("Commune de résidence (nom, code postal ou code INSEE)", validators=[DataRequired(),
                                                                                            Length(max=100)])
    phone = StringField("Téléphone (mobile, fixe, ou vide)", validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel"})
    email = EmailField("E-mail (facultatif)", validators=[Optional(), Length(max=254)])
    sms_consent = BooleanField("Accepte les rappels par SMS (mobile seulement)")
    relationship_label = StringField("Lien (enfant, père, mère…)", validators=[Optional(), Length(max=40)])


class BookForm(BaseForm):
    patient_id = RadioField("Pour qui ?", coerce=int, choices=[])
    reason = TextAreaField("Motif (facultatif, reste confidentiel, jamais envoyé par SMS)",
                           validators=[Optional(), Length(max=2000)])
    consent = BooleanField("Le patient accepte ce rendez-vous et, s’il a un mobile, les rappels par SMS")


class CancelReasonForm(BaseForm):
    reason = SelectField("Motif de l’annulation", choices=options(CANCEL_REASONS.items()))


class FindPatientForm(BaseForm):
    class Meta:
        csrf = False

    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), Length(max=100)])
    birth_date = FrenchDateField("Date de naissance", validators=[Optional()])


class WaitlistForm(BaseForm):
    site_id = SelectField("Lieu", coerce=int, choices=[])
    profession = SelectField("Profession", choices=options(PROFESSIONS.items()))
    first_day = DateField("Du", validators=[DataRequired("Indiquez une date.")])
    last_day = DateField("Au", validators=[DataRequired("Indiquez une date.")])
