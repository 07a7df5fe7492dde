"""Forms of the waiting-list pages."""

from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired

from booking.forms import BaseForm, FrenchDateField, options
from booking.sites.professions import profession_choices
from booking.waitlist.services import SHARED_MINUTES

ANY_SITE = 0  # the site choice that means the shared list
WEEKDAYS = ("le lundi", "le mardi", "le mercredi", "le jeudi", "le vendredi", "le samedi", "le dimanche")


class WaitlistForm(BaseForm):
    site_id = SelectField("Lieu", coerce=int, choices=[])
    max_minutes = SelectField("Temps de trajet au plus, depuis la commune de la personne (liste partagée)",
                              coerce=int, default=30, validate_choice=False,  # join_waitlist says what is wrong
                              choices=options((minutes, f"{minutes} min") for minutes in SHARED_MINUTES))
    profession = SelectField("Profession", choices=profession_choices())
    first_day = FrenchDateField("Du", validators=[InputRequired("Indiquez une date.")])
    last_day = FrenchDateField("Au", validators=[InputRequired("Indiquez une date.")])
    mornings_only = BooleanField("Uniquement le matin")
    avoid_weekday = SelectField("Jour impossible", validate_choice=False, choices=options(
        [("", "Aucun")] + [(str(day), f"Pas {name}") for day, name in enumerate(WEEKDAYS)]))

    def fill_sites(self, sites) -> None:
        self.site_id.choices = options([(ANY_SITE, "Tout lieu assez proche (liste partagée)")]
                                       + [(site.id, site.name) for site in sites])

    def choices(self) -> dict:
        """What join_waitlist takes beyond the person, the profession and the days."""
        return {"site_id": self.site_id.data or None, "max_minutes": self.max_minutes.data,
                "mornings_only": self.mornings_only.data,
                "avoid_weekday": int(self.avoid_weekday.data) if (self.avoid_weekday.data or "").isdigit() else None}
