"""Forms of the resident account pages."""

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from booking.forms import BaseForm, FrenchDateField


class SignupForm(BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=100)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=100)],
                            render_kw={"autocomplete": "family-name"})
    birth_date = FrenchDateField("Date de naissance", validators=[InputRequired("Indiquez votre date de naissance.")],
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
