"""Practitioner pages: agenda, availability rules, days off, calendar feed; the .ics downloads."""

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.appointments.ical import appointment_ics, new_calendar_token, practitioner_feed, revoke_calendar_token
from booking.appointments.queries import booked_appointments, read_appointment
from booking.appointments.services import cancel_appointment
from booking.auth.permissions import is_practitioner
from booking.clock import DEFAULT_TIME_ZONE, now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.formatting import day_param, local_time
from booking.forms import options
from booking.sites.models import Practitioner, Site
from booking.sites.services import accepted_sites, practitioner_of, set_delegation, set_needed_equipment
from booking.slots.forms import (
    SINGLE_SLOT_AUDIENCES,
    AudienceForm,
    BlockForm,
    CancelForm,
    EquipmentForm,
    FeedForm,
    RuleForm,
)
from booking.slots.models import AvailabilityRule
from booking.slots.rules import build_rrule
from booking.slots.services import (
    RuleInput,
    active_rules,
    block_period,
    delete_rule,
    last_video_url,
    practitioner_week,
    publish_rule,
    reserve_for_sas,
    unblock_period,
    update_rule,
)
from booking.text import row_id

blueprint = Blueprint("slots", __name__)


def _practitioner():
    if not current_user.is_authenticated or not is_practitioner(current_user):
        abort(403)
    return practitioner_of(db.session, current_user)


def _time_zone_of(practitioner) -> str:
    """The clock a practitioner's week is read on: their sites' (the first one's, where they differ)."""
    sites = accepted_sites(db.session, practitioner)
    return sites[0].time_zone if sites else DEFAULT_TIME_ZONE


def _monday(text: str | None, time_zone: str) -> date:
    today = local_time(now(), time_zone).date()
    day = day_param(text, today) or today
    return day - timedelta(days=day.weekday())


@blueprint.route("/praticien/agenda")
@login_required
def agenda():
    """Show the practitioner's week, by site, with booked, free and blocked slots."""
    practitioner = _practitioner()
    monday = _monday(request.args.get("semaine"), _time_zone_of(practitioner))
    week = practitioner_week(db.session, practitioner, monday)
    booked = [slot.id for days in week.values() for day in days for slot in day.slots if slot.booked_count]
    by_slot: dict[int, list] = {}
    for appointment in booked_appointments(db.session, booked, ("booked", "attended", "no_show")):
        by_slot.setdefault(appointment.slot_id, []).append(appointment)
    return render_template(
        "slots/agenda.html", practitioner=practitioner, monday=monday, week=week, by_slot=by_slot, now=now(),
        rules=active_rules(db.session, practitioner),
        links=[link for link in practitioner.site_links if link.status == "accepted"],
        equipment_form=EquipmentForm(needed_equipment=practitioner.needed_equipment),
        block_form=BlockForm(), unblock_form=BlockForm(prefix="rouvrir"), feed_form=FeedForm(),
        audience_form=AudienceForm(prefix="sas"),
        days=[monday + timedelta(days=i) for i in range(7)],
        timedelta=timedelta)


def _rule_form(practitioner, rule: AvailabilityRule | None) -> RuleForm:
    form = RuleForm()
    sites = accepted_sites(db.session, practitioner)
    form.site_id.choices = options((site.id, site.name) for site in sites)
    rooms = [(room.id, f"{site.name} — {room.name}") for site in sites for room in site.rooms]
    form.room_id.choices = options([(0, "Au choix : la première salle libre")] + rooms)
    if rule is not None:
        form.site_id.choices = options([(rule.site_id, rule.site.name)])
    fill_rule_form(form, rule, rule.site if rule is not None else sites[0] if sites else None, practitioner)
    return form


def fill_rule_form(form: RuleForm, rule: AvailabilityRule | None, site: Site | None,
                   practitioner: Practitioner) -> None:
    """On a first display, show the rule being edited, or start a new one today: at a téléconsultation cabin,
    remote, with the video link the practitioner gave last time."""
    if request.method != "GET":
        return
    if rule is None:
        form.start_date.data = local_time(now(), site.time_zone if site else DEFAULT_TIME_ZONE).date()
        if site is not None and site.kind == "teleconsultation":
            form.modality.data = "remote"
        form.video_url.data = last_video_url(db.session, practitioner)
        return
    choices = form.room_id.choices
    form.process(obj=rule)
    form.room_id.choices = choices
    form.room_id.data = rule.room_id or 0
    parts = dict(p.split("=", 1) for p in rule.rrule.split(";"))
    by_day = parts.get("BYDAY", "").split(",")
    form.days.data = [d[-2:] for d in by_day]
    if parts.get("FREQ") == "MONTHLY":
        form.frequency.data = "monthly"
        form.position.data = int(by_day[0][:-2] or 1)
    else:
        form.frequency.data = "biweekly" if parts.get("INTERVAL") == "2" else "weekly"


def rule_input(form: RuleForm) -> RuleInput:
    return RuleInput(
        site_id=form.site_id.data, rrule=build_rrule(form.frequency.data, form.days.data, form.position.data),
        start_date=form.start_date.data, until=form.until.data, count=form.count.data,
        start_time=form.start_time.data, end_time=form.end_time.data, slot_minutes=form.slot_minutes.data,
        buffer_minutes=form.buffer_minutes.data, capacity=form.capacity.data, modality=form.modality.data,
        video_url=(form.video_url.data or "").strip() or None, room_id=form.room_id.data or None,
        opens_days_ahead=form.opens_days_ahead.data, closes_hours_before=form.closes_hours_before.data,
        visibility=form.visibility.data, snp_release_hours=form.snp_release_hours.data)


@blueprint.route("/praticien/disponibilites/nouvelle", methods=["GET", "POST"])
@login_required
def new_rule():
    """Publish availability at a site that accepted the practitioner."""
    practitioner = _practitioner()
    form = _rule_form(practitioner, None)
    if not form.site_id.choices:
        flash("Aucun lieu de soins ne vous a encore accepté : attendez l’invitation d’une commune.", "info")
        return redirect(url_for("slots.agenda"))
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = publish_rule(db.session, current_user, practitioner.id, rule_input(form), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"Disponibilités publiées : {result.created} créneaux ouverts.", "success")
            return redirect(url_for("slots.agenda", semaine=result.rule.start_date.isoformat()))
    return render_template("slots/rule_form.html", form=form,
                           rule=None), 422 if form.errors or form.form_errors else 200


@blueprint.route("/praticien/disponibilites/<int:rule_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_rule(rule_id: int):
    """Change a rule; bookings stay and those outside it are listed."""
    practitioner = _practitioner()
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.practitioner_id != practitioner.id or not rule.active:
        abort(404)
    form = _rule_form(practitioner, rule)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = update_rule(db.session, current_user, rule.id, rule_input(form), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"Règle modifiée : {result.created} créneaux ajoutés, {result.removed} retirés.", "success")
            return _outside_page(result.booked_outside, "La règle a changé")
    return render_template("slots/rule_form.html", form=form,
                           rule=rule), 422 if form.errors or form.form_errors else 200


@blueprint.route("/praticien/disponibilites/<int:rule_id>/supprimer", methods=["POST"])
@login_required
@unit_of_work()
def remove_rule(rule_id: int):
    """Stop a rule; its bookings stay and are listed."""
    practitioner = _practitioner()
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.practitioner_id != practitioner.id:
        abort(404)
    CancelForm().validate_on_submit() or abort(400)
    result = delete_rule(db.session, current_user, rule.id, now())
    flash(f"Règle supprimée : {result.removed} créneaux libres retirés.", "success")
    return _outside_page(result.booked_outside, "La règle est supprimée")


def _outside_page(slots, title: str):
    appointments = booked_appointments(db.session, [slot.id for slot in slots])
    if not appointments:
        return redirect(url_for("slots.agenda"))
    return render_template("slots/booked_outside.html", appointments=appointments, title=title,
                           form=CancelForm())


@blueprint.route("/praticien/indisponibilites", methods=["POST"])
@login_required
@unit_of_work()
def block():
    """Block a day or a range; list the bookings it touches with a cancel-and-notify button."""
    practitioner = _practitioner()
    form = BlockForm()
    if not form.validate_on_submit():
        flash("Indiquez les dates de début et de fin de la période.", "error")
        return redirect(url_for("slots.agenda"))
    result = block_period(db.session, current_user, practitioner.id, form.first_day.data, form.last_day.data, now())
    flash(f"{result.blocked} créneaux libres bloqués.", "success")
    if not result.booked_slot_ids:
        return redirect(url_for("slots.agenda", semaine=form.first_day.data.isoformat()))
    return render_template("slots/booked_outside.html",
                           appointments=booked_appointments(db.session, result.booked_slot_ids),
                           title="Des patients ont rendez-vous pendant cette période", form=CancelForm())


@blueprint.route("/praticien/creneaux/sas", methods=["POST"])
@login_required
def reserve_for_the_sas():
    """Reserve single free slots of a day to the SAS (unscheduled care), to professionals, or open them again."""
    practitioner = _practitioner()
    form = AudienceForm(prefix="sas")
    if not form.validate_on_submit():
        flash("Indiquez le jour et les heures des créneaux.", "error")
        return redirect(url_for("slots.agenda"))
    try:
        with unit_of_work():
            changed = reserve_for_sas(db.session, current_user, practitioner.id, form.day.data, form.start_time.data,
                                      form.end_time.data, form.visibility.data, form.snp_release_hours.data, now())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("slots.agenda"))
    if changed:
        audience = SINGLE_SLOT_AUDIENCES[form.visibility.data]
        flash(f"{changed} créneau{'x' if changed > 1 else ''} libre{'s' if changed > 1 else ''} désormais pour : "
              f"{audience[0].lower()}{audience[1:]}.", "success")
    else:
        flash("Aucun créneau libre à ces heures ce jour-là.", "info")
    return redirect(url_for("slots.agenda", semaine=form.day.data.isoformat()))


@blueprint.route("/praticien/indisponibilites/rouvrir", methods=["POST"])
@login_required
def unblock():
    """Reopen days blocked by mistake (or no longer needed): their blocked slots are offered again."""
    practitioner = _practitioner()
    form = BlockForm(prefix="rouvrir")
    if not form.validate_on_submit():
        flash("Indiquez les dates de début et de fin des jours à rouvrir.", "error")
        return redirect(url_for("slots.agenda"))
    try:
        with unit_of_work():
            reopened = unblock_period(db.session, current_user, practitioner.id, form.first_day.data,
                                      form.last_day.data, now())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("slots.agenda"))
    flash(f"{reopened} créneau{'x' if reopened > 1 else ''} rouvert{'s' if reopened > 1 else ''} à la réservation."
          if reopened else "Aucun créneau bloqué sur ces jours.", "success" if reopened else "info")
    return redirect(url_for("slots.agenda", semaine=form.first_day.data.isoformat()))


@blueprint.route("/praticien/rendez-vous/annuler", methods=["POST"])
@login_required
@unit_of_work()
def cancel_many():
    """Cancel the chosen appointments and let the patients know."""
    _practitioner()
    if not CancelForm().validate_on_submit():
        abort(400)
    cancelled = 0
    for value in request.form.getlist("appointment_id"):
        appointment_id = row_id(value)
        if appointment_id:
            cancel_appointment(db.session, current_user, appointment_id, "practitioner", now())
            cancelled += 1
    flash(f"{cancelled} rendez-vous annulé{'s' if cancelled > 1 else ''} ; les patients seront prévenus.", "success")
    return redirect(url_for("slots.agenda"))


@blueprint.route("/praticien/equipement", methods=["POST"])
@login_required
def equipment():
    """Say what equipment I need at a site to consult remotely (referents see it when accepting me)."""
    practitioner = _practitioner()
    form = EquipmentForm()
    if form.validate_on_submit():
        with unit_of_work():
            set_needed_equipment(db.session, current_user, practitioner.id, form.needed_equipment.data or [])
        flash("Votre équipement nécessaire est enregistré.", "success")
    else:
        flash("Équipement inconnu.", "error")
    return redirect(url_for("slots.agenda"))


@blueprint.route("/praticien/delegation/<int:site_id>", methods=["POST"])
@login_required
def delegate(site_id: int):
    """Let the site's mairie manage my availability there, or take that back."""
    _practitioner()
    FeedForm().validate_on_submit() or abort(400)
    granted = request.form.get("accord") == "1"
    with unit_of_work():
        link = set_delegation(db.session, current_user, site_id, granted, now())
        name = link.site.name
    flash(f"La mairie {'peut désormais gérer' if granted else 'ne gère plus'} vos créneaux à {name}.", "success")
    return redirect(url_for("slots.agenda"))


@blueprint.route("/praticien/calendrier", methods=["POST"])
@login_required
@unit_of_work()
def new_feed():
    """Create (or replace) the private iCalendar feed URL."""
    practitioner = _practitioner()
    if not FeedForm().validate_on_submit():
        abort(400)
    token = new_calendar_token(db.session, current_user, practitioner.id)
    url = url_for("slots.feed", token=token, _external=True)
    return render_template("slots/feed.html", url=url, form=FeedForm())


@blueprint.route("/praticien/calendrier/revoquer", methods=["POST"])
@login_required
@unit_of_work()
def revoke_feed():
    """Turn the iCalendar feed off."""
    practitioner = _practitioner()
    if not FeedForm().validate_on_submit():
        abort(400)
    revoke_calendar_token(db.session, current_user, practitioner.id)
    flash("Le lien de calendrier est désactivé.", "success")
    return redirect(url_for("slots.agenda"))


@blueprint.route("/agenda/<token>.ics")
def feed(token: str):
    """Serve a practitioner's feed to calendar apps (the secret in the URL is the credential)."""
    body = practitioner_feed(db.session, token, now())
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.route("/rendez-vous/<int:appointment_id>/calendrier.ics")
@login_required
@unit_of_work()
def appointment_file(appointment_id: int):
    """Download one appointment as an .ics file."""
    appointment = read_appointment(db.session, current_user, appointment_id, now())
    response = Response(appointment_ics(appointment, now()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="rendez-vous-{appointment.reference}.ics"'
    return response
