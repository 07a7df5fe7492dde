"""The commune's dashboard, its CSV and its PDF."""

from datetime import date, timedelta

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from booking.auth.decorators import staff_required
from booking.auth.permissions import Action, require
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import InvalidInput
from booking.extensions import db, limiter
from booking.formatting import day_param, format_day, local_time
from booking.geo.models import Commune, Departement, Epci
from booking.geo.rules import DEFAULT_TIME_ZONE, time_zone_for_departement
from booking.sites.models import Site
from booking.sites.professions import PROFESSIONS
from booking.sites.services import sites_visible_to
from booking.stats.access import (
    DEFAULT_PROFESSION,
    TERRITORY_COLUMNS,
    territory_figures,
    territory_map,
    territory_rows,
)
from booking.stats.export import period_label, territory_csv, territory_pdf, to_csv, to_pdf
from booking.stats.maps import to_svg
from booking.stats.open_data import keyed, table_schema, to_long_csv
from booking.stats.report import previous_month
from booking.stats.services import compute, local_midnight, statistics_for
from booking.urls import public_url

blueprint = Blueprint("stats", __name__)


def _zone_of(insee: str | None, siren: str | None = None) -> str:
    """The time zone whose days and months the figures are counted in: the commune's (the EPCI's members')."""
    if siren:
        epci = db.session.get(Epci, siren)
        codes = {member.departement_code for member in epci.members} if epci else set()
    else:
        commune = db.session.get(Commune, (insee or "").upper())
        codes = {commune.departement_code} if commune else set()
    return time_zone_for_departement(min(codes)) if codes else DEFAULT_TIME_ZONE


def _period(zone: str = DEFAULT_TIME_ZONE) -> tuple[date, date]:
    """Read du/au (inclusive days) or mois=YYYY-MM; default: the last full month, in ``zone``."""
    try:
        if request.args.get("mois"):
            year, month = (int(part) for part in request.args["mois"].split("-"))
            if not 2000 <= year <= 2100:
                raise ValueError
            start = date(year, month, 1)
            return start, date(year + (month == 12), month % 12 + 1, 1)
        if request.args.get("du") and request.args.get("au"):
            today = local_time(now(), zone).date()
            first, last = day_param(request.args["du"], today), day_param(request.args["au"], today)
            if first is None or last is None:
                raise ValueError
            return first, last + timedelta(days=1)
    except ValueError:
        raise InvalidInput("Période illisible : utilisez des dates valides.") from None
    year, month = previous_month(local_time(now(), zone).date())
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def _statistics(insee: str | None, siren: str | None = None):
    start, end = _period(_zone_of(insee, siren))
    site = request.args.get("site", type=int)
    profession = request.args.get("profession") or None
    return statistics_for(db.session, current_user, insee, start, end, now(), site_id=site, profession=profession,
                          epci_siren=siren)


def _dashboard(stats):
    sites = [s for s in sites_visible_to(db.session, current_user)]
    return render_template("stats/dashboard.html", stats=stats, period=period_label(stats), sites=sites,
                           professions=PROFESSIONS, last_day=stats.end - timedelta(days=1),
                           month=f"{stats.start:%Y-%m}")


def _csv(stats) -> Response:
    return Response(to_csv(stats), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statistiques-{stats.commune.insee}-{stats.start}.csv"'})


def _pdf(stats) -> Response:
    return Response(to_pdf(stats), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="rapport-{stats.commune.insee}-{stats.start}.pdf"'})


@blueprint.route("/gestion/intercommunalites/<siren>/statistiques")
@staff_required
def epci_dashboard(siren: str):
    """The figures of the sites an EPCI runs (its administrators, its members' referents, the département)."""
    return _dashboard(_statistics(None, siren))


@blueprint.route("/gestion/intercommunalites/<siren>/statistiques.csv")
@staff_required
def epci_csv_file(siren: str):
    return _csv(_statistics(None, siren))


@blueprint.route("/gestion/intercommunalites/<siren>/rapport.pdf")
@staff_required
def epci_pdf_file(siren: str):
    return _pdf(_statistics(None, siren))


@blueprint.route("/gestion/communes/<insee>/statistiques")
@staff_required
def dashboard(insee: str):
    """Show the figures an élu needs, each chart with its data table."""
    return _dashboard(_statistics(insee))


@blueprint.route("/gestion/statistiques")
@staff_required
def pick_commune():
    """Go to the dashboard of the commune typed in (platform admins)."""
    insee = (request.args.get("insee") or "").strip().upper()[:5]
    return redirect(url_for("stats.dashboard", insee=insee or "00000"))


@blueprint.route("/gestion/communes/<insee>/statistiques.csv")
@staff_required
def csv_file(insee: str):
    """The same figures as a CSV for a spreadsheet."""
    return _csv(_statistics(insee))


@blueprint.route("/gestion/communes/<insee>/rapport.pdf")
@staff_required
def pdf_file(insee: str):
    """The PDF report for any period (by default the last full month)."""
    return _pdf(_statistics(insee))


def _territory(departement: Departement | None = None, epci: Epci | None = None):
    """The access map of a département or an EPCI, for the profession and month asked (a generalist, last month)."""
    target = departement or epci
    require(current_user, Action.READ_STATS, target)
    profession = request.args.get("profession") or DEFAULT_PROFESSION
    if profession not in PROFESSIONS:
        raise InvalidInput("Profession inconnue.")
    zone = time_zone_for_departement(departement.code) if departement else _zone_of(None, epci.siren)
    start, end = _period(zone)
    name = f"{departement.name} ({departement.code})" if departement else epci.name
    codes = None if departement else {member.insee for member in epci.members}
    return territory_map(db.session, name, profession, now(), start, end, local_midnight(start, zone),
                         local_midnight(end, zone), codes=codes, departement=departement.code if departement else None,
                         demand=request.args.get("carte") == "demande"), start, end


def _territory_answer(fmt: str, departement: Departement | None = None, epci: Epci | None = None):
    drawn, start, end = _territory(departement, epci)
    stem = f"acces-{departement.code if departement else epci.siren}-{start:%Y-%m}"
    if fmt == "csv":
        return Response(territory_csv(drawn), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    if fmt == "pdf":
        return Response(territory_pdf(drawn, start, end), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.pdf"'})
    if fmt != "html":
        abort(404)
    endpoint, key = (("stats.departement_access", {"code": departement.code}) if departement
                     else ("stats.epci_access", {"siren": epci.siren}))
    return render_template("stats/territory.html", map=drawn, svg=Markup(to_svg(drawn.picture, legend=False)),
                           professions=PROFESSIONS, month=f"{start:%Y-%m}", departement=departement, epci=epci,
                           period=f"du {format_day(start)} au {format_day(end - timedelta(days=1))}",
                           figures=territory_figures(drawn), columns=TERRITORY_COLUMNS, rows=territory_rows(drawn),
                           csv_url=url_for(endpoint, fmt="csv", **key, **request.args),
                           pdf_url=url_for(endpoint, fmt="pdf", **key, **request.args))


@blueprint.route("/gestion/departements/<code>/acces", defaults={"fmt": "html"})
@blueprint.route("/gestion/departements/<code>/acces.<fmt>")
@staff_required
def departement_access(code: str, fmt: str):
    """The département's map: each commune's drive to the nearest site, or where searches found nothing."""
    departement = db.session.get(Departement, code.upper()) or abort(404)
    return _territory_answer(fmt, departement=departement)


@blueprint.route("/gestion/intercommunalites/<siren>/acces", defaults={"fmt": "html"})
@blueprint.route("/gestion/intercommunalites/<siren>/acces.<fmt>")
@staff_required
def epci_access(siren: str, fmt: str):
    """The same map for an EPCI's member communes."""
    epci = db.session.get(Epci, siren) or abort(404)
    return _territory_answer(fmt, epci=epci)


@blueprint.route("/donnees-ouvertes")
def open_data():
    """What is published, in which format, for whom: the communes that run a site, month by month."""
    communes = db.session.scalars(select(Commune).where(Commune.insee.in_(
        select(Site.operator_commune_insee).where(Site.operator_commune_insee.is_not(None)))).order_by(Commune.name))
    last = previous_month(local_time(now(), DEFAULT_TIME_ZONE).date())
    return render_template("stats/open_data.html", communes=list(communes), month=f"{last[0]:04d}-{last[1]:02d}")


@blueprint.route("/donnees-ouvertes/schema.json")
def open_data_schema():
    """The Table Schema every CSV export follows (validated against it in the tests with frictionless)."""
    response = jsonify(table_schema(public_url().rstrip("/")))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.route("/donnees-ouvertes/communes/<insee>/<month>.<fmt>")
@limiter.limit("60 per minute")
def open_data_file(insee: str, month: str, fmt: str):
    """One commune's anonymous, aggregated figures for one finished month (JSON or CSV, stable keys)."""
    if fmt not in ("json", "csv"):
        abort(404)
    try:
        year, number = (int(part) for part in month.split("-"))
        start = date(year, number, 1)
        end = date(year + (number == 12), number % 12 + 1, 1)  # December of year 9999 has no end
    except (ValueError, OverflowError):
        return jsonify(error="Le mois s’écrit AAAA-MM, par exemple 2026-10."), 400
    today = local_time(now(), _zone_of(insee)).date()  # a month is over when it is over for the commune
    if end > today or start < today.replace(day=1) - timedelta(days=3 * 366):
        return jsonify(error="Seuls les mois terminés des trois dernières années sont publiés."), 404
    commune = db.session.get(Commune, insee.upper()) or abort(404)
    with unit_of_work():  # a read, ended as every request ends
        stats = compute(db.session, commune.insee, start, end, now())
        if fmt == "json":
            response = jsonify(keyed(stats))
        else:
            response = Response(to_long_csv(stats), mimetype="text/csv")
            response.headers["Content-Disposition"] = f'attachment; filename="{commune.insee}-{month}.csv"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
