"""The two questions, from the link in the SMS, without an account."""

from flask import Blueprint, render_template
from wtforms import RadioField
from wtforms.validators import InputRequired

from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db, limiter
from booking.feedback.models import ALTERNATIVES
from booking.feedback.services import already_answered, appointment_for_feedback, record_feedback
from booking.forms import BaseForm, options

blueprint = Blueprint("feedback", __name__)


class FeedbackForm(BaseForm):
    useful = RadioField("Cette consultation vous a-t-elle été utile ?", coerce=int,
                        choices=options([(5, "5 — tout à fait"), (4, "4"), (3, "3"), (2, "2"),
                                         (1, "1 — pas du tout")]),
                        validators=[InputRequired("Choisissez une note.")])
    alternative = RadioField("Sans cette consultation ici, qu’auriez-vous fait ?",
                             choices=options(ALTERNATIVES.items()),
                             validators=[InputRequired("Choisissez une réponse.")])


@blueprint.route("/avis/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
@unit_of_work()
def answer(token: str):
    """Two questions, answered once; nothing in the answer says who gave it."""
    appointment = appointment_for_feedback(db.session, token, now())
    if already_answered(db.session, appointment):
        return render_template("feedback/thanks.html", already=True)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            record_feedback(db.session, appointment, form.useful.data, form.alternative.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return render_template("feedback/thanks.html", already=False)
    response = render_template("feedback/form.html", form=form, appointment=appointment)
    return response, 422 if form.errors else 200
