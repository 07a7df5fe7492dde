"""Login, logout and password change pages."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from booking.auth.forms import LoginForm, PasswordChangeForm
from booking.auth.security import failed_login, login_account_key
from booking.auth.services import authenticate, change_password, end_sessions
from booking.clock import now
from booking.database import unit_of_work
from booking.errors import InvalidInput
from booking.extensions import db, limiter
from booking.urls import safe_next

blueprint = Blueprint("auth", __name__)


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
            flash(f"Bonjour{(' ' + user.display_name) if user.display_name else ''}, vous êtes connecté.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@blueprint.route("/deconnexion", methods=["POST"])
@login_required
@unit_of_work()
def logout():
    """Sign out everywhere this session was copied."""
    end_sessions(db.session, current_user._get_current_object())
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "success")
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
