"""Forms of the waiting-list pages."""

from wtforms import (
    DateField,
    SelectField,
)
from wtforms.validators import DataRequired

from booking.forms import BaseForm, options
from booking.sites.rules import PROFESSIONS


class WaitlistForm(BaseForm):
    site_id = SelectField("Lieu", coerce=int, choices=[])
    profession = SelectField("Profession", choices=options(PROFESSIONS.items()))
    first_day = DateField("Du", validators=[DataRequired("Indiquez une date.")])
    last_day = DateField("Au", validators=[DataRequired("Indiquez une date.")])
