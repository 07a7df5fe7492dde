"""Staff pages of sites: workspace, site page, registration, practitioners, invitations."""

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from booking.auth.decorators import staff_required
from booking.auth.permissions import Action, can, is_admin, is_epci_admin, manages_sites
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import Conflict, DomainError
from booking.extensions import db
from booking.forms import options
from booking.geo.models import Commune, Epci
from booking.geo.rules import DEFAULT_TIME_ZONE, DEPARTEMENT_TIME_ZONES, TIME_ZONE_LABELS
from booking.sites.forms import InviteForm, PractitionerProfileForm, ProfessionForm, SiteForm
from booking.sites.models import Site
from booking.sites.professions import add_profession, all_professions
from booking.sites.services import (
    PractitionerInput,
    SiteInput,
    accept_invitation,
    create_site,
    find_invitation,
    find_practitioners,
    get_site_for,
    invite_practitioner,
    link_practitioner,
    missing_equipment,
    practitioners_at,
    revoke_practitioner,
    update_site,
)

blueprint = Blueprint("sites", __name__)


@blueprint.route("/gestion/sites/<int:site_id>")
@staff_required
def site_page(site_id: int):
    """Show a site to its staff; its managers also see and invite its practitioners."""
    site = get_site_for(db.session, current_user, site_id)
    manages = can(current_user, Action.MANAGE, site)
    query = request.args.get("praticien", "").strip()[:100]
    found = [(p, missing_equipment(site, p)) for p in find_practitioners(db.session, query)] \
        if manages and query else []
    return render_template("sites/site.html", site=site, manages=manages, links=practitioners_at(db.session, site),
                           invite_form=InviteForm(), query=query, found=found,
                           remote_rules=site.remote_rules)


def _own_epci() -> Epci | None:
    """The EPCI an EPCI administrator acts for: its member communes are where its sites stand."""
    return db.session.get(Epci, current_user.epci_siren) if is_epci_admin(current_user) and \
        current_user.epci_siren else None


def _candidate_communes(site: Site | None) -> list[Commune]:
    codes = set(current_user.commune_codes)
    if (epci := _own_epci()) is not None:
        codes |= {member.insee for member in epci.members}
    if is_admin(current_user):
        codes |= {request.args.get("commune", "").upper()} if request.args.get("commune") else set()
        if site is not None:
            codes.add(site.commune_insee)
    communes = [c for c in (db.session.get(Commune, code) for code in codes) if c is not None]
    members = {m for commune in communes for epci in commune.epcis for m in epci.members}
    return sorted(set(communes) | members, key=lambda c: c.name)


def _commune_option(commune: Commune) -> str:
    codes = [p.code for p in commune.postal_codes]
    return f"{commune.name} ({codes[0]})" if codes else commune.name


def _fill_choices(form: SiteForm, site: Site | None) -> list[Commune]:
    candidates = _candidate_communes(site)
    own = [c for c in candidates if c.insee in current_user.commune_codes or is_admin(current_user)]
    own_epci = _own_epci()
    epcis = [own_epci] if own_epci is not None else sorted({epci for commune in own for epci in commune.epcis},
                                                           key=lambda e: e.name)
    form.commune_insee.choices = options((c.insee, _commune_option(c)) for c in candidates)
    # The page fills the postal code when the commune changes (static/js/site-form.js); the server does too.
    form.commune_insee.render_kw = {"data-postal-codes": json.dumps(
        {c.insee: c.postal_codes[0].code for c in candidates if c.postal_codes})}
    communes_run = [] if own_epci is not None else [("commune", "La commune où se trouve le lieu")]
    form.operator.choices = options(communes_run + [(f"epci:{e.siren}", e.name) for e in epcis])
    form.served_communes.choices = options((c.insee, c.name) for c in candidates)
    zones = sorted(set(DEPARTEMENT_TIME_ZONES.values()) | {DEFAULT_TIME_ZONE})
    form.time_zone.choices = options([("", "Selon le département")]
                                     + [(zone, TIME_ZONE_LABELS.get(zone, zone)) for zone in zones])
    return candidates


def _site_input(form: SiteForm) -> SiteInput:
    operator = form.operator.data or "commune"
    return SiteInput(
        kind=form.kind.data, name=form.name.data, sms_label=form.sms_label.data, address=form.address.data,
        postal_code=form.postal_code.data,
        commune_insee=form.commune_insee.data,
        operator_epci_siren=operator.split(":", 1)[1] if operator.startswith("epci:") else None,
        served_communes=form.served_communes.data or [], time_zone=form.time_zone.data or None,
        latitude=form.latitude.data, longitude=form.longitude.data,
        phone=form.phone.data, contact_email=form.contact_email.data, opening_hours=form.opening_hours.data,
        instructions=form.instructions.data, equipment=form.equipment.data or [],
        accessibility=form.accessibility.data or [], rooms=(form.rooms.data or "").splitlines(),
        embed_origins=(form.embed_origins.data or "").splitlines(),
        members_may_edit=form.members_may_edit.data if current_user.role in ("epci_admin", "admin") else None,
        epci_runs_desk=form.epci_runs_desk.data if is_admin(current_user) else None,
        booking_open=form.booking_open.data, drop_in_only=form.drop_in_only.data,
        max_future_bookings=form.max_future_bookings.data, reminder_hours_before=form.reminder_hours_before.data,
        second_reminder_hours=form.second_reminder_hours.data,
    )


def _site_form_page(site: Site | None):
    if not manages_sites(current_user):
        abort(403)
    form = SiteForm(obj=None if request.method == "POST" or site is None else site)
    if site is not None and request.method == "GET":
        form.operator.data = f"epci:{site.operator_epci_siren}" if site.operator_epci_siren else "commune"
        form.served_communes.data = [c.insee for c in site.served_communes]
        form.rooms.data = "\n".join(room.name for room in site.rooms)
        form.embed_origins.data = "\n".join(site.embed_origins or [])
    candidates = _fill_choices(form, site)
    if not candidates:
        return render_template("sites/pick_commune.html")
    if site is None and request.method == "GET":
        # A new site stands, most of the time, in the referent's own commune.
        home = next((c for c in candidates if c.insee in current_user.commune_codes), candidates[0])
        form.commune_insee.data = home.insee
        form.postal_code.data = home.postal_codes[0].code if home.postal_codes else ""
    if form.validate_on_submit():
        try:
            with unit_of_work():
                data = _site_input(form)
                saved = (create_site(db.session, current_user, data) if site is None
                         else update_site(db.session, current_user, site.id, data))
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Le lieu de soins est enregistré.", "success")
            return redirect(url_for("sites.site_page", site_id=saved.id))
    failed = bool(form.errors or form.form_errors)
    return render_template("sites/site_form.html", form=form, site=site), 422 if failed else 200


@blueprint.route("/gestion/sites/nouveau", methods=["GET", "POST"])
@staff_required
def new_site():
    """Register a new site."""
    return _site_form_page(None)


@blueprint.route("/gestion/sites/<int:site_id>/modifier", methods=["GET", "POST"])
@staff_required
def edit_site(site_id: int):
    """Edit a site."""
    return _site_form_page(get_site_for(db.session, current_user, site_id, Action.MANAGE))


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/inviter", methods=["POST"])
@staff_required
@unit_of_work()
def invite(site_id: int):
    """Invite a practitioner by email."""
    form = InviteForm()
    if not form.validate_on_submit():
        flash("Indiquez une adresse e-mail valide.", "error")
    else:
        accept_url = url_for("sites.accept", token="TOKEN", _external=True).replace("TOKEN", "{token}")
        invite_practitioner(db.session, current_user, site_id, form.email.data, now(), accept_url)
        flash(f"Invitation envoyée à {form.email.data}.", "success")
    return redirect(url_for("sites.site_page", site_id=site_id))


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/accepter", methods=["POST"])
@staff_required
@unit_of_work()
def link(site_id: int, practitioner_id: int):
    """Accept an existing practitioner at the site (after saying what equipment they need and the site lacks)."""
    try:
        link_practitioner(db.session, current_user, site_id, practitioner_id, now(),
                          despite_missing_equipment=request.form.get("malgre_equipement") == "1")
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash("Le praticien peut désormais publier ses disponibilités ici.", "success")
    return redirect(url_for("sites.site_page", site_id=site_id))


@blueprint.route("/gestion/sites/<int:site_id>/praticiens/<int:practitioner_id>/retirer", methods=["POST"])
@staff_required
@unit_of_work()
def revoke(site_id: int, practitioner_id: int):
    """Stop a practitioner from publishing at the site."""
    revoke_practitioner(db.session, current_user, site_id, practitioner_id)
    flash("Le praticien ne peut plus publier ici ; ses rendez-vous déjà pris restent.", "success")
    return redirect(url_for("sites.site_page", site_id=site_id))


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str):
    """Accept an invitation: as the signed-in practitioner, or by creating the account."""
    invitation = find_invitation(db.session, token, now())
    signed_in = current_user.is_authenticated
    form = PractitionerProfileForm()
    if request.method == "POST" and (signed_in or form.validate_on_submit()):
        try:
            with unit_of_work():
                if signed_in:
                    user = accept_invitation(db.session, token, now(), user=current_user._get_current_object())
                else:
                    user = accept_invitation(db.session, token, now(), password=form.password.data,
                                             practitioner_data=PractitionerInput(
                                                 first_name=form.first_name.data, last_name=form.last_name.data,
                                                 profession=form.profession.data, rpps=form.rpps.data,
                                                 specialty=form.specialty.data,
                                                 consults_remotely=form.consults_remotely.data,
                                                 needed_equipment=form.needed_equipment.data or []))
        except DomainError as error:
            flash(error.message, "error")
        else:
            login_user(user)
            flash(f"Bienvenue : vous pouvez publier vos disponibilités à {invitation.site.name}.", "success")
            return redirect(url_for("slots.agenda"))
    return render_template("sites/invitation.html", invitation=invitation, form=form, signed_in=signed_in)


@blueprint.route("/admin/professions", methods=["GET", "POST"])
@staff_required
def professions():
    """The list of professions, which the platform's administrator extends."""
    if not is_admin(current_user):
        abort(403)
    form = ProfessionForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                added = add_profession(db.session, current_user, form.code.data, form.label.data, now())
                label = added.label
        except DomainError as error:
            form.add_domain_error(error)
            status = error.http_status
        else:
            flash(f"Profession ajoutée : {label}. Les praticiens peuvent la choisir dès maintenant.", "success")
            return redirect(url_for("sites.professions"))
    return render_template("sites/professions.html", form=form, professions=all_professions(db.session)), \
        status if status != 200 else 422 if form.errors else 200
