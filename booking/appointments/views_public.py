"""Pages for residents: search, a site's week of free slots, sign-up, phone code, account, booking."""


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.appointments.forms import BookForm, ConfirmForm
from booking.appointments.messages import promise
from booking.appointments.queries import read_appointment
from booking.appointments.services import BookingLimitReached, SlotUnavailable, book, cancel_appointment
from booking.auth.decorators import current_resident
from booking.auth.permissions import is_resident
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db, limiter
from booking.forms import options
from booking.patients.accounts import account_patients
from booking.slots.models import Slot, why_not_bookable
from booking.slots.services import next_free_slots

blueprint = Blueprint("public", __name__)



@blueprint.route("/compte/rendez-vous/<int:appointment_id>/annuler", methods=["GET", "POST"])
@login_required
@unit_of_work()
def cancel_own(appointment_id: int):
    """Ask the resident to confirm, then cancel one of the account's appointments."""
    resident = current_resident()
    appointment = read_appointment(db.session, resident, appointment_id, now())
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("appointments/cancel_link.html", appointment=appointment, form=form,
                               keep_url=url_for("accounts.account"))
    if not form.validate_on_submit():
        abort(400)
    cancel_appointment(db.session, resident, appointment.id, "patient", now())
    flash("Rendez-vous annulé : la place est libérée pour quelqu’un d’autre.", "success")
    return redirect(url_for("accounts.account"))


@blueprint.route("/reserver/<int:slot_id>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def book_page(slot_id: int):
    """Choose who the appointment is for, add an optional reason, confirm."""
    slot = db.session.get(Slot, slot_id) or abort(404)
    if not current_user.is_authenticated:
        flash("Connectez-vous ou créez un compte pour réserver.", "info")
        return redirect(url_for("auth.login", next=request.path))
    if not is_resident(current_user):
        return redirect(url_for("reception.home"))
    if current_user.phone and not current_user.phone_verified_at:
        return redirect(url_for("accounts.verify_phone", next=request.path))
    patients = account_patients(db.session, current_user)
    form = BookForm()
    form.patient_id.choices = options((p.id, p.full_name + (f" ({p.relationship_label})" if p.relationship_label
                                                             else "")) for p in patients)
    if request.method == "GET" and patients:
        chosen = request.args.get("pour", type=int)  # back from adding a relative
        form.patient_id.data = chosen if chosen in {p.id for p in patients} else patients[0].id
    alternatives = []
    unavailable = why_not_bookable(slot, now()) if request.method == "GET" else None
    if unavailable:
        # A link from a feed, a widget or an old page: say at once why, and what else there is.
        found = next_free_slots(db.session, slot.site, now(), per_practitioner=5)
        return render_template("public/book.html", slot=slot, form=form, unavailable=unavailable,
                               alternatives=found.get(slot.practitioner, [])), 200
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
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    return render_template("public/confirmation.html", appointment=appointment, promise=promise(appointment))


@blueprint.route("/rendez-vous/<int:appointment_id>/deplacer", methods=["GET", "POST"])
@login_required
def move(appointment_id: int):
    """Move an appointment to another free slot of the same site and profession, in one step."""
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
            if is_resident(current_user):
                return redirect(url_for("public.confirmation", appointment_id=moved.id))
            return redirect(url_for("reception.booked", appointment_id=moved.id))
    return render_template("public/move.html", appointment=appointment, choices=choices, form=form,
                           error=error), 409 if error else 200
