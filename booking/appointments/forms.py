"""Forms of the booking pages."""

from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from booking.appointments.services import CANCEL_REASONS
from booking.forms import BaseForm, options


class ConfirmForm(BaseForm):
    """A confirmation button: only the CSRF token."""


class BookForm(BaseForm):
    patient_id = RadioField("Pour qui ?", coerce=int, choices=[])
    reason = TextAreaField("Motif (facultatif, reste confidentiel, jamais envoyé par SMS)",
                           validators=[Optional(), Length(max=2000)])
    consent = BooleanField("Le patient accepte ce rendez-vous et, s’il a un mobile, les rappels par SMS")


class CancelReasonForm(BaseForm):
    reason = SelectField("Motif de l’annulation", choices=options(CANCEL_REASONS.items()))


