"""Forms of the booking pages."""

from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from booking.appointments.services import CANCEL_REASONS
from booking.forms import BaseForm, options


class ConfirmForm(BaseForm):
    """A confirmation button: only the CSRF token."""


class BookForm(BaseForm):
    patient_id = RadioField("Pour qui ?", coerce=int, choices=[])
    reason = TextAreaField("Motif (facultatif, reste confidentiel, jamais envoyé par SMS)",
                           validators=[Optional(), Length(max=2000)])
    consent = BooleanField("Le patient accepte ce rendez-vous et, s’il a un mobile, les rappels par SMS")


class DeskBookForm(BaseForm):
    """Booking at the desk: the slots are radio buttons drawn by the page, grouped by site and practitioner."""

    slot_id = StringField("Créneau", validators=[DataRequired("Choisissez un créneau."),
                                                 Regexp(r"^\d{1,12}$", message="Choisissez un créneau.")])
    consent = BooleanField("Le patient accepte ce rendez-vous",
                           validators=[DataRequired("Recueillez l’accord du patient avant de réserver pour lui.")])
    sms_consent = BooleanField("Il accepte les rappels par SMS")
    reason = TextAreaField("Motif (facultatif, confidentiel)", validators=[Optional(), Length(max=2000)])
    channel = SelectField("Demande faite", choices=options([("reception", "au guichet"), ("phone", "par téléphone")]),
                          default="reception")


class CancelReasonForm(BaseForm):
    reason = SelectField("Motif de l’annulation", choices=options(CANCEL_REASONS.items()))


