"""The query plans of the hot paths, on a generated world.

    python -m bench.explain --scale national

Each scenario runs once in-process while its SQL is recorded; the slowest
statements are then run again under ``EXPLAIN (ANALYZE, BUFFERS)`` inside a
transaction that is rolled back, and written to ``docs/benchmarks/plans-<scale>.md``.
"""

import argparse
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.generate import ADMIN_EMAIL, SCALES, database_url
from bench.run import RESULTS


def _scenarios(app, session) -> dict:
    from booking.api.services import create_token

    now = datetime.now(UTC)
    insee, name, site_id = session.execute(sa.text(
        "SELECT s.commune_insee, c.name, s.id FROM sites s JOIN communes c ON c.insee = s.commune_insee "
        "ORDER BY s.id LIMIT 1")).one()
    slot_ids = session.execute(sa.text(
        "SELECT id FROM slots WHERE status = 'open' AND booked_count = 0 AND opens_at <= :now AND closes_at > :later "
        "ORDER BY id DESC LIMIT 2"), {"now": now, "later": now + timedelta(hours=1)}).scalars().all()
    patient_ids = session.execute(sa.text("SELECT id FROM patients ORDER BY id DESC LIMIT 2")).scalars().all()
    token = create_token(session, ADMIN_EMAIL, "plans", now)
    session.commit()  # the token must exist for the requests below
    headers = {"Authorization": f"Bearer {token}"}
    today = now.date()
    bookings = [{"slot_id": slot, "patient_id": patient, "channel": "phone", "consent": True}
                for slot, patient in zip(slot_ids, patient_ids, strict=False)]
    # (method, path, body of the warming request, body of the measured one, headers)
    return {
        "Recherche publique": ("GET", "/recherche?" + urlencode({"commune": name, "insee": insee,
                                                                 "profession": "medecin_generaliste"}),
                               None, None, {}),
        "Grille d’un lieu": ("GET", f"/lieux/{site_id}/creneaux", None, None, {}),
        "Réservation (API)": ("POST", "/api/v1/appointments", bookings[0], bookings[1], headers),
        "Statistiques sur 12 mois (API)": ("GET", f"/api/v1/communes/{insee}/stats?"
                                           + urlencode({"from": str(today - timedelta(days=365)), "to": str(today)}),
                                           None, None, headers),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Plans d’exécution des requêtes chaudes.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args(argv)
    from booking import create_app
    from booking.extensions import db

    url = database_url(args.scale)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    lines = [f"# Plans d’exécution — échelle « {args.scale} »", "",
             f"Obtenus le {datetime.now(UTC):%Y-%m-%d} par `python -m bench.explain --scale {args.scale}` : "
             "chaque scénario tourne une fois, ses requêtes les plus lentes repassent sous "
             "`EXPLAIN (ANALYZE, BUFFERS)` dans une transaction annulée.", ""]
    with app.app_context():
        recorded: list[tuple[float, str, object]] = []

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["started"] = time.perf_counter()

        @sa.event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
                recorded.append(((time.perf_counter() - conn.info["started"]) * 1000, statement, parameters))

        scenarios = _scenarios(app, db.session)
        db.session.commit()
        client = app.test_client()
        for title, (method, path, warming, body, headers) in scenarios.items():
            client.open(path, method=method, json=warming, headers=headers)  # warm: plans and caches
            recorded.clear()
            started = time.perf_counter()
            response = client.open(path, method=method, json=body, headers=headers)
            total = (time.perf_counter() - started) * 1000
            lines += [f"## {title}", "", f"`{method} {path.split('?')[0]}` → {response.status_code}, "
                      f"{total:.1f} ms en tout, {len(recorded)} requêtes SQL "
                      f"({sum(ms for ms, _, _ in recorded):.1f} ms dans la base).", ""]
            for ms, statement, parameters in sorted(recorded, key=lambda item: -item[0])[:args.top]:
                raw = db.engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    # An INSERT run again would collide with the row it made: its plan only, not run.
                    analyze = not statement.lstrip().upper().startswith("INSERT")
                    cursor.execute(("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") + statement, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                finally:
                    raw.rollback()
                    raw.close()
                lines += [f"### {ms:.1f} ms", "", "```sql", statement.strip(), "```", "", "```", plan, "```", ""]
        db.engine.dispose()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"plans-{args.scale}.md"
    path.write_text("\n".join(lines) + "\n")
    print(path)


if __name__ == "__main__":
    main()
