"""Cross-cutting protections: security headers, idle staff sessions, login throttling."""

from datetime import UTC, datetime

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from booking.auth.services import normalized_login
from booking.logs import SECRET_LINK_PREFIXES
from booking.signing import sign

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def failed_login(response) -> bool:
    """A login attempt that did not sign in (the form came back instead of a redirect)."""
    return response.status_code == 200


def login_account_key() -> str:
    """Rate-limit key of a login attempt: the account typed in however it is written, whatever the IP.

    Keyed by a signature, so that neither the limiter's storage nor its log holds what was typed.
    """
    return "login-account:" + sign(current_app.config["SECRET_KEY"], "login:" + normalized_login(
        request.form.get("login") or ""))


# Pages opened by a secret link (cancel, waiting-list offer, invitation, calendar feed) show personal data
# to whoever holds the link, signed in or not.
PERSONAL_PATHS = ("/compte", "/gestion", "/accueil", "/praticien", "/rendez-vous", "/reserver", "/api/", "/admin/",
                  *SECRET_LINK_PREFIXES)


def _may_show_personal_data() -> bool:
    if request.endpoint == "static":
        return False
    return request.path.startswith(PERSONAL_PATHS) or current_user.is_authenticated


def init_security(app: Flask) -> None:
    @app.before_request
    def end_idle_staff_sessions():
        # Reception desks are shared computers: a staff session left alone ends.
        if request.endpoint == "static" or request.path.startswith("/api/") or not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        last_seen = session.get("last_seen")
        idle_limit = app.config["STAFF_IDLE_MINUTES"] * 60
        if current_user.is_staff and last_seen is not None and now - last_seen > idle_limit:
            logout_user()
            session.clear()
            flash("Votre session a expiré après une période d’inactivité. Reconnectez-vous.", "info")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        session["last_seen"] = now
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")  # older browsers; the widget sets its own
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if _may_show_personal_data():
            response.headers.setdefault("Cache-Control", "no-store")
        return response
