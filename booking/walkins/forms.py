"""The desk's form for a visit without appointment."""

from wtforms import SelectField, StringField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from booking.forms import BaseForm, options
from booking.sites.rules import PROFESSIONS


class WalkInForm(BaseForm):
    at = TimeField("Heure d’arrivée", validators=[InputRequired("Indiquez l’heure.")])
    profession = SelectField("Professionnel consulté", choices=options(PROFESSIONS.items()))
    commune = StringField("Commune de résidence (nom ou code postal ; facultatif)",
                          validators=[Optional(), Length(max=100)])
