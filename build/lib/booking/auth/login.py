"""Flask-Login wiring: sessions carry "user id:session token"."""

from flask import Flask

from booking.auth.services import load_user_from_session
from booking.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        return load_user_from_session(db.session, session_id)
