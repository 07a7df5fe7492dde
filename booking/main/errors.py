"""French error pages, and JSON errors under /api."""

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from booking.errors import DomainError
from booking.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Demande incorrecte", "La demande n’a pas pu être comprise. Revenez à la page précédente et réessayez."),
    403: ("Accès refusé", "Votre compte ne permet pas d’ouvrir cette page. "
                          "Si vous pensez que c’est une erreur, adressez-vous à votre mairie."),
    404: ("Page introuvable", "Cette page n’existe pas ou vous n’y avez pas accès. "
                              "Vérifiez l’adresse ou repartez de l’accueil."),
    405: ("Action impossible", "Cette action n’est pas possible sur cette page."),
    413: ("Envoi trop volumineux", "Les données envoyées sont trop volumineuses."),
    422: ("Données incorrectes", "Certaines informations ne sont pas valides."),
    429: ("Trop de tentatives", "Vous avez fait trop de demandes en peu de temps. "
                                "Patientez quelques minutes puis réessayez."),
    500: ("Erreur du service", "Une erreur est survenue de notre côté. Rien de ce que vous aviez déjà "
                               "enregistré n’est perdu. Réessayez dans quelques instants."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, code: str | None = None):
    title, default_message = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    if wants_json():
        body = {"error": {"code": code or title.lower().replace(" ", "_"), "message": message or default_message}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message or default_message), status


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_response(error.http_status, error.message, error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(400, "Le formulaire a expiré ou n’est pas valide. Rechargez la page et recommencez.",
                              "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return error_response(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
