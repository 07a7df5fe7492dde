"""Forms of the waiting-list pages."""

from wtforms import (
    SelectField,
)
from wtforms.validators import InputRequired

from booking.forms import BaseForm, FrenchDateField
from booking.sites.professions import profession_choices


class WaitlistForm(BaseForm):
    site_id = SelectField("Lieu", coerce=int, choices=[])
    profession = SelectField("Profession", choices=profession_choices())
    first_day = FrenchDateField("Du", validators=[InputRequired("Indiquez une date.")])
    last_day = FrenchDateField("Au", validators=[InputRequired("Indiquez une date.")])
