"""Pages for residents: search, a site's week of free slots, sign-up, phone code, account, booking."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from booking.appointments.accounts import (
    SignupInput,
    account_overview,
    account_patients,
    add_relative,
    send_code,
    sign_up,
    verify_code,
)
from booking.appointments.forms import (
    BookForm,
    CodeForm,
    ConfirmForm,
    PatientForm,
    SearchForm,
    SignupForm,
    WaitlistForm,
)
from booking.appointments.messages import can_receive_sms
from booking.appointments.search import TIER_LABELS, search
from booking.appointments.services import BookingLimitReached, PatientInput, SlotUnavailable, book, cancel_appointment
from booking.appointments.waitlist import accept_offer, entry_from_offer, join_waitlist
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db, limiter
from booking.formatting import day_param
from booking.geo.services import resolve_commune
from booking.sites.forms import options
from booking.sites.models import Site
from booking.slots.models import Slot
from booking.slots.services import free_slots_between, next_free_slots

blueprint = Blueprint("public", __name__)


@blueprint.route("/recherche")
@limiter.limit("60 per minute")
@unit_of_work()
def search_page():
    """Find the places of care near a commune (works without JavaScript)."""
    form = SearchForm(request.args)
    result = None
    if request.args and form.validate():
        result = search(db.session, form.commune.data, now(), profession=form.profession.data or None,
                        kind=form.kind.data or None, from_day=form.depuis.data,
                        commune_insee=request.args.get("insee"))
    return render_template("public/search.html", form=form, result=result, tiers=TIER_LABELS)


def _week_start(text: str | None, zone: ZoneInfo) -> date:
    today = now().astimezone(zone).date()
    day = day_param(text, today) or today
    return max(day, today - timedelta(days=today.weekday())) - timedelta(days=day.weekday())


@blueprint.route("/lieux/<int:site_id>/creneaux")
def site_week(site_id: int):
    """Show a week of a site's free slots as a table (keyboard and screen-reader friendly)."""
    site = db.session.get(Site, site_id) or abort(404)
    zone = ZoneInfo(site.time_zone)
    monday = _week_start(request.args.get("semaine"), zone)
    start = datetime.combine(monday, time(), tzinfo=zone)
    slots = free_slots_between(db.session, site, start, start + timedelta(days=7), now())
    days = [monday + timedelta(days=i) for i in range(7)]
    by_day = {day: [s for s in slots if s.starts_at.astimezone(zone).date() == day] for day in days}
    return render_template("public/site_week.html", site=site, monday=monday, days=days, by_day=by_day,
                           timedelta=timedelta)


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
                return redirect(url_for("public.verify_phone", next=request.args.get("next")))
            flash("Compte créé.", "success")
            target = request.args.get("next")
            return redirect(target if _relative(target) else url_for("public.account"))
    return render_template("public/signup.html", form=form), 422 if form.errors or form.form_errors else 200


def _relative(target: str | None) -> bool:
    from booking.auth.views import safe_next

    return safe_next(target) is not None


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
        return redirect(url_for("public.verify_phone", next=request.args.get("next")))
    if form.validate_on_submit():
        refused = verify_code(db.session, current_user, form.code.data, now())
        if refused:
            form.code.errors.append(refused)
        else:
            flash("Votre numéro est vérifié.", "success")
            target = request.args.get("next")
            return redirect(target if _relative(target) else url_for("public.account"))
    return render_template("public/verify_phone.html", form=form), 422 if form.errors else 200


def _resident():
    if current_user.role != "resident":
        abort(403)
    return current_user._get_current_object()


@blueprint.route("/compte", methods=["GET", "POST"])
@login_required
def account():
    """The resident's patients (self and relatives), upcoming appointments and waiting lists."""
    user = _resident()
    form = PatientForm(prefix="proche")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                commune = resolve_commune(db.session, form.commune.data)
                add_relative(db.session, user, PatientInput(
                    form.first_name.data, form.last_name.data, form.birth_date.data, commune.insee, form.phone.data,
                    form.email.data, form.sms_consent.data, form.relationship_label.data), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Proche ajouté.", "success")
            return redirect(url_for("public.account"))
    patients = account_patients(db.session, user)
    appointments, waiting = account_overview(db.session, [p.id for p in patients], now())
    return render_template("public/account.html", patients=patients, appointments=appointments, waiting=waiting,
                           form=form, cancel_form=ConfirmForm(),
                           needs_code=bool(user.phone and not user.phone_verified_at))


@blueprint.route("/compte/rendez-vous/<int:appointment_id>/annuler", methods=["POST"])
@login_required
@unit_of_work()
def cancel_own(appointment_id: int):
    """Cancel one of the account's appointments."""
    _resident()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    cancel_appointment(db.session, current_user, appointment_id, "patient", now())
    flash("Rendez-vous annulé : la place est libérée pour quelqu’un d’autre.", "success")
    return redirect(url_for("public.account"))


@blueprint.route("/reserver/<int:slot_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def book_page(slot_id: int):
    """Choose who the appointment is for, add an optional reason, confirm."""
    slot = db.session.get(Slot, slot_id) or abort(404)
    if not current_user.is_authenticated:
        flash("Connectez-vous ou créez un compte pour réserver.", "info")
        return redirect(url_for("auth.login", next=request.path))
    if current_user.role != "resident":
        return redirect(url_for("reception.home"))
    if current_user.phone and not current_user.phone_verified_at:
        return redirect(url_for("public.verify_phone", next=request.path))
    patients = account_patients(db.session, current_user)
    form = BookForm()
    form.patient_id.choices = options((p.id, p.full_name + (f" ({p.relationship_label})" if p.relationship_label
                                                             else "")) for p in patients)
    if request.method == "GET" and patients:
        form.patient_id.data = patients[0].id
    alternatives = []
    if form.validate_on_submit():
        try:
            with unit_of_work():
                booked = book(db.session, current_user, slot_id=slot.id, patient_id=form.patient_id.data, now=now(),
                              reason=form.reason.data)
        except (SlotUnavailable, BookingLimitReached) as error:
            form.add_domain_error(error)
            if isinstance(error, SlotUnavailable):
                found = next_free_slots(db.session, slot.site, now(), per_practitioner=5)
                alternatives = found.get(slot.practitioner, [])
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect(url_for("public.confirmation", appointment_id=booked.appointment.id))
    status = 409 if alternatives or (form.form_errors and request.method == "POST") else 200
    return render_template("public/book.html", slot=slot, form=form, alternatives=alternatives), status


@blueprint.route("/rendez-vous/<int:appointment_id>/confirmation")
@login_required
@unit_of_work()
def confirmation(appointment_id: int):
    """Show the reference, the place and its instructions, and the .ics file."""
    from booking.appointments.queries import read_appointment

    appointment = read_appointment(db.session, current_user, appointment_id, now())
    return render_template("public/confirmation.html", appointment=appointment,
                           sms=can_receive_sms(appointment.patient))


@blueprint.route("/compte/attente", methods=["GET", "POST"])
@login_required
def waitlist():
    """Join the waiting list of a site."""
    user = _resident()
    form = WaitlistForm()
    form.site_id.choices = options((s.id, s.name) for s in db.session.scalars(db.select(Site).order_by(Site.name)))
    patients = account_patients(db.session, user)
    patient_id = request.values.get("patient_id", type=int) or (patients[0].id if patients else None)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                join_waitlist(db.session, user, patient_id, form.site_id.data, form.profession.data,
                              form.first_day.data, form.last_day.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Inscrit sur la liste d’attente : un SMS vous préviendra si une place se libère.", "success")
            return redirect(url_for("public.account"))
    return render_template("public/waitlist.html", form=form, patients=patients, patient_id=patient_id)


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


@blueprint.route("/rendez-vous/<int:appointment_id>/deplacer", methods=["GET", "POST"])
@login_required
def move(appointment_id: int):
    """Move an appointment to another free slot of the same site and profession, in one step."""
    from booking.appointments.queries import read_appointment
    from booking.appointments.services import reschedule

    appointment = read_appointment(db.session, current_user, appointment_id, now())
    slot = appointment.slot
    choices = next_free_slots(db.session, slot.site, now(), per_practitioner=8,
                              profession=slot.practitioner.profession)
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            with unit_of_work():
                moved = reschedule(db.session, current_user, appointment.id, request.form.get("slot_id", type=int) or 0,
                                   now())
        except DomainError as failure:
            error = failure.message
        else:
            flash(f"Rendez-vous déplacé. Nouvelle référence : {moved.reference}.", "success")
            if current_user.role == "resident":
                return redirect(url_for("public.confirmation", appointment_id=moved.id))
            return redirect(url_for("reception.booked", appointment_id=moved.id))
    return render_template("public/move.html", appointment=appointment, choices=choices, form=form,
                           error=error), 409 if error else 200
