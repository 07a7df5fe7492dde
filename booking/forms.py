"""What every form shares: the base (CSRF, French messages, no control characters), fields and choices."""

import re
from datetime import date

import wtforms
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from booking.errors import DomainError
from booking.text import text_problem


class BaseForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

    def validate(self, extra_validators=None) -> bool:
        """Validate as WTForms does, and refuse control characters in every text field (line breaks in text areas)."""
        valid = super().validate(extra_validators)
        for field in self:
            problem = text_problem(field.data, multiline=isinstance(field, TextAreaField)) \
                if isinstance(field, StringField) else None
            if problem:
                field.errors = [*field.errors, problem]
                valid = False
        return valid

    def add_domain_error(self, error: DomainError) -> None:
        """Show a use case's refusal beside the field it names, or above the form."""
        field = self._fields.get(error.field) if error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
            field.offered = error.choices
        else:
            self.form_errors.append(error.message)


class CommuneField(StringField):
    """A commune typed as a name or a postal code; when several answer, the one picked among them (the
    ``<name>-choix`` radio buttons the form then shows) replaces what was typed."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        picked = formdata.get(f"{self.name}-choix") if formdata else None
        if picked:
            self.data = picked.strip()
            self.raw_data = [self.data]


class FrenchDateField(StringField):
    """A date typed the French way at a desk: 02/11/1944, 02111944, 2 11 1944 (or ISO 1944-11-02).

    A native date picker follows the computer's locale and slows a keyboard user down.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": "jj/mm/aaaa", "inputmode": "numeric", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self):
        if isinstance(self.data, date):
            return self.data.strftime("%d/%m/%Y")
        return self.raw_data[0] if self.raw_data else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.raw_data = valuelist
        if not text:
            self.data = None
            return
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        digits = re.sub(r"\D", " ", text).split()
        try:
            if iso:
                year, month, day = (int(part) for part in iso.groups())
            elif len(digits) == 3:
                day, month, year = (int(part) for part in digits)
            elif len(digits) == 1 and len(digits[0]) == 8:
                day, month, year = int(digits[0][:2]), int(digits[0][2:4]), int(digits[0][4:])
            else:
                raise ValueError
        except ValueError:
            self.data = None
            raise ValueError("Date invalide : écrivez-la jj/mm/aaaa, par exemple 02/11/1944.") from None
        if not iso and len(digits[-1]) != 4 and len(digits) == 3:
            self.data = None  # « 3/12/26 »: 1926 or 2026? The person says.
            raise ValueError("Écrivez l’année en entier, avec 4 chiffres (jj/mm/aaaa).")
        try:
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"Cette date n’existe pas : {day:02d}/{month:02d}/{year:04d}. Vérifiez le jour "
                             "et le mois.") from None


class NewPasswordFields:
    """A new password typed twice (sign-up, accepting an invitation); mixed into a BaseForm."""

    password = PasswordField("Mot de passe (10 caractères au moins)",
                             validators=[DataRequired(), Length(min=10, max=256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirmez le mot de passe",
                            validators=[DataRequired(), EqualTo("password", "Les deux mots de passe diffèrent.")],
                            render_kw={"autocomplete": "new-password"})


def optional_email() -> list:
    """Validators of an email that may be left empty, but not half typed ("marguerite@")."""
    return [Optional(), Length(max=254), Email("Adresse e-mail incomplète : il manque la partie après @ ou un point.")]


def options(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class _Select(wtforms.widgets.Select):
    """WTForms' select, each plain option written directly: WTForms formats an option's attributes through
    ``string.Formatter``, which cost about a millisecond a page for the public search's list of professions."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or not isinstance(choice.value, str):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(choice.value)}">{escape(choice.label or choice.value)}'
                      "</option>")


class SelectField(wtforms.SelectField):
    widget = _Select()


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
