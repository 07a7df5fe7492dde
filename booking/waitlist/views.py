"""Waiting-list pages: join, take an offer, and the desk's sign-up for a patient."""


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from booking.appointments.forms import ConfirmForm
from booking.appointments.queries import read_patient
from booking.auth.decorators import current_desk_user, current_resident, staff_required
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.patients.accounts import account_patients
from booking.sites.models import Site
from booking.sites.services import sites_visible_to
from booking.waitlist.forms import WaitlistForm
from booking.waitlist.services import accept_offer, entry_from_offer, join_waitlist

blueprint = Blueprint("waitlist", __name__)


@blueprint.route("/compte/attente", methods=["GET", "POST"])
@login_required
def waitlist():
    """Join the waiting list of a site."""
    user = current_resident()
    form = WaitlistForm()
    form.fill_sites(db.session.scalars(db.select(Site).order_by(Site.name)))
    patients = account_patients(db.session, user)
    patient_id = request.values.get("patient_id", type=int) or (patients[0].id if patients else None)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                choices = form.choices()
                join_waitlist(db.session, user, patient_id, choices.pop("site_id"), form.profession.data,
                              form.first_day.data, form.last_day.data, now(), **choices)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Inscrit sur la liste d’attente : un SMS vous préviendra si une place se libère.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("public/waitlist.html", form=form, patients=patients, patient_id=patient_id), \
        422 if form.errors or form.form_errors else 200


@blueprint.route("/attente/<token>", methods=["GET", "POST"])
@unit_of_work()
def offer(token: str):
    """Take the slot offered by SMS to the person waiting (held 30 minutes)."""
    entry = entry_from_offer(db.session, token, now())
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        appointment = accept_offer(db.session, token, now())
        response = render_template("public/offer_done.html", appointment=appointment)
    else:
        response = render_template("public/offer.html", entry=entry, form=ConfirmForm())
    return response, 200, {"Referrer-Policy": "no-referrer"}


@blueprint.route("/accueil/patients/<int:patient_id>/attente", methods=["GET", "POST"])
@staff_required
def waitlist_for(patient_id: int):
    """Put a patient on the waiting list of one of the desk's sites."""
    from booking.waitlist.forms import WaitlistForm
    from booking.waitlist.services import join_waitlist

    actor = current_desk_user()
    patient, _ = read_patient(db.session, actor, patient_id, now())
    form = WaitlistForm()
    form.fill_sites(sites_visible_to(db.session, actor))
    if form.validate_on_submit():
        try:
            with unit_of_work():
                choices = form.choices()
                join_waitlist(db.session, actor, patient.id, choices.pop("site_id"), form.profession.data,
                              form.first_day.data, form.last_day.data, now(), **choices)

        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"{patient.full_name} est inscrit(e) sur la liste d’attente.", "success")
            return redirect(url_for("reception.home"))
    return render_template("public/waitlist.html", form=form, patients=[patient], patient_id=patient.id), \
        422 if form.errors or form.form_errors else 200
