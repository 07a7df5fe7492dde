"""The mairie's reception desk: find or create a patient, book for them, print, and the day sheet."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func

from booking.appointments.access import visible_appointments
from booking.appointments.forms import CancelReasonForm, ConfirmForm, DeskBookForm
from booking.appointments.messages import can_receive_sms
from booking.appointments.models import Appointment
from booking.appointments.queries import call_list, letters_to_post, read_appointment, read_patient
from booking.appointments.rules import attendance_correctable
from booking.appointments.services import (
    book,
    cancel_appointment,
    check_in,
    mark_attendance,
    record_desk_call,
    undo_attendance,
)
from booking.auth.decorators import current_desk_user, staff_required
from booking.clock import DEFAULT_TIME_ZONE, now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.formatting import day_param, local_time
from booking.geo.services import commune_label
from booking.geo.travel import position, trip
from booking.patients.forms import FindPatientForm
from booking.patients.services import find_patients, find_patients_by_phone
from booking.phones import looks_like_phone
from booking.sites.professions import PROFESSIONS
from booking.sites.services import get_site_for, sites_visible_to
from booking.slots.models import Slot
from booking.slots.services import next_free_slots
from booking.urls import safe_next
from booking.walkins.forms import WalkInForm
from booking.walkins.services import visits_on

blueprint = Blueprint("reception", __name__)
DESK_SLOTS_SHOWN = 6  # per practitioner; « Plus tard » pages on from the last one



@blueprint.route("/accueil")
@staff_required
@unit_of_work()
def home():
    """Find a patient by last name and birth date."""
    actor = current_desk_user()
    form = FindPatientForm(request.args)
    matches = None
    if request.args and form.validate():
        try:
            if looks_like_phone(form.last_name.data):
                matches = find_patients_by_phone(db.session, actor, form.last_name.data, now())
            else:
                matches = find_patients(db.session, actor, form.last_name.data, form.birth_date.data, now())
        except DomainError as error:
            form.last_name.errors = [error.message]
    return render_template("reception/home.html", form=form, matches=matches,
                           by_phone=looks_like_phone(form.last_name.data))


@blueprint.route("/accueil/patients/<int:patient_id>/reserver", methods=["GET", "POST"])
@staff_required
def book_for(patient_id: int):
    """Choose a slot at one of the desk's sites, record consent, book."""
    actor = current_desk_user()
    patient, appointments = read_patient(db.session, actor, patient_id, now())
    upcoming = sorted((a for a in appointments if a.slot.starts_at > now()), key=lambda a: a.slot.starts_at)
    profession = request.values.get("profession") if request.values.get("profession") in PROFESSIONS else None
    sites = [s for s in sites_visible_to(db.session, actor) if s.booking_open and not s.drop_in_only]
    after = _instant_param(request.values.get("apres"))
    offers = [(site, next_free_slots(db.session, site, now(), per_practitioner=DESK_SLOTS_SHOWN,
                                     profession=profession, start=after))
              for site in sites]
    offers, trips = _nearest_first(offers, patient.commune)
    form = DeskBookForm()
    if request.method == "GET":
        form.channel.data = session.get("desk_channel", "reception")  # the desk tends to work one way for a while
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                with unit_of_work():
                    if form.sms_consent.data and not patient.sms_consent and patient.phone_kind == "mobile":
                        patient.sms_consent = True
                    booked = book(db.session, actor, slot_id=int(form.slot_id.data), patient_id=patient.id,
                                  now=now(), channel=form.channel.data, reason=form.reason.data, consent=True)
            except DomainError as error:
                form.add_domain_error(error)
                status = error.http_status
            else:
                session["desk_channel"] = form.channel.data
                return redirect(url_for("reception.booked", appointment_id=booked.appointment.id))
        else:
            status = 400 if "csrf_token" in form.errors else 422
    return render_template("reception/book.html", patient=patient, offers=offers, profession=profession,
                           upcoming=upcoming, trips=trips,
                           professions=PROFESSIONS, form=form, after=after, per_practitioner=DESK_SLOTS_SHOWN), status


def _nearest_first(offers, commune):
    """The desk's sites by the estimated drive from the patient's commune, then the first free slot (as the
    public search ranks them); with each site's trip, or none when a position is unknown."""
    origin = position(commune.latitude, commune.longitude) if commune is not None else None
    trips = {site.id: trip(origin, site.position) for site, _ in offers}
    never = datetime.max.replace(tzinfo=ZoneInfo("UTC"))

    def rank(offer):
        site, by_practitioner = offer
        first = min((slots[0].starts_at for slots in by_practitioner.values() if slots), default=never)
        journey = trips[site.id]
        return (journey is None, round(journey.minutes) if journey else 0, first, site.name)

    return sorted(offers, key=rank), trips


def _instant_param(text: str | None) -> datetime | None:
    """The slot after which « Plus tard » pages on (UTC, to the minute); None when absent or unreadable."""
    try:
        moment = datetime.strptime(text or "", "%Y%m%dT%H%M").replace(tzinfo=ZoneInfo("UTC"))
    except ValueError:
        return None
    return moment + timedelta(seconds=1) if moment > now() else None


@blueprint.route("/accueil/appels")
@staff_required
@unit_of_work()
def calls():
    """Tomorrow's and the day after's patients no SMS or call reminds, with the numbers to dial."""
    actor = current_desk_user()
    sites = [s for s in sites_visible_to(db.session, actor) if not s.drop_in_only]
    return render_template("reception/calls.html", to_call=call_list(db.session, actor, sites, now()),
                           form=ConfirmForm())


@blueprint.route("/accueil/appels/<int:appointment_id>", methods=["POST"])
@staff_required
def called(appointment_id: int):
    """Tick « prévenu » (or « injoignable ») on the call list."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        record_desk_call(db.session, current_desk_user(), appointment_id, request.form.get("outcome", ""), now())
    return redirect(url_for("reception.calls"))


@blueprint.route("/accueil/courriers")
@staff_required
@unit_of_work()
def letters():
    """Convocations to post, for patients no phone reaches, over a period (printed in one go)."""
    actor = current_desk_user()
    sites = sites_visible_to(db.session, actor)
    zone = ZoneInfo(sites[0].time_zone if sites else DEFAULT_TIME_ZONE)
    today = now().astimezone(zone).date()
    first = day_param(request.args.get("du"), today) or today + timedelta(days=1)
    last = day_param(request.args.get("au"), today) or first + timedelta(days=13)
    if last < first:
        first, last = last, first
    appointments = letters_to_post(db.session, actor, sites, datetime.combine(first, time(), tzinfo=zone),
                                   datetime.combine(last + timedelta(days=1), time(), tzinfo=zone))
    return render_template("reception/letters.html", first=first, last=last, paper="A4",
                           to_post=[a for a in appointments if a.patient.postal_address],
                           no_address=[a for a in appointments if not a.patient.postal_address])


@blueprint.route("/accueil/rendez-vous/<int:appointment_id>")
@staff_required
@unit_of_work()
def booked(appointment_id: int):
    """After booking at the desk: the reference, whether an SMS will follow, the convocation to print."""
    appointment = read_appointment(db.session, current_desk_user(), appointment_id, now())
    return render_template("reception/booked.html", appointment=appointment, sms=can_receive_sms(appointment.patient))


@blueprint.route("/rendez-vous/<int:appointment_id>/convocation")
@staff_required
@unit_of_work()
def convocation(appointment_id: int):
    """A printable convocation in large type (A4 or A5)."""
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    paper = "A5" if request.args.get("format", "").upper() == "A5" else "A4"
    return render_template("reception/convocation.html", appointment=appointment, paper=paper)


@blueprint.route("/gestion/sites/<int:site_id>/journee")
@staff_required
def day_sheet(site_id: int):
    """Today's appointments at a site, by time, with check-in and attendance buttons; printable."""
    site = get_site_for(db.session, current_user, site_id)
    zone = ZoneInfo(site.time_zone)
    today = now().astimezone(zone).date()
    day = day_param(request.args.get("jour"), today) or today
    start = datetime.combine(day, time(), tzinfo=zone)
    of_the_day = (Slot.site_id == site.id, Slot.starts_at >= start, Slot.starts_at < start + timedelta(days=1))
    # Cancelled ones stay on the sheet, marked so: the person may come all the same, and the desk must know why.
    appointments = list(db.session.scalars(
        db.select(Appointment).join(Slot).where(*of_the_day, visible_appointments(current_user))
        .order_by(Slot.starts_at, Appointment.id)))
    # The others of the day are counted, never shown: the sheet must not say « aucun » when there are some.
    booked = db.session.scalar(db.select(func.count(Appointment.id)).join(Slot)
                               .where(*of_the_day, Appointment.status != "cancelled"))
    shown = sum(appointment.status != "cancelled" for appointment in appointments)
    moment = now()
    walk_in_form = WalkInForm(formdata=None, at=local_time(now(), site.time_zone).time().replace(second=0,
                                                                                            microsecond=0),
                              commune=commune_label(site.commune))
    return render_template("reception/day_sheet.html", site=site, day=day, appointments=appointments,
                           today_at_site=today, visits=visits_on(db.session, site, day), walk_in_form=walk_in_form,
                           now=moment, form=ConfirmForm(), not_shown=booked - shown, timedelta=timedelta,
                           correctable=lambda appointment: attendance_correctable(
                               appointment.status, appointment.slot.starts_at, site.time_zone, moment))


def _back(appointment: Appointment):
    target = request.form.get("back", "")
    return redirect(safe_next(target) or url_for("reception.day_sheet", site_id=appointment.slot.site_id))


@blueprint.route("/rendez-vous/<int:appointment_id>/arrivee", methods=["POST"])
@staff_required
@unit_of_work()
def arrived(appointment_id: int):
    """Check the patient in."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    appointment = check_in(db.session, current_user, appointment_id, now())
    flash(f"{appointment.patient.full_name} est arrivé(e).", "success")
    return _back(appointment)


@blueprint.route("/rendez-vous/<int:appointment_id>/presence", methods=["POST"])
@staff_required
@unit_of_work()
def attendance(appointment_id: int):
    """Mark attended or no-show after the slot."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    appointment = mark_attendance(db.session, current_user, appointment_id, request.form.get("status", ""), now())
    flash("Présence enregistrée.", "success")
    return _back(appointment)


@blueprint.route("/rendez-vous/<int:appointment_id>/presence/corriger", methods=["POST"])
@staff_required
@unit_of_work()
def undo(appointment_id: int):
    """Take back an arrival or a presence noted by mistake, the same day."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    appointment = undo_attendance(db.session, current_user, appointment_id, now())
    flash(f"Correction enregistrée pour {appointment.patient.full_name}.", "success")
    return _back(appointment)


@blueprint.route("/rendez-vous/<int:appointment_id>/annuler", methods=["GET", "POST"])
@staff_required
@unit_of_work()
def cancel_by_staff(appointment_id: int):
    """Cancel with a reason category; the patient is told."""
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    form = CancelReasonForm()
    if form.validate_on_submit():
        cancel_appointment(db.session, current_user, appointment.id, form.reason.data, now())
        flash("Rendez-vous annulé ; le patient est prévenu s’il reçoit les SMS.", "success")
        return redirect(url_for("reception.day_sheet", site_id=appointment.slot.site_id))
    return render_template("reception/cancel.html", appointment=appointment, form=form)


