"""Patient pages: the desk records a patient, staff read a record."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.auth.decorators import current_desk_user, staff_required
from booking.auth.permissions import Action, fetch, is_resident
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.geo.services import commune_label, resolve_commune
from booking.patients.forms import PatientForm, PostalAddressForm
from booking.patients.models import Patient
from booking.patients.services import (
    PatientInput,
    create_patient,
    find_patients,
    set_postal_address,
)

blueprint = Blueprint("patients", __name__)


@blueprint.route("/accueil/patients/nouveau", methods=["GET", "POST"])
@staff_required
def new_patient():
    """Register a patient with what the person has."""
    actor = current_desk_user()
    form = PatientForm()
    if request.method == "GET":
        form.last_name.data = request.args.get("nom", "")
        form.phone.data = request.args.get("telephone", "")
        try:
            form.birth_date.data = date.fromisoformat(request.args.get("naissance", ""))
        except ValueError:
            form.birth_date.data = None
        if actor.communes:
            form.commune.data = commune_label(actor.communes[0])  # with its postal code: homonyms exist
    lookalikes = []
    submitted = form.validate_on_submit()
    if submitted and not request.form.get("autre_personne"):
        # The same person twice splits their history: show who already exists before creating anyone.
        with unit_of_work():
            found = find_patients(db.session, actor, form.last_name.data, form.birth_date.data, now())
        lookalikes = found.exact + found.suggestions
    if submitted and not lookalikes:
        try:
            with unit_of_work():
                commune = resolve_commune(db.session, form.commune.data, departement_first=(
                    actor.communes[0].departement_code if actor.communes else None))
                patient = create_patient(db.session, actor, PatientInput(
                    form.first_name.data, form.last_name.data, form.birth_date.data, commune.insee, form.phone.data,
                    form.email.data, form.sms_consent.data, calls_refused=form.calls_refused.data,
                    caregiver_name=form.caregiver_name.data, caregiver_phone=form.caregiver_phone.data,
                    caregiver_consent=form.caregiver_consent.data, street=form.street.data,
                    street_complement=form.street_complement.data, postal_code=form.postal_code.data), now())

        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect(url_for("reception.book_for", patient_id=patient.id))
    status = 422 if form.errors or form.form_errors else 409 if lookalikes else 200
    return render_template("reception/new_patient.html", form=form, lookalikes=lookalikes), status




@blueprint.route("/personnes/<int:patient_id>/adresse", methods=["GET", "POST"])
@login_required
def postal_address(patient_id: int):
    """Where letters reach a person: the desk completes it, a resident gives it for their account's people."""
    patient = fetch(db.session, Patient, patient_id, "Patient introuvable.", current_user, Action.MANAGE)
    back = url_for("accounts.account") if is_resident(current_user) else url_for("appointments.patient_page",
                                                                                   patient_id=patient.id)
    form = PostalAddressForm(obj=patient)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                set_postal_address(db.session, current_user, patient.id, form.street.data,
                                   form.street_complement.data, form.postal_code.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Adresse enregistrée.", "success")
            return redirect(back)
    return render_template("public/postal_address.html", form=form, patient=patient, back=back), \
        422 if form.errors else 200
