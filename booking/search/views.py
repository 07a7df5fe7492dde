"""The public search and a site's week of free slots (work without JavaScript)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from booking.clock import now
from booking.database import unit_of_work
from booking.extensions import db, limiter
from booking.formatting import day_param
from booking.patients.accounts import home_departement
from booking.search.forms import SearchForm
from booking.search.services import TIER_LABELS, search
from booking.sites.models import Site
from booking.slots.services import first_free_start, free_slots_between

blueprint = Blueprint("search", __name__)


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
                        commune_insee=request.args.get("insee"), all_sites=request.args.get("tous") == "1",
                        departement_first=home_departement(db.session, current_user),
                        radius=int(form.jusqua.data) if (form.jusqua.data or "").isdigit() else None)
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
    if not slots and not request.args.get("semaine"):
        # Nothing left this week (a Saturday, say): open on the week of the next free slot, not on seven « aucun ».
        following = first_free_start(db.session, site, now())
        if following is not None:
            first_day = following.astimezone(zone).date()
            monday = first_day - timedelta(days=first_day.weekday())
            start = datetime.combine(monday, time(), tzinfo=zone)
            slots = free_slots_between(db.session, site, start, start + timedelta(days=7), now())
    days = [monday + timedelta(days=i) for i in range(7)]
    by_day = {day: [s for s in slots if s.starts_at.astimezone(zone).date() == day] for day in days}
    return render_template("public/site_week.html", site=site, monday=monday, days=days, by_day=by_day,
                           timedelta=timedelta)

