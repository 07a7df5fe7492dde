"""A site's calendar, for its staff: opening hours, closures and public holidays."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.appointments.forms import ConfirmForm
from booking.appointments.queries import booked_on_closed_days
from booking.auth.decorators import staff_required
from booking.auth.permissions import Action, can, only_visible, works_at_desk
from booking.clock import now
from booking.closures.services import (
    booked_during,
    cancel_for_closure,
    close_on_holiday_again,
    close_site,
    get_closure,
    open_on_holiday,
    reopen,
    site_closures,
)
from booking.database import unit_of_work
from booking.errors import DomainError
from booking.extensions import db
from booking.forms import options
from booking.sites.calendar import hours_text, parse_day_ranges, public_holidays, set_opening_hours
from booking.sites.forms import ClosureForm, HoursForm, RotaForm
from booking.sites.models import HolidayOpening
from booking.sites.services import get_site_for
from booking.slots.rota import put_on_duty, refresh_assistant_flags, take_off_duty, upcoming_duties

blueprint = Blueprint("site_calendar", __name__)
HOLIDAYS_SHOWN_DAYS = 366


def _today(site) -> date:
    return now().astimezone(ZoneInfo(site.time_zone)).date()


def _confirmed_day(text: str) -> date:
    """The day a confirmation button names in its URL (the CSRF token checked)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


def _slots(count: int, adjective: str) -> str:
    """« 1 créneau libre retiré », « 3 créneaux libres retirés »."""
    plural = "s" if count > 1 else ""
    words = ' '.join(word if word.endswith('s') else word + plural for word in adjective.split())
    return f"{count} créneau{'x' if count > 1 else ''} {words}"


def _room_choices(site):
    return options([("", "Tout le lieu")] + [(str(room.id), f"Seulement la salle « {room.name} »")
                                             for room in site.rooms])


def _page(site, hours_form: HoursForm | None = None, closure_form: ClosureForm | None = None, status: int = 200,
          rota_form: RotaForm | None = None):
    today = _today(site)
    if hours_form is None:
        hours_form = HoursForm(schedule_mode=site.schedule_mode, agents_may_close=site.agents_may_close,
                               requires_assistant=site.requires_assistant)
        for weekday, name in enumerate(HoursForm.DAYS):
            hours_form[name].data = hours_text(site.hours, weekday)
    closure_form = closure_form or ClosureForm()
    closure_form.room_id.choices = _room_choices(site)
    opened = {o.day for o in db.session.scalars(db.select(HolidayOpening).where(HolidayOpening.site_id == site.id))}
    holidays = public_holidays(site.commune.departement_code, today, today + timedelta(days=HOLIDAYS_SHOWN_DAYS))
    return render_template(
        "sites/calendar.html", site=site, hours_form=hours_form, closure_form=closure_form,
        closures=site_closures(db.session, site, today), holidays=sorted(holidays.items()), opened=opened,
        **_booked_closed(site),
        duties=upcoming_duties(db.session, site, today), rota_form=rota_form or RotaForm(),
        keeps_rota=works_at_desk(current_user),
        manages=can(current_user, Action.MANAGE, site), closes=can(current_user, Action.CLOSE, site),
        confirm=ConfirmForm()), status


def _booked_closed(site) -> dict:
    booked = booked_on_closed_days(db.session, [site], now())
    return {"booked_closed": only_visible(current_user, booked), "booked_closed_count": len(booked)}


@blueprint.route("/gestion/sites/<int:site_id>/calendrier")
@staff_required
@unit_of_work()
def calendar(site_id: int):
    """Opening hours, closures and public holidays of a site."""
    return _page(get_site_for(db.session, current_user, site_id))


@blueprint.route("/gestion/sites/<int:site_id>/horaires", methods=["POST"])
@staff_required
def save_hours(site_id: int):
    """Replace the opening hours (the site's managers)."""
    site = get_site_for(db.session, current_user, site_id)
    form = HoursForm()
    if form.validate_on_submit():
        try:
            ranges = {}
            for weekday, name in enumerate(HoursForm.DAYS):
                try:
                    ranges[weekday] = parse_day_ranges(form[name].data, form[name].label.text)
                except DomainError as error:
                    error.field = name
                    raise
            with unit_of_work():
                set_opening_hours(db.session, current_user, site.id, form.schedule_mode.data,
                                  form.agents_may_close.data, ranges, form.requires_assistant.data)
                refresh_assistant_flags(db.session, site, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash("Les horaires sont enregistrés.", "success")
            return redirect(url_for("site_calendar.calendar", site_id=site.id))
    return _page(site, hours_form=form, status=422)


@blueprint.route("/gestion/sites/<int:site_id>/fermetures", methods=["POST"])
@staff_required
def close(site_id: int):
    """Close the site (or a room) for a day or a period; then show who was booked those days."""
    site = get_site_for(db.session, current_user, site_id)
    form = ClosureForm()
    form.room_id.choices = _room_choices(site)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                result = close_site(db.session, current_user, site.id, form.first_day.data, form.last_day.data,
                                    form.reason.data, now(), note=form.note.data,
                                    room_id=int(form.room_id.data) if form.room_id.data else None)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"Fermeture enregistrée : {_slots(result.withdrawn, 'libre retiré')}.", "success")
            return redirect(url_for("site_calendar.closure", closure_id=result.closure.id))
    return _page(site, closure_form=form, status=422)


@blueprint.route("/gestion/fermetures/<int:closure_id>")
@staff_required
@unit_of_work()
def closure(closure_id: int):
    """A closure and the appointments still booked on its days, with the button that cancels them."""
    found = get_closure(db.session, current_user, closure_id)
    booked = booked_during(db.session, found, now())
    return render_template("sites/closure.html", closure=found, booked=only_visible(current_user, booked),
                           booked_count=len(booked), form=ConfirmForm())


@blueprint.route("/gestion/fermetures/<int:closure_id>/annuler-rendez-vous", methods=["POST"])
@staff_required
def cancel_booked(closure_id: int):
    """Cancel every appointment of a closure's days, once confirmed; say who got an SMS and whom to call."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        done = cancel_for_closure(db.session, current_user, closure_id, now())
        found = get_closure(db.session, current_user, closure_id)
        page = render_template("sites/closure_done.html", closure=found, done=done,
                               to_call=only_visible(current_user, done.to_call))
    return page


@blueprint.route("/gestion/fermetures/<int:closure_id>/rouvrir", methods=["POST"])
@staff_required
def lift(closure_id: int):
    """Lift a closure: the practitioners' slots of those days come back."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        site_id = get_closure(db.session, current_user, closure_id).site_id
        created = reopen(db.session, current_user, closure_id, now())
    flash(f"Le lieu est rouvert ces jours-là : {_slots(created, 'remis')} en ligne.", "success")
    return redirect(url_for("site_calendar.calendar", site_id=site_id))


@blueprint.route("/gestion/sites/<int:site_id>/jours-feries/<day>", methods=["POST"])
@staff_required
def holiday(site_id: int, day: str):
    """Open the site on a public holiday after all, or close it again."""
    chosen = _confirmed_day(day)
    try:
        with unit_of_work():
            if request.form.get("open") == "1":
                created = open_on_holiday(db.session, current_user, site_id, chosen, now())
                flash(f"Le lieu ouvre ce jour férié : {_slots(created, 'publié')}.", "success")
            else:
                removed = close_on_holiday_again(db.session, current_user, site_id, chosen, now())
                flash(f"Le lieu reste fermé ce jour férié ({_slots(removed, 'libre retiré')}).", "success")
    except DomainError as error:
        flash(error.message, "error")
    return redirect(url_for("site_calendar.calendar", site_id=site_id))


@blueprint.route("/gestion/sites/<int:site_id>/assistante", methods=["POST"])
@staff_required
def rota(site_id: int):
    """Name who assists téléconsultation patients over some days: those slots become bookable."""
    site = get_site_for(db.session, current_user, site_id)
    form = RotaForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                days = put_on_duty(db.session, current_user, site.id, form.first_day.data, form.last_day.data,
                                   form.assistant.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            flash(f"{form.assistant.data.strip()} est de service {days} jour{'s' if days > 1 else ''}.", "success")
            return redirect(url_for("site_calendar.calendar", site_id=site.id))
    return _page(site, rota_form=form, status=422)


@blueprint.route("/gestion/sites/<int:site_id>/assistante/<day>/retirer", methods=["POST"])
@staff_required
def off_duty(site_id: int, day: str):
    """Nobody assists that day any more (its booked téléconsultations are said, to be handled)."""
    chosen = _confirmed_day(day)
    with unit_of_work():
        booked = take_off_duty(db.session, current_user, site_id, chosen, now())
    flash("Plus personne n’est de service ce jour-là : ses téléconsultations ne sont plus réservables."
          + (f" {booked} sont déjà prises : prévenez ces patients ou trouvez un remplaçant." if booked else ""),
          "info" if booked else "success")
    return redirect(url_for("site_calendar.calendar", site_id=site_id))
