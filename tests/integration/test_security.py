"""Headers, cookie flags, idle staff sessions, login throttling."""

from datetime import UTC, datetime, timedelta

import time_machine

from booking.extensions import db
from tests import builders
from tests.conftest import make_app


def test_every_page_carries_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(database_url):
    app = make_app(database_url, PUBLIC_BASE_URL="https://rdv.example.com", SESSION_COOKIE_SECURE=True)
    with app.app_context():
        user = builders.make_user(db.session, "resident")
        db.session.commit()
        client = app.test_client()
        response = client.post("/connexion", data={"login": user.email, "password": builders.PASSWORD})
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
        db.session.remove()
        db.session.execute(user.__table__.delete())
        db.session.commit()
        db.engine.dispose()


def test_staff_sessions_end_after_thirty_idle_minutes(client, auth, session, world):
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        auth.login(world.agent_a.email)
        assert client.get("/accueil").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/accueil").status_code == 200  # activity keeps it alive
    with time_machine.travel(start + timedelta(minutes=60), tick=False):
        response = client.get("/accueil")
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]
        assert client.get("/accueil").status_code == 302


def test_residents_are_not_logged_out_when_idle(client, auth, session, world):
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        auth.login(world.resident_a.email)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert client.get("/compte").status_code == 200


def test_login_is_throttled_per_ip_and_per_account(database_url):
    from booking.extensions import limiter

    app = make_app(database_url, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
        user = builders.make_user(db.session, "resident")
        db.session.commit()
        client = app.test_client()
        statuses = [client.post("/connexion", data={"login": user.email, "password": "faux mot de passe"}).status_code
                    for _ in range(21)]
        assert statuses[:20] == [200] * 20 and statuses[20] == 429
        assert "Trop de tentatives" in client.post("/connexion", data={"login": user.email, "password": "x"}).get_data(
            as_text=True)
        limiter.reset()
        # Per account: 100 failures an hour from many addresses, then refused even with the right password.
        for i in range(100):
            client.post("/connexion", data={"login": user.email, "password": "faux"},
                        environ_base={"REMOTE_ADDR": f"10.0.{i // 20}.{i % 20 + 1}"})
        blocked = client.post("/connexion", data={"login": user.email, "password": builders.PASSWORD},
                              environ_base={"REMOTE_ADDR": "192.0.2.50"})
        assert blocked.status_code == 429
        limiter.reset()
        db.session.remove()
        db.session.execute(user.__table__.delete())
        db.session.commit()
        db.engine.dispose()


def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget(database_url):
    from booking.extensions import limiter

    app = make_app(database_url, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1)
    with app.app_context():
        limiter.reset()
        client = app.test_client()

        def attempt(address):
            return client.post("/connexion", data={"login": "personne@example.test", "password": "faux"},
                               headers={"X-Forwarded-For": address}).status_code

        assert [attempt("203.0.113.7") for _ in range(21)][-1] == 429
        assert attempt("198.51.100.20") == 200  # another resident behind the same proxy
        limiter.reset()
        db.session.remove()
        db.engine.dispose()
