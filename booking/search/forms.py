"""Forms of the public search."""

from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from booking.formatting import SITE_KIND_LABELS
from booking.forms import BaseForm, FrenchDateField, SelectField, options
from booking.search.services import RADIUS_CHOICES
from booking.sites.professions import profession_choices


class SearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search, bookmarkable

    commune = StringField("Votre commune ou code postal", validators=[DataRequired(
        "Tapez le nom de votre commune ou son code postal, par exemple « Salers » ou « 15140 »."),
                                                                     Length(max=100)])
    profession = SelectField("Qui voulez-vous consulter ?", validate_choice=False,
                             choices=profession_choices(("", "Tous les professionnels")))
    kind = SelectField("Type de lieu", validate_choice=False,
                       choices=options([("", "Tous les lieux")] + list(SITE_KIND_LABELS.items())))
    depuis = FrenchDateField("À partir du", validators=[Optional()])
    # Named as the address bar shows it: ?jusqua=30
    jusqua = SelectField("Temps de trajet en voiture", validate_choice=False, choices=options(
        [("", "Sans limite")] + [(str(minutes), f"jusqu’à {minutes} min") for minutes in RADIUS_CHOICES]))
