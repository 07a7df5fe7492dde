"""French error pages, and JSON errors under /api."""

import logging
import re

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from booking.errors import DomainError
from booking.extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Demande incorrecte", "La demande n’a pas pu être comprise. Revenez à la page précédente et réessayez."),
    403: ("Accès refusé", "Votre compte ne permet pas d’ouvrir cette page. "
                          "Si vous pensez que c’est une erreur, adressez-vous à votre mairie."),
    404: ("Page introuvable", "Cette page n’existe pas ou vous n’y avez pas accès. "
                              "Vérifiez l’adresse ou repartez de l’accueil."),
    405: ("Action impossible", "Cette action n’est pas possible sur cette page."),
    413: ("Envoi trop volumineux", "Les données envoyées sont trop volumineuses."),
    414: ("Adresse trop longue", "L’adresse demandée est trop longue. Revenez à la page précédente."),
    422: ("Données incorrectes", "Certaines informations ne sont pas valides."),
    429: ("Trop de tentatives", "Vous avez fait trop de demandes en peu de temps. "
                                "Patientez quelques minutes puis réessayez."),
    503: ("Service indisponible", "Le service est momentanément indisponible. Réessayez dans quelques minutes."),
    500: ("Erreur du service", "Une erreur est survenue de notre côté. Rien de ce que vous aviez déjà "
                               "enregistré n’est perdu. Réessayez dans quelques instants."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 414: "uri_too_long", 415: "unsupported_media_type", 422: "invalid_input",
         429: "too_many_requests", 500: "server_error", 503: "unavailable"}

# Marshmallow's messages, in French for the people who read our API errors.
FIELD_MESSAGES = [
    (re.compile(r"^Missing data for required field\.$"), "Champ obligatoire."),
    (re.compile(r"^Unknown field\.$"), "Champ inconnu."),
    (re.compile(r"^Field may not be null\.$"), "Ce champ ne peut pas être nul."),
    (re.compile(r"^Not a valid integer\.$"), "Nombre entier attendu."),
    (re.compile(r"^Not a valid boolean\.$"), "Booléen attendu (true ou false)."),
    (re.compile(r"^Not a valid string\.$"), "Texte attendu."),
    (re.compile(r"^Not a valid date\.$"), "Date attendue au format AAAA-MM-JJ."),
    (re.compile(r"^Not a valid time\.$"), "Heure attendue au format HH:MM."),
    (re.compile(r"^Not a valid list\.$"), "Liste attendue."),
    (re.compile(r"^Invalid input type\.$"), "Type de donnée incorrect."),
    (re.compile(r"^Invalid JSON body\.$"), "Corps JSON illisible."),
    (re.compile(r"^Must be one of: (.*)\.$"), r"Valeur attendue parmi : \1."),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     r"Valeur attendue entre \1 et \2."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"\1 caractères au plus."),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"Entre \1 et \2 caractères."),
]


def _french(message: str) -> str:
    for pattern, replacement in FIELD_MESSAGES:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def _flatten(messages, prefix: str = "") -> dict[str, str]:
    """webargs' nested {location: {field: [messages]}} as {"field.sub": "message"}."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_": " ".join(_french(m) for m in messages)}
    flat = {}
    items = messages.items() if isinstance(messages, dict) else enumerate(messages or [])
    for key, value in items:
        name = str(key) if key not in ("json", "query", "path", "form", "_schema") else ""
        flat.update(_flatten(value, ".".join(part for part in (prefix, name) if part)))
    return flat


def error_response(status: int, message: str | None = None, code: str | None = None, fields: dict | None = None):
    title, default_message = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    if wants_json():
        body = {"error": {"code": code or CODES.get(status, "error"), "message": message or default_message}}
        if fields:
            body["error"]["fields"] = fields
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message or default_message), status


_CONTROL_IN_PATH = re.compile("[\x00-\x1f\x7f]")
# Below gunicorn's limit_request_line (booking/gunicorn_config.py), so that the application answers, not gunicorn.
MAX_URL_BYTES = 4096


def init_error_handlers(app: Flask) -> None:
    @app.before_request
    def refuse_addresses_no_page_takes():
        # No address of ours holds a control character, and PostgreSQL refuses a NUL in a query: not found,
        # before any view. An address longer than any of ours is refused here, in our words, not by gunicorn.
        if _CONTROL_IN_PATH.search(request.path):
            return error_response(404)
        if len(request.full_path.encode()) > MAX_URL_BYTES:
            return error_response(414)
        return None

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        fields = {error.field: error.message} if error.field else None
        response = make_response(error_response(error.http_status, error.message, error.code, fields=fields))
        response.headers.update(getattr(error, "headers", {}))
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(400, "Le formulaire a expiré ou n’est pas valide. Rechargez la page et recommencez.",
                              "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        data = getattr(error, "data", None) or {}
        if wants_json() and data.get("messages"):
            fields = _flatten(data["messages"])
            named = ", ".join(sorted(name for name in fields if name != "_"))
            message = (f"Données incorrectes : {named}." if named else fields.get("_", MESSAGES[422][1]))
            return error_response(error.code or 422, message, fields=fields)
        response = make_response(error_response(error.code or 500))
        # What the exception says of itself (a 405's Allow, a 401's WWW-Authenticate) stays on our answer.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):
        log.error("base de données injoignable sur %s %s : %s", request.method, request.path,
                  type(error).__name__)
        _forget_session_quietly()
        # The page must render without the database: the signed-in user cannot be loaded, show none.
        g._login_user = login_manager.anonymous_user()
        response = make_response(error_response(
            503, "Le service est momentanément indisponible. Vos rendez-vous sont conservés. "
                 "Réessayez dans quelques minutes ou appelez votre mairie.", "unavailable"))
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(RecursionError)
    def too_deep(error: RecursionError):
        # A JSON body nested thousands deep exhausts the parser before any schema sees it.
        _forget_session_quietly()
        return error_response(400, "Données trop imbriquées : envoyez un document JSON simple.", "bad_request")

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, DBAPIError):
            # The driver's message may quote the row ("Key (email)=(…) already exists"): log its kind only.
            log.error("unexpected database error on %s %s: %s (SQLSTATE %s) in %s", request.method, request.path,
                      type(error.orig).__name__, getattr(error.orig, "sqlstate", None) or "?",
                      (error.statement or "")[:300])
        else:
            log.exception("unexpected error on %s %s", request.method, request.path)
        _forget_session_quietly()
        g._login_user = login_manager.anonymous_user()  # the error may have come from loading the user
        return error_response(500)


def _forget_session_quietly() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection itself is gone: drop the session, the pool reconnects later
        db.session.remove()
