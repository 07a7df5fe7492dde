"""Write a believable world straight into PostgreSQL, fast.

    python -m bench.generate --scale small|department|national [--database-url URL]

Small rows (sites, practitioners, rules, staff) are built in Python; the millions
(slots, patients, a year of appointments with their outcomes) are made by
PostgreSQL itself with ``generate_series``. Every name is invented; phone numbers
are in the range ARCEP keeps for fiction (06 39 98 xx xx).
"""

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from booking.sites.rules import made_up_rpps

ROOT = Path(__file__).resolve().parent.parent
GEO_FIXTURE = ROOT / "tests" / "fixtures" / "geo"
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ADMIN_EMAIL = "bench-admin@bench.test"
PASSWORD = "bench-mot-de-passe"


@dataclass(frozen=True)
class Scale:
    name: str
    departements: tuple[str, ...] | None  # None: the whole country
    sites: int
    practitioners: int
    past_weeks: int
    future_days: int
    patients: int
    booking_pool: int  # patients kept free of appointments, for the booking runs


SCALES = {
    "small": Scale("small", ("15",), 20, 60, 52, 90, 4_000, 6_000),
    "department": Scale("department", ("15",), 60, 200, 52, 90, 12_000, 10_000),
    "national": Scale("national", None, 3_000, 10_000, 52, 90, 600_000, 20_000),
}

PROFESSION_CYCLE = (["medecin_generaliste"] * 10 + ["ophtalmologue"] * 2
                    + ["dermatologue", "cardiologue", "psychiatre", "pediatre", "gynecologue", "sage_femme",
                       "psychologue", "geriatre"])
FIRST_NAMES = ["Camille", "Louise", "Jeanne", "Marie", "Lucie", "Élise", "Margaux", "Inès", "Chloé", "Zoé",
               "Hélène", "Odile", "Germaine", "Simone", "Paulette", "Louis", "Jules", "Gabriel", "Arthur", "Hugo",
               "Raphaël", "Léon", "Émile", "Marcel", "René", "André", "Étienne", "Noël", "Baptiste", "Mathis"]
LAST_NAMES = ["Martin", "Bernard", "Roux", "Fabre", "Vidal", "Garnier", "Chevalier", "Lefèvre", "Mercier",
              "Boyer", "Blanchard", "Giraud", "Brun", "Faure", "Rousseau", "Fournier", "Morel", "Girard", "André",
              "Lambert", "Bonnet", "François", "Dupuis", "Leclerc", "Barbier", "Arnaud", "Marchand", "Aubert",
              "Gauthier", "Perrin", "Robin", "Clément", "Masson", "Roche", "Meunier", "Huet", "Delmas", "Vernet",
              "Pagès", "Cazals"]
HALF_DAYS = [(weekday, morning) for weekday in range(5) for morning in (True, False)]
BYDAY = ["MO", "TU", "WE", "TH", "FR"]


def database_url(scale: str) -> str:
    return os.environ.get("BENCH_DATABASE_URL", ADMIN_URL.rsplit("/", 1)[0] + f"/booking_bench_{scale}")


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


class Timer:
    def __init__(self):
        self.steps: dict[str, float] = {}

    def step(self, name: str):
        timer = self

        class Step:
            # print, not logging: Alembic's logging configuration silences INFO once the migrations ran.
            def __enter__(self):
                self.start = time.perf_counter()
                print(f"{datetime.now():%H:%M:%S} {name}…", file=sys.stderr, flush=True)

            def __exit__(self, *exc):
                timer.steps[name] = time.perf_counter() - self.start
                print(f"{datetime.now():%H:%M:%S} {name} : {timer.steps[name]:.1f} s", file=sys.stderr, flush=True)

        return Step()


SAS_CN, SAS_OU = "sas-banc-d-essai.example", "SAS"


def _assign_half_days(sites: list[int], practitioners: int) -> list[tuple[int, int, int, int]]:
    """(practitioner index, site index, half-day index, room index): no practitioner or room in two places at once."""
    rooms_taken: dict[tuple[int, int], int] = defaultdict(int)
    own: dict[int, set[int]] = defaultdict(set)
    links = []
    for p in range(practitioners):
        places = [p % len(sites)]
        if p % 3 == 0 and len(sites) > 1:
            places.append((p * 7 + 3) % len(sites))
        for s in dict.fromkeys(places):
            for offset in range(len(HALF_DAYS)):
                h = (p + offset * 3) % len(HALF_DAYS)
                if h not in own[p] and rooms_taken[(s, h)] < 2:
                    links.append((p, s, h, rooms_taken[(s, h)]))
                    rooms_taken[(s, h)] += 1
                    own[p].add(h)
                    break
    return links


def generate(scale: Scale, url: str, today: date) -> dict:
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from booking import create_app
    from booking.extensions import db
    from booking.geo.rules import search_key, time_zone_for_departement
    from booking.geo.services import import_reference_data

    timer = Timer()
    recreate_database(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        with timer.step("schéma (migrations)"):
            upgrade()
        with timer.step("référentiel géographique"):
            import_reference_data(db.session, GEO_FIXTURE if scale.departements else None)
        with timer.step("positions des communes"):
            place_communes(db.session)
        engine = db.engine
        now = datetime.now(UTC)
        password_hash = generate_password_hash(PASSWORD, method="scrypt")
        with engine.begin() as connection:
            with timer.step("lieux, praticiens, règles, personnel"):
                communes = connection.execute(sa.text(
                    "SELECT c.insee, c.name, c.departement_code, min(p.code) AS postal_code FROM communes c "
                    "JOIN postal_codes p ON p.commune_insee = c.insee "
                    + ("WHERE c.departement_code = ANY(:departements) " if scale.departements else "")
                    + "GROUP BY c.insee, c.name, c.departement_code ORDER BY md5(c.insee) LIMIT :n"),
                    {"departements": list(scale.departements or ()), "n": scale.sites}).all()
                sites = _insert_world(connection, communes, scale, today, now, password_hash,
                                      search_key, time_zone_for_departement)
            with timer.step("créneaux (passés et à venir)"):
                slot_count = _insert_slots(connection, scale, now)
            with timer.step("patients"):
                _insert_patients(connection, scale, [c.insee for c in communes], now, search_key)
            with timer.step("rendez-vous et présences"):
                appointment_count = _insert_appointments(connection, scale, now)
        with timer.step("ANALYZE"), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
            # As docs/deploy.md asks of production (SSD, working set in memory): random reads are cheap.
            connection.execute(sa.text(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET random_page_cost = 1.1'))
        meta = {"scale": scale.name, "generated_at": now.isoformat(), "sites": len(sites),
                "communes_with_sites": len(communes), "slots": slot_count, "appointments": appointment_count,
                "communes": db.session.scalar(sa.text("SELECT count(*) FROM communes")),
                "practitioners": scale.practitioners, "seconds": timer.steps}
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)"))
            connection.execute(sa.text("INSERT INTO bench_meta VALUES ('world', :v) ON CONFLICT (key) DO UPDATE "
                                       "SET value = excluded.value"), {"v": json.dumps(meta)})
        engine.dispose()
    return meta


def place_communes(session) -> int:
    """Where the communes are (the shipped file; the test extract's lines are the same), as `flask geo
    import-positions` would; returns how many are placed."""
    from booking.database import unit_of_work
    from booking.geo.positions import SHIPPED_POSITIONS, import_positions

    with unit_of_work(session):
        return import_positions(session, SHIPPED_POSITIONS).updated


def _insert_world(connection, communes, scale, today, now, password_hash, search_key, zone_for) -> list[int]:
    t = sa.table
    c = sa.column
    site_rows = []
    for i, commune in enumerate(communes):
        kind = ("teleconsultation", "teleconsultation", "consultation_avancee", "permanence")[i % 4]
        label = {"teleconsultation": "Cabine de téléconsultation", "consultation_avancee": "Consultations avancées",
                 "permanence": "Permanence de soins"}[kind]
        site_rows.append({"kind": kind, "name": f"{label} de {commune.name}", "sms_label": commune.name[:30],
                          "address": "Place de la mairie",
                          "postal_code": commune.postal_code, "commune_insee": commune.insee,
                          "operator_commune_insee": commune.insee, "time_zone": zone_for(commune.departement_code),
                          "contact_email": f"mairie-{commune.insee}@bench.test", "equipment": "[]",
                          "accessibility": '["ramp"]', "booking_open": True,
                          "drop_in_only": False, "max_future_bookings": 2, "reminder_hours_before": 24,
                          "second_reminder_hours": 2, "created_at": now})
    site_ids = list(connection.execute(sa.insert(t("sites", *[c(k) for k in site_rows[0]]))
                                       .returning(c("id")), site_rows).scalars())
    room_ids = {}
    for index in (0, 1):
        rows = [{"site_id": site_id, "name": f"Salle {index + 1}"} for site_id in site_ids]
        ids = connection.execute(sa.insert(t("rooms", c("site_id"), c("name"))).returning(c("id")), rows).scalars()
        for site_id, room_id in zip(site_ids, ids, strict=False):
            room_ids[(site_id, index)] = room_id
    practitioner_rows = [{"first_name": FIRST_NAMES[(p * 7) % len(FIRST_NAMES)],
                          "last_name": LAST_NAMES[(p * 11) % len(LAST_NAMES)] + f"-{p % 97}",
                          "profession": PROFESSION_CYCLE[p % len(PROFESSION_CYCLE)], "consults_remotely": False,
                          "rpps": made_up_rpps(p), "created_at": now} for p in range(scale.practitioners)]
    practitioner_ids = list(connection.execute(
        sa.insert(t("practitioners", *[c(k) for k in practitioner_rows[0]])).returning(c("id")),
        practitioner_rows).scalars())
    links = _assign_half_days(site_ids, scale.practitioners)
    connection.execute(sa.insert(t("site_practitioners", c("site_id"), c("practitioner_id"), c("status"),
                                   c("accepted_at"))),
                       [{"site_id": site_ids[s], "practitioner_id": practitioner_ids[p], "status": "accepted",
                         "accepted_at": now} for p, s in sorted({(p, s) for p, s, _, _ in links})])
    first_day = today - timedelta(weeks=scale.past_weeks)
    rules = []
    for p, s, h, room in links:
        weekday, morning = HALF_DAYS[h]
        start = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
        rules.append({"practitioner_id": practitioner_ids[p], "site_id": site_ids[s],
                      "room_id": room_ids[(site_ids[s], room)], "rrule": f"FREQ=WEEKLY;BYDAY={BYDAY[weekday]}",
                      "start_date": start, "start_time": "09:00" if morning else "14:00",
                      "end_time": "12:00" if morning else "17:00", "slot_minutes": 20, "buffer_minutes": 0,
                      "capacity": 1, "modality": "on_site", "opens_days_ahead": 60, "closes_hours_before": 2,
                      # One half-day in four for unscheduled care (the SAS's until two hours before).
                      "visibility": "snp" if len(rules) % 4 == 3 else "public",
                      "snp_release_hours": 2 if len(rules) % 4 == 3 else None,
                      "active": True, "created_at": now, "updated_at": now})
    connection.execute(sa.text(
        "INSERT INTO availability_rules (practitioner_id, site_id, room_id, rrule, start_date, start_time, end_time, "
        "slot_minutes, buffer_minutes, capacity, modality, opens_days_ahead, closes_hours_before, visibility, "
        "snp_release_hours, active, created_at, updated_at) VALUES (:practitioner_id, :site_id, :room_id, :rrule, "
        ":start_date, CAST(:start_time AS time), CAST(:end_time AS time), :slot_minutes, :buffer_minutes, :capacity, "
        ":modality, :opens_days_ahead, :closes_hours_before, :visibility, :snp_release_hours, :active, :created_at, "
        ":updated_at)"), rules)
    connection.execute(sa.insert(t("sas_consumers", c("common_name"), c("organizational_unit"), c("label"),
                                   c("active"), c("created_at"))),
                       [{"common_name": SAS_CN, "organizational_unit": SAS_OU, "label": "SAS (banc d’essai)",
                         "active": True, "created_at": now}])
    users = [{"email": ADMIN_EMAIL, "role": "admin", "display_name": "Administration (banc d’essai)"}]
    for commune in communes:
        users += [{"email": f"agent-{commune.insee}@bench.test", "role": "agent", "display_name": "Agent d’accueil"},
                  {"email": f"referent-{commune.insee}@bench.test", "role": "commune_admin",
                   "display_name": "Référent de la commune"}]
    for user in users:
        user.update(password_hash=password_hash, active=True, session_token=os.urandom(16).hex(), created_at=now)
    user_ids = list(connection.execute(sa.insert(t("users", *[c(k) for k in users[0]])).returning(c("id")),
                                       users).scalars())
    connection.execute(sa.insert(t("user_communes", c("user_id"), c("commune_insee"))),
                       [{"user_id": user_ids[1 + 2 * i + k], "commune_insee": commune.insee}
                        for i, commune in enumerate(communes) for k in (0, 1)])
    return site_ids


# Which slots are booked, and how it ended: a hash of (practitioner, start) in 0..99, the same in both inserts,
# so that each slot is written once with its final booked_count (updating millions of rows afterwards is slow).
def _draw(practitioner: str, start: str) -> str:
    return f"(abs(hashtext({practitioner}::text || '@' || CAST(extract(epoch FROM {start}) AS bigint)::text)) % 100)"


BOOKED = "(({start} < :now AND {draw} BETWEEN 6 AND 74) OR ({start} >= :now AND {draw} < 30))"


def _insert_slots(connection, scale, now) -> int:
    """Every occurrence of every rule, from a year ago to the horizon, as PostgreSQL computes it."""
    weeks = scale.past_weeks + scale.future_days // 7 + 1
    connection.execute(sa.text("""
        INSERT INTO slots (rule_id, practitioner_id, site_id, room_id, starts_at, ends_at, modality, capacity,
                           booked_count, status, opens_at, closes_at, visibility, released_at, created_at, updated_at)
        SELECT r.id, r.practitioner_id, r.site_id, r.room_id, t.starts_at, t.starts_at + interval '20 minutes',
               'on_site', 1, CASE WHEN {booked} THEN 1 ELSE 0 END, 'open',
               t.starts_at - interval '60 days', t.starts_at - interval '2 hours', r.visibility,
               CASE WHEN r.visibility = 'snp' THEN t.starts_at - make_interval(hours => r.snp_release_hours) END,
               :now, :now
        FROM availability_rules r
        JOIN sites s ON s.id = r.site_id
        CROSS JOIN generate_series(0, :weeks) AS w
        CROSS JOIN generate_series(0, 8) AS k
        CROSS JOIN LATERAL (SELECT ((r.start_date + w * 7) + r.start_time + k * interval '20 minutes')
                                   AT TIME ZONE s.time_zone AS starts_at) t
        WHERE t.starts_at < :horizon
    """.format(booked=BOOKED.format(start="t.starts_at", draw=_draw("r.practitioner_id", "t.starts_at")))),
        {"weeks": weeks, "now": now, "horizon": now + timedelta(days=scale.future_days)})
    return connection.execute(sa.text("SELECT count(*) FROM slots")).scalar()


def _insert_patients(connection, scale, communes: list[str], now, search_key) -> None:
    total = scale.patients + scale.booking_pool
    connection.execute(sa.text("""
        INSERT INTO patients (first_name, last_name, search_last_name, birth_date, phone, phone_kind, commune_insee,
                              sms_consent, created_at)
        SELECT (CAST(:first AS text[]))[1 + (i * 7) % :nf],
               (CAST(:last AS text[]))[1 + (i * 13) % :nl],
               (CAST(:keys AS text[]))[1 + (i * 13) % :nl],
               date '1930-01-01' + CAST((i * 7919) % 33000 AS integer),
               CASE WHEN i % 5 = 0 THEN NULL ELSE '+3363998' || lpad((i % 10000)::text, 4, '0') END,
               CASE WHEN i % 5 = 0 THEN NULL ELSE 'mobile' END,
               (CAST(:communes AS text[]))[1 + (i * 31) % :nc],
               i % 5 <> 0, :now
        FROM generate_series(CAST(1 AS bigint), :total) AS i
    """), {"first": FIRST_NAMES, "last": LAST_NAMES, "keys": [search_key(n) for n in LAST_NAMES],
           "nf": len(FIRST_NAMES), "nl": len(LAST_NAMES), "communes": communes, "nc": len(communes),
           "now": now, "total": total})


def _insert_appointments(connection, scale, now) -> int:
    """Three slots in four booked in the past year, with outcomes; three in ten of the future ones."""
    bounds = connection.execute(sa.text("SELECT min(id), max(id) FROM patients")).one()
    regular = scale.patients  # the last booking_pool patients stay free for the booking runs
    connection.execute(sa.text("""
        INSERT INTO appointments (reference, slot_id, seat, patient_id, channel, status, created_at, cancelled_at,
                                  cancel_reason, cancelled_late, consent_recorded_at, attendance_marked_at)
        SELECT 'B' || lpad(upper(to_hex(s.id)), 7, '0'), s.id, 1,
               :first_patient + CAST((CAST(s.id AS bigint) * 2654435761) % :regular AS integer),
               (ARRAY['online', 'reception', 'phone'])[1 + s.id % 3],
               CASE WHEN s.starts_at >= :now THEN 'booked'
                    WHEN h.v < 6 THEN 'cancelled' WHEN h.v < 14 THEN 'no_show' ELSE 'attended' END,
               s.starts_at - (1 + s.id % 21) * interval '1 day',
               CASE WHEN s.starts_at < :now AND h.v < 6 THEN s.starts_at - interval '1 day' END,
               CASE WHEN s.starts_at < :now AND h.v < 6 THEN 'patient' END,
               false,
               CASE WHEN s.id % 3 <> 0 THEN s.starts_at - (1 + s.id % 21) * interval '1 day' END,
               CASE WHEN s.starts_at < :now AND h.v >= 6 THEN s.starts_at + interval '1 hour' END
        FROM slots s
        CROSS JOIN LATERAL (SELECT {draw} AS v) h
        WHERE (s.starts_at < :now AND h.v < 75) OR (s.starts_at >= :now AND h.v < 30)
    """.format(draw=_draw("s.practitioner_id", "s.starts_at"))), {"now": now, "first_patient": bounds[0],
                                                                   "regular": regular})
    return connection.execute(sa.text("SELECT count(*) FROM appointments")).scalar()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Génère un jeu de données de banc d’essai dans PostgreSQL.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", help="Base à (re)créer ; par défaut booking_bench_<échelle>.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    url = args.database_url or database_url(args.scale)
    meta = generate(SCALES[args.scale], url, datetime.now(UTC).date())
    print(json.dumps(meta, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
