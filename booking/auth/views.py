"""Login, logout and password change pages."""

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from booking.auth.forms import ForgottenPasswordForm, LoginForm, NewPasswordForm, PasswordChangeForm
from booking.auth.recovery import pending_reset, request_reset, reset_password
from booking.auth.security import failed_login, login_account_key
from booking.auth.services import authenticate, change_password, end_sessions
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import DomainError, InvalidInput
from booking.extensions import db, limiter
from booking.urls import public_url, safe_next

blueprint = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@blueprint.route("/connexion", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
# ASVS 2.2.1: at most 100 failed attempts an hour on one account, from any number of IPs.
@limiter.limit("100 per hour", key_func=login_account_key, methods=["POST"], deduct_when=failed_login)
@unit_of_work()
def login():
    """Sign in with email or phone and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.login.data, form.password.data, now())
        if user is None:
            flash("Identifiant ou mot de passe incorrect.", "error")
        else:
            session.clear()  # a fresh session at login, so a planted one cannot be reused
            login_user(user)
            flash(f"Bonjour{(' ' + user.display_name) if user.display_name else ''}, vous êtes connecté(e).", "success")
            # Staff start their day from their workspace (day sheets, presences to note); residents from home.
            landing = url_for("main.workspace") if user.is_staff else url_for("main.home")
            if user.role == "departement_viewer":  # the département's map is what its observers come for
                landing = url_for("stats.departement_access", code=user.departement_code)
            return redirect(safe_next(request.args.get("next")) or landing)
    return render_template("auth/login.html", form=form)


@blueprint.route("/deconnexion", methods=["POST"])
@login_required
@unit_of_work()
def logout():
    """Sign out everywhere this session was copied."""
    end_sessions(db.session, current_user._get_current_object())
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté(e).", "success")
    return redirect(url_for("main.home"))


@blueprint.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
@unit_of_work()
def password():
    """Change one's own password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(db.session, user, form.current.data, form.new.data)
        except InvalidInput as error:
            form.current.errors.append(error.message)
        else:
            login_user(user)  # keep this session alive with the new token
            flash("Votre mot de passe a été changé.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@blueprint.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("5 per hour", key_func=lambda: "reset-" + login_account_key(), methods=["POST"])
@unit_of_work()
def forgotten_password():
    """Ask for a link to choose a new password; the answer is the same whether the account exists or not."""
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        response = make_response(render_template("auth/reset_sent.html"))
        # The answer leaves before the account is even looked up, so that it takes as long whether the account
        # exists or not (the lookup, the link and its message took twice as long for a real account).
        response.call_on_close(_reset_once_answered(current_app._get_current_object(), form.login.data, now()))
        return response
    return render_template("auth/forgotten.html", form=form), 422 if form.errors else 200


def _reset_once_answered(app, login: str, at):
    def send_the_link():
        with app.app_context():
            try:
                with unit_of_work():
                    request_reset(db.session, login, at, lambda token: public_url(f"/mot-de-passe/{token}"))
            except Exception:  # nobody is waiting for this answer any more: the log is where it goes
                log.exception("Demande de nouveau mot de passe en échec")
    return send_the_link


@blueprint.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def new_password(token: str):
    """Choose a new password from the link received by email or SMS."""
    pending_reset(db.session, token, now())
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                reset_password(db.session, token, form.password.data, now())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            logout_user()
            session.clear()
            flash("Votre mot de passe est changé. Connectez-vous avec le nouveau.", "success")
            return redirect(url_for("auth.login"))
    response = make_response(render_template("auth/new_password.html", form=form), 422 if form.errors else 200)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response
