"""SMART Scheduling Links ($bulk-publish and its NDJSON files) and the widget communes put on their websites."""

import json
from contextlib import closing
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from booking.clock import now
from booking.database import read_only_session
from booking.extensions import db, limiter
from booking.formatting import SITE_KIND_LABELS
from booking.geo.models import Commune
from booking.openslots import fhir, services
from booking.sites.models import Site
from booking.sites.professions import PROFESSIONS
from booking.sites.rules import valid_web_origins
from booking.urls import public_url

blueprint = Blueprint("openslots", __name__)
FILES = {"Location": "Location.ndjson", "Schedule": "Schedule.ndjson", "Slot": "Slot.ndjson"}
CACHE = "public, max-age=300"
NDJSON = "application/fhir+ndjson"


def _since() -> datetime | None:
    text = request.args.get("_since")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        abort(Response('{"error": "_since doit être un instant ISO 8601, par exemple 2026-12-01T08:00:00Z."}',
                       status=400, mimetype="application/json"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unchanged(etag: str, last_modified: datetime | None) -> bool:
    """Whether the client holds this version: If-None-Match compared weakly (RFC 9110 §13.1.2; a gzip-ing proxy
    sends W/"…"), or, without it, If-Modified-Since against Last-Modified (to the second)."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified is not None and last_modified.replace(microsecond=0) <= since


def _conditional(etag: str, last_modified: datetime | None, make_body, mimetype: str = NDJSON) -> Response:
    """Answer 304 when the client has this version, else the file with its ETag."""
    response = Response(status=304) if _unchanged(etag, last_modified) else Response(make_body(), mimetype=mimetype)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE
    return response


_FEED = {"openslots.manifest", "openslots.location_file", "openslots.schedule_file", "openslots.slot_file",
         "openslots.code_system"}


@blueprint.after_request
def open_to_any_aggregator(response: Response) -> Response:
    """Open data: any website's code may read the feed, ask conditionally and read the version (CORS, the
    preflight included)."""
    if request.endpoint in _FEED:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@blueprint.route("/$bulk-publish")
@limiter.exempt
def manifest():
    """The SMART Scheduling Links manifest: where the Location, Schedule and Slot files are."""
    since = request.args.get("_since")
    suffix = "?" + urlencode({"_since": since}) if since else ""  # « +01:00 » must stay a plus once followed
    if since:
        _since()
    states = services.states_covered(db.session)
    last, highest = services.slots_version(db.session, now())
    # The manifest changes when the files do (their versions) or the regions they cover.
    etag = services.etag_of(f"{last.timestamp() if last else 0}-{highest}-{int(now().timestamp()) // 300}-"
                            f"{since}-{states}")
    return _conditional(etag, None, lambda: json.dumps({
        "transactionTime": now().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "request": public_url("/$bulk-publish") + suffix,
        "output": [{"type": kind, "url": public_url(f"/fhir/{name}") + suffix, "extension": {"state": states}}
                   for kind, name in FILES.items()],
        "error": [],
    }, ensure_ascii=False), mimetype="application/json")


@blueprint.route("/fhir/CodeSystem/<name>")
@limiter.exempt
def code_system(name: str):
    """Our code systems at their canonical URLs, so that every system the feed names resolves."""
    systems = {"profession": ("Professions proposées sur la plateforme", dict(PROFESSIONS)),
               "site-kind": ("Types de lieux de soins des communes", SITE_KIND_LABELS)}
    if name not in systems:
        abort(404)
    title, concepts = systems[name]
    body = json.dumps(fhir.code_system(public_url(""), name, title, concepts), ensure_ascii=False)
    return _conditional(services.etag_of(body), None, lambda: body, mimetype="application/fhir+json")


@blueprint.route("/fhir/Location.ndjson")
@limiter.exempt
def location_file():
    body = services.ndjson(services.locations(db.session, public_url("")))
    return _conditional(services.etag_of(body), None, lambda: body)


@blueprint.route("/fhir/Schedule.ndjson")
@limiter.exempt
def schedule_file():
    body = services.ndjson(services.schedules(db.session, public_url("")))
    return _conditional(services.etag_of(body), None, lambda: body)


@blueprint.route("/fhir/Slot.ndjson")
@limiter.exempt
def slot_file():
    """Future slots, free or busy; with _since, only those changed since then. Streamed: it may be large."""
    since = _since()
    at = now()
    last, highest = services.slots_version(db.session, at)
    # Free/busy also changes as booking windows open and close: a version lasts five minutes at most.
    etag = f"{last.timestamp() if last else 0:.6f}-{highest}-{int(at.timestamp()) // 300}-{since}"
    engine, base = db.engine, public_url("")
    return _conditional(services.etag_of(etag), last, lambda: _streamed_slots(engine, base, at, since))


def _streamed_slots(engine, base_url: str, at: datetime, since: datetime | None):
    """Yield the feed's lines from a database session of their own, closed with the generator.

    The server reads this after the view has returned and its request context is gone, and a client may
    leave after any line (the server then closes the generator) or before the first (it is never started).
    Holding no Flask context, it can be closed anywhere, at any time, even by the garbage collector.
    """
    with read_only_session(engine) as session, closing(services.slots(session, base_url, at, since)) as resources:
        for resource in resources:
            yield services.ndjson([resource])


def _embed_policy(origins: list[str]) -> str:
    ancestors = " ".join(["'self'", *origins])
    return (f"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}")


def _widget(title: str, sites: list[Site]):
    origins = sorted({origin for site in sites for origin in valid_web_origins(site.embed_origins)})
    response = Response(render_template("openslots/widget.html", title=title, sites=sites,
                                        offers=services.widget_slots(db.session, sites, now())))
    response.headers["Content-Security-Policy"] = _embed_policy(origins)
    response.headers["Cache-Control"] = "public, max-age=120"
    return response


@blueprint.route("/integrer/lieu/<int:site_id>")
@limiter.exempt
def site_widget(site_id: int):
    """A site's next free slots, to show in an <iframe> on the commune's website."""
    site = db.session.get(Site, site_id)
    if site is None or not site.booking_open or site.drop_in_only:
        abort(404)
    return _widget(site.name, [site])


@blueprint.route("/integrer/commune/<insee>")
@limiter.exempt
def commune_widget(insee: str):
    """The next free slots of the sites a commune runs, for its website."""
    commune = db.session.get(Commune, insee.upper()) or abort(404)
    sites = list(db.session.scalars(select(Site).where(Site.operator_commune_insee == commune.insee,
                                                       Site.booking_open.is_(True), Site.drop_in_only.is_(False))
                                    .order_by(Site.name)))
    if not sites:
        abort(404)
    return _widget(f"Rendez-vous santé — {commune.name}", sites)
