"""The desk's form for a visit without appointment."""

from wtforms import SelectField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from booking.forms import BaseForm, CommuneField
from booking.sites.professions import profession_choices


class WalkInForm(BaseForm):
    at = TimeField("Heure d’arrivée", validators=[InputRequired("Indiquez l’heure.")])
    profession = SelectField("Professionnel consulté", choices=profession_choices())
    commune = CommuneField("Commune de résidence (nom ou code postal ; facultatif)",
                          validators=[Optional(), Length(max=100)])
