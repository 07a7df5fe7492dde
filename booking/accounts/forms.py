"""Forms of the resident account pages."""

from wtforms import (
    BooleanField,
    EmailField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from booking.forms import BaseForm, CommuneField, FrenchDateField, NewPasswordFields, optional_email


class SignupForm(NewPasswordFields, BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)],
                            render_kw={"autocomplete": "family-name"})
    birth_date = FrenchDateField("Date de naissance", validators=[InputRequired("Indiquez votre date de naissance.")],
                                 render_kw={"autocomplete": "bday"})
    commune = CommuneField("Commune de résidence (nom ou code postal)", validators=[DataRequired(), Length(max=100)])
    phone = StringField("Numéro de mobile (pour recevoir les rappels)", validators=[Optional(), Length(max=30)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = EmailField("Adresse e-mail (facultative si vous donnez un mobile)",
                       validators=optional_email(),
                       render_kw={"autocomplete": "email"})
    sms_consent = BooleanField("J’accepte de recevoir des SMS de confirmation et de rappel", default=True)


class CodeForm(BaseForm):
    code = StringField("Code reçu par SMS (6 chiffres)", validators=[DataRequired(), Length(min=6, max=6)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
