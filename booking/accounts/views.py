"""Resident account pages: sign up, the phone code, the account and its relatives."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from booking.accounts.forms import CodeForm, SignupForm
from booking.accounts.services import (
    SignupInput,
    account_overview,
    add_relative,
    reminders_to,
    send_code,
    sign_up,
    verify_code,
)
from booking.auth.decorators import current_resident
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db, limiter
from booking.geo.services import resolve_commune
from booking.patients.accounts import account_patients, holder_record_id, home_departement
from booking.patients.forms import RelativeForm
from booking.patients.services import PatientInput
from booking.urls import safe_next
from booking.waitlist.forms import WEEKDAYS

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/inscription", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    """Create a resident account."""
    form = SignupForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                commune = resolve_commune(db.session, form.commune.data)
                user = sign_up(db.session, SignupInput(
                    form.first_name.data, form.last_name.data, form.birth_date.data, commune.insee, form.password.data,
                    email=form.email.data, phone=form.phone.data, sms_consent=form.sms_consent.data), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            login_user(user)
            if user.phone:
                flash("Compte créé. Saisissez le code reçu par SMS pour vérifier votre numéro.", "success")
                return redirect(url_for("accounts.verify_phone", next=request.args.get("next")))
            flash("Compte créé.", "success")
            target = request.args.get("next")
            return redirect(safe_next(target) or url_for("accounts.account"))
    return render_template("public/signup.html", form=form), 422 if form.errors or form.form_errors else 200


@blueprint.route("/compte/telephone", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"])
@unit_of_work()
def verify_phone():
    """Type the 6-digit code sent by SMS, or ask for another one."""
    form = CodeForm()
    if request.method == "POST" and request.form.get("action") == "resend":
        try:
            send_code(db.session, current_user, now())
            flash("Un nouveau code vous a été envoyé.", "success")
        except DomainError as error:
            flash(error.message, "error")
        return redirect(url_for("accounts.verify_phone", next=request.args.get("next")))
    if form.validate_on_submit():
        refused = verify_code(db.session, current_user, form.code.data, now())
        if refused:
            form.code.errors.append(refused)
        else:
            flash("Votre numéro est vérifié.", "success")
            target = request.args.get("next")
            return redirect(safe_next(target) or url_for("accounts.account"))
    return render_template("public/verify_phone.html", form=form), 422 if form.errors else 200


@blueprint.route("/compte", methods=["GET", "POST"])
@login_required
def account():
    """The resident's patients (self and relatives), upcoming appointments and waiting lists."""
    user = current_resident()
    form = RelativeForm(prefix="proche")
    if form.validate_on_submit() and _add_relative(user, form):
        return redirect(url_for("accounts.account"))
    patients = account_patients(db.session, user)
    appointments, waiting = account_overview(db.session, [p.id for p in patients], now())
    return render_template("public/account.html", patients=patients, appointments=appointments, waiting=waiting,
                           weekdays=WEEKDAYS,
                           form=form, needs_code=bool(user.phone and not user.phone_verified_at),
                           holder_mobile=_holder_mobile(user), reminders_to=reminders_to,
                           holder_id=holder_record_id(patients)), \
        422 if form.errors else 200


@blueprint.route("/compte/proches/nouveau", methods=["GET", "POST"])
@login_required
def new_relative():
    """Add a relative on its own page, from the booking page: then back to the slot, the relative chosen."""
    user = current_resident()
    form = RelativeForm(prefix="proche")
    back = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        relative = _add_relative(user, form)
        if relative:
            return redirect(f"{back}?pour={relative.id}" if back else url_for("accounts.account"))
    return render_template("public/relative.html", form=form, back=back,
                           holder_mobile=_holder_mobile(user)), 422 if form.errors else 200


def _holder_mobile(user) -> str | None:
    return user.phone if user.phone and user.phone_verified_at else None


def _add_relative(user, form: RelativeForm):
    """Add the relative the form describes and say where its reminders go; None (errors on the form) if refused."""
    try:
        with unit_of_work():
            commune = resolve_commune(db.session, form.commune.data,
                                      departement_first=home_departement(db.session, user))
            relative = add_relative(db.session, user, PatientInput(
                form.first_name.data, form.last_name.data, form.birth_date.data, commune.insee, form.phone.data,
                None, form.sms_consent.data, form.relationship_label.data), now())
    except DomainError as error:
        form.add_domain_error(error)
        return None
    flash(f"{relative.full_name} est ajouté(e) à votre compte. {reminders_to(relative, user)}", "success")
    return relative
