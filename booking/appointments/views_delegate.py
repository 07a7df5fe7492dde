"""The mairie runs a visiting practitioner's days at its site, when the practitioner has allowed it."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from booking.appointments.queries import booked_appointments
from booking.appointments.views_practitioner import fill_rule_form, rule_input
from booking.auth.decorators import staff_required
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.forms import options
from booking.sites.models import Practitioner
from booking.sites.services import delegation, get_site_for
from booking.slots.forms import BlockForm, CancelForm, RuleForm
from booking.slots.models import AvailabilityRule
from booking.slots.services import active_rules, block_period, delete_rule, publish_rule, update_rule

blueprint = Blueprint("delegate", __name__)


def _delegated(site_id: int, practitioner_id: int):
    site = get_site_for(db.session, current_user, site_id)
    practitioner = db.session.get(Practitioner, practitioner_id) or abort(404)
    if delegation(db.session, current_user, practitioner, site) is None:
        abort(403)
    return site, practitioner


def _form(site, practitioner, rule: AvailabilityRule | None) -> RuleForm:
    form = RuleForm()
    form.site_id.choices = options([(site.id, site.name)])
    form.room_id.choices = options([(0, "Au choix : la première salle libre")]
                                   + [(room.id, f"{site.name} — {room.name}") for room in site.rooms])
    fill_rule_form(form, rule, site, practitioner)
    return form


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/disponibilites",
                 methods=["GET", "POST"])
@staff_required
def rules(site_id: int, practitioner_id: int):
    """The practitioner's rhythms at this site, and the form that publishes one more."""
    site, practitioner = _delegated(site_id, practitioner_id)
    form = _form(site, practitioner, None)
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = publish_rule(db.session, current_user, practitioner.id, rule_input(form), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"Disponibilités publiées : {result.created} créneaux ouverts.", "success")
            return redirect(url_for("delegate.rules", site_id=site.id, practitioner_id=practitioner.id))
    if form.is_submitted():
        status = 422
    here = [rule for rule in active_rules(db.session, practitioner) if rule.site_id == site.id]
    return render_template("slots/delegate.html", site=site, practitioner=practitioner, rules=here, form=form,
                           block_form=BlockForm(), cancel_form=CancelForm()), status


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/disponibilites/<int:rule_id>",
                 methods=["GET", "POST"])
@staff_required
def edit(site_id: int, practitioner_id: int, rule_id: int):
    """Change one of the practitioner's rhythms here; bookings stay."""
    site, practitioner = _delegated(site_id, practitioner_id)
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.practitioner_id != practitioner.id or rule.site_id != site.id or not rule.active:
        abort(404)
    form = _form(site, practitioner, rule)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = update_rule(db.session, current_user, rule.id, rule_input(form), now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            kept = len(result.booked_outside)
            flash(f"Règle modifiée : {result.created} créneaux ajoutés, {result.removed} retirés"
                  f"{f', {kept} rendez-vous hors de la règle maintenus' if kept else ''}.", "success")
            return redirect(url_for("delegate.rules", site_id=site.id, practitioner_id=practitioner.id))
    return render_template("slots/rule_form.html", form=form, rule=rule, for_practitioner=practitioner), \
        422 if form.is_submitted() else 200


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/disponibilites/<int:rule_id>"
                 "/supprimer", methods=["POST"])
@staff_required
def remove(site_id: int, practitioner_id: int, rule_id: int):
    """Stop one of the practitioner's rhythms here; bookings stay."""
    site, practitioner = _delegated(site_id, practitioner_id)
    CancelForm().validate_on_submit() or abort(400)
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.practitioner_id != practitioner.id or rule.site_id != site.id:
        abort(404)
    with unit_of_work():
        result = delete_rule(db.session, current_user, rule.id, now())
    flash(f"Règle supprimée : {result.removed} créneaux libres retirés.", "success")
    return redirect(url_for("delegate.rules", site_id=site.id, practitioner_id=practitioner.id))


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/indisponibilites", methods=["POST"])
@staff_required
def block(site_id: int, practitioner_id: int):
    """Block the practitioner's days here (a day off they phoned in); list the bookings it touches."""
    site, practitioner = _delegated(site_id, practitioner_id)
    form = BlockForm()
    if not form.validate_on_submit():
        flash("Indiquez les dates de début et de fin de la période.", "error")
        return redirect(url_for("delegate.rules", site_id=site.id, practitioner_id=practitioner.id))
    with unit_of_work():
        result = block_period(db.session, current_user, practitioner.id, form.first_day.data, form.last_day.data,
                              now(), site_id=site.id)
        booked = booked_appointments(db.session, result.booked_slot_ids)
    flash(f"{result.blocked} créneaux libres bloqués.", "success")
    if booked:
        flash(f"{len(booked)} rendez-vous restent pris ces jours-là : annulez-les depuis la journée du lieu si "
              f"{practitioner.full_name} ne peut pas les assurer.", "info")
    return redirect(url_for("delegate.rules", site_id=site.id, practitioner_id=practitioner.id))
