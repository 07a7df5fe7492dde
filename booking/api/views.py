"""JSON API v1 (bearer tokens only; browser sessions are not accepted)."""

from datetime import date, timedelta
from functools import wraps

from flask import Blueprint, g, jsonify, request

from booking.api.services import user_for_token
from booking.clock import now
from booking.errors import DomainError, InvalidInput
from booking.extensions import db
from booking.stats.services import statistics_for

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


class Unauthorized(DomainError):
    http_status = 401
    code = "unauthorized"


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        user = user_for_token(db.session, token, now()) if token else None
        if user is None:
            raise Unauthorized("Jeton d’API absent, invalide ou révoqué.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def _day(name: str) -> date:
    try:
        return date.fromisoformat(request.args[name])
    except (KeyError, ValueError):
        raise InvalidInput(f"Paramètre « {name} » attendu au format AAAA-MM-JJ.") from None


@blueprint.route("/communes/<insee>/stats")
@token_required
def commune_stats(insee: str):
    """The statistics of a commune over [from, to] (inclusive days)."""
    start, last = _day("from"), _day("to")
    stats = statistics_for(db.session, g.api_user, insee, start, last + timedelta(days=1), now(),
                           site_id=request.args.get("site_id", type=int),
                           profession=request.args.get("profession") or None)
    return jsonify(stats.as_dict())
