"""Accounts: hashing, login, logout, password change, CSRF, the users command."""

import re

import pytest
from sqlalchemy import select

from booking.auth.models import User
from booking.auth.services import authenticate, create_user
from booking.database import unit_of_work
from booking.errors import Conflict, InvalidInput
from booking.extensions import db
from tests import builders
from tests.conftest import make_app


def test_passwords_are_never_stored_in_clear(session, now):
    with unit_of_work(session):
        user = create_user(session, role="resident", email="Zoe@Example.test", password="un mot de passe solide")
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.email == "zoe@example.test"
    assert "un mot de passe solide" not in stored.password_hash
    assert stored.password_hash.startswith("scrypt:")
    assert authenticate(session, "ZOE@example.test", "un mot de passe solide", now).id == user.id


def test_short_passwords_and_duplicates_are_refused(session):
    with pytest.raises(InvalidInput, match="10 caractères"), unit_of_work(session):
        create_user(session, role="resident", email="a@example.test", password="court")
    with unit_of_work(session):
        create_user(session, role="resident", email="a@example.test", password="assez long pour passer")
    with pytest.raises(Conflict), unit_of_work(session):
        create_user(session, role="resident", email="A@example.test", password="assez long pour passer")


def test_staff_of_a_commune_needs_a_commune(session):
    with pytest.raises(InvalidInput, match="commune"), unit_of_work(session):
        create_user(session, role="agent", email="agent@example.test", password="assez long pour passer")


def test_a_resident_can_sign_in_with_a_phone_number(session, now):
    with unit_of_work(session):
        user = create_user(session, role="resident", phone="06 12 34 56 78", password="assez long pour passer")
    assert user.phone == "+33612345678"
    assert authenticate(session, "+33 6 12 34 56 78", "assez long pour passer", now).id == user.id


def _page_without_tokens(response, typed_login: str) -> str:
    page = response.get_data(as_text=True).replace(typed_login, "LOGIN")
    return re.sub(r'name="csrf_token"[^>]*', "", page)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, session):
    user = builders.make_user(session, "resident")
    session.commit()
    wrong_password = client.post("/connexion", data={"login": user.email, "password": "pas le bon mot"})
    unknown = client.post("/connexion", data={"login": "personne@example.test", "password": "pas le bon mot"})
    assert wrong_password.status_code == unknown.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in wrong_password.get_data(as_text=True)
    assert _page_without_tokens(wrong_password, user.email) == _page_without_tokens(unknown, "personne@example.test")


def test_login_then_logout(client, auth, session):
    user = builders.make_user(session, "agent", [builders.COMMUNE_A])
    session.commit()
    response = auth.login(user.email)
    assert response.status_code == 302
    assert client.get("/espace").status_code == 200
    auth.logout()
    assert client.get("/espace").status_code == 302


def test_a_session_copied_before_logout_is_refused_after_it(app, client, auth, session):
    user = builders.make_user(session, "agent", [builders.COMMUNE_A])
    session.commit()
    auth.login(user.email)
    stolen = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/espace").status_code == 302


def test_login_accepts_only_a_relative_next(client, session):
    user = builders.make_user(session, "resident")
    session.commit()
    form = {"login": user.email, "password": builders.PASSWORD}
    response = client.post("/connexion?next=https://evil.example/", data=form)
    assert response.headers["Location"] == "/"
    client.post("/deconnexion")
    response = client.post("/connexion?next=/compte/mot-de-passe", data=form)
    assert response.headers["Location"] == "/compte/mot-de-passe"


def test_password_change_ends_other_sessions(app, client, auth, session, now):
    user = builders.make_user(session, "resident")
    session.commit()
    auth.login(user.email)
    other_device = app.test_client()
    other_device.post("/connexion", data={"login": user.email, "password": builders.PASSWORD})
    response = client.post("/compte/mot-de-passe", data={
        "current": builders.PASSWORD, "new": "un tout nouveau secret", "confirm": "un tout nouveau secret"})
    assert response.status_code == 302
    assert client.get("/compte/mot-de-passe").status_code == 200
    assert other_device.get("/compte/mot-de-passe").status_code == 302
    assert authenticate(session, user.email, "un tout nouveau secret", now) is not None


def test_password_change_with_a_wrong_current_password(client, auth, session):
    user = builders.make_user(session, "resident")
    session.commit()
    auth.login(user.email)
    response = client.post("/compte/mot-de-passe", data={
        "current": "pas le bon", "new": "un tout nouveau secret", "confirm": "un tout nouveau secret"})
    assert "Le mot de passe actuel est incorrect" in response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = builders.make_user(db.session, "resident")
        db.session.commit()
        client = app.test_client()
        refused = client.post("/connexion", data={"login": user.email, "password": builders.PASSWORD})
        assert refused.status_code == 400
        assert "Le formulaire a expiré" in refused.get_data(as_text=True)
        page = client.get("/connexion").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        accepted = client.post("/connexion", data={"login": user.email, "password": builders.PASSWORD,
                                                   "csrf_token": token})
        assert accepted.status_code == 302
        logout_without_token = client.post("/deconnexion")
        assert logout_without_token.status_code == 400
        db.session.remove()
        db.session.execute(User.__table__.delete())
        db.session.commit()
        db.engine.dispose()


def test_users_create_command(runner, session):
    result = runner.invoke(args=["users", "create", "--email", "agent@mairie.example.test", "--role", "agent",
                                 "--commune", "15174", "--password", "mot de passe de l'agent"])
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "agent@mairie.example.test"))
    assert user.role == "agent" and user.commune_codes == {"15174"}


def test_users_create_prompts_for_the_password(runner, session, now):
    result = runner.invoke(args=["users", "create", "--email", "admin@example.test", "--role", "admin"],
                           input="secret assez long\nsecret assez long\n")
    assert result.exit_code == 0, result.output
    assert "secret assez long" not in result.output
    assert authenticate(session, "admin@example.test", "secret assez long", now) is not None


def test_users_create_reports_an_unknown_commune(runner):
    result = runner.invoke(args=["users", "create", "--email", "a@example.test", "--role", "agent",
                                 "--commune", "99999", "--password", "mot de passe long"])
    assert result.exit_code != 0
    assert "Commune inconnue : 99999" in result.output
