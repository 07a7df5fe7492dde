"""Serve the app with gunicorn on a generated world, load it with wrk, and write the table.

    python -m bench.run --scale small [--reuse] [--seconds 10]

Needs PostgreSQL (as for the tests) and wrk (``apt-get install wrk``). Results go
to ``docs/benchmarks/<scale>.md``; each figure is also given as a ratio to the
ceilings measured in the same run (a trivial Flask endpoint under the same
gunicorn settings, a bare conditional single-row UPDATE under pgbench), so that
runs on different machines compare.
"""

import argparse
import json
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from bench.generate import ADMIN_EMAIL, ROOT, SCALES, database_url, generate
from booking import gunicorn_config as deployed
from booking.outgoing.keys import appointment_message_sql

RESULTS = ROOT / "docs" / "benchmarks"
CORES = os.cpu_count() or 2
# Reads are measured at two requests in flight per core: enough to keep every core busy, not so many that
# the figure becomes the length of the queue (wrk is a closed loop: more connections, longer waits).
READ_CONNECTIONS = 2 * CORES
PYTHON = sys.executable
# What one request may take under load before it counts as an error (wrk's own timeout).
WRK_TIMEOUT = "10s"

LUA_COMMON = r"""
local counter = 0
local thread_id = 0
local threads = {}
created, conflicts, others = 0, 0, 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status == 201 or status == 200 then created = created + 1
  elseif status == 409 then conflicts = conflicts + 1
  else others = others + 1 end
end

function done(summary, latency, requests)
  local c, k, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); k = k + t:get("conflicts"); o = o + t:get("others")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "socket_errors": %d, "ok": %d, "conflicts": %d, "others": %d, ' ..
    '"p50": %.3f, "p95": %.3f, "p99": %.3f, "mean": %.3f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    c, k, o, latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
"""

LUA_GET = r"""
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter * 7 + thread_id) % #paths + 1])
end
"""

LUA_GET_WITH_HEADERS = r"""
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter * 7 + thread_id) % #paths + 1], headers)
end
"""
LUA_BOOK = r"""
local nthreads = 0
function init(args)
  thread_id = tonumber(wrk.thread:get("thread_id"))
  nthreads = tonumber(args[1])
end
function request()
  local i = counter * nthreads + thread_id
  counter = counter + 1
  local slot = slots[(i % #slots) + 1]
  local patient = patients[(i % #patients) + 1]
  local body = string.format('{"slot_id": %d, "patient_id": %d, "channel": "phone", "consent": true}', slot, patient)
  return wrk.format("POST", "/api/v1/appointments",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""


@dataclass
class Row:
    name: str
    requests: int = 0
    throughput: float = 0.0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int = 0
    ratio: str = ""
    target: str = ""
    verdict: str = ""
    notes: list[str] = field(default_factory=list)


def _say(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)


def _n(number: int) -> str:
    """A count with French digit grouping."""
    return f"{number:,}".replace(",", "\u202f")


def _lua_list(values) -> str:
    return "{" + ", ".join(json.dumps(v) if isinstance(v, str) else str(v) for v in values) + "}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port}")


class Gunicorn:
    """gunicorn as deployed (`booking.gunicorn_config`) on 127.0.0.1; ready once every worker has loaded the app."""

    def __init__(self, target: str, env: dict):
        self.port = _free_port()
        self.ready = tempfile.TemporaryDirectory(prefix="bench-ready-")
        self.process = subprocess.Popen(
            # The deployed settings (booking.gunicorn_config, through bench.gunicorn_ready): a connection per request,
            # as behind nginx.
            [str(Path(PYTHON).parent / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "--backlog", "2048", "--config", "python:bench.gunicorn_ready", target],
            env=dict(env, BENCH_READY_DIR=self.ready.name), cwd=ROOT)
        _wait_for(self.port)
        deadline = time.monotonic() + 120
        while len(os.listdir(self.ready.name)) < deployed.workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn's workers did not start")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{self.port}"

    def worker_peak_memory_mib(self) -> float:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        peaks = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks) if peaks else 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.ready.cleanup()


def wrk(url: str, script: str, seconds: int, connections: int, args: tuple = (), warm_up: bool = False) -> dict:
    """Run wrk with a Lua script; with ``warm_up``, an unmeasured run first (templates, pools, query plans)."""
    if warm_up:
        wrk(url, script, 2, connections, args)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    threads = min(CORES, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", WRK_TIMEOUT,
               "-s", handle.name, url, "--", str(threads), *map(str, args)]
    run = subprocess.run(command, capture_output=True, text=True)
    os.unlink(handle.name)
    line = next((line for line in run.stdout.splitlines() if line.startswith("RESULT ")), None)
    if run.returncode or line is None:
        raise RuntimeError(f"wrk failed: {run.stdout[-2000:]} {run.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def _sas_certificate() -> str:
    """A client certificate with the CN and OU the generated world admits (self-signed: nginx would have checked
    the chain; the application reads the subject)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from bench.generate import SAS_CN, SAS_OU

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SAS_CN),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SAS_OU)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _interpreter() -> str:
    """Which build of Python served: a distribution's (optimised with PGO and LTO, as deployed by docs/deploy.md)
    or one compiled without those options (pyenv's default), slower by about a fifth on these pages."""
    return os.path.realpath(PYTHON)


def _row(name: str, result: dict, ceiling: float | None = None, target: str = "", ok: bool | None = None) -> Row:
    throughput = result["requests"] / result["seconds"]
    errors = result["socket_errors"] + result["others"]
    row = Row(name, result["requests"], throughput, result["p50"], result["p95"], result["p99"], errors,
              target=target)
    if ceiling:
        row.ratio = f"{throughput / ceiling:.2f}"
    if ok is not None:
        row.verdict = "atteint" if ok else "manqué"
    return row


class Bench:
    def __init__(self, scale: str, seconds: int):
        self.scale = SCALES[scale]
        self.seconds = seconds
        self.url = database_url(scale)
        self.engine = sa.create_engine(self.url)
        self.rows: list[Row] = []
        self.facts: dict[str, str] = {}
        # TRUSTED_PROXIES: the SAS's client certificate arrives as nginx passes it (wrk plays nginx).
        self.env = dict(os.environ, DATABASE_URL=self.url, RATELIMIT_ENABLED="0", SMS_BACKEND="log",
                        MAIL_BACKEND="log", SECRET_KEY="bench-secret", PYTHONPATH=str(ROOT), TRUSTED_PROXIES="1")

    # --- data ------------------------------------------------------------------------------------------

    def world(self) -> dict:
        with self.engine.connect() as connection:
            return json.loads(connection.execute(sa.text("SELECT value FROM bench_meta WHERE key = 'world'")).scalar())

    def app(self):
        from booking import create_app

        return create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SMS_BACKEND": "log", "MAIL_BACKEND": "log"})

    def bring_up_to_date(self) -> str:
        """A reused base gets the migrations written since it was generated, and the communes' positions if it
        was generated before them."""
        from flask_migrate import upgrade

        from bench.generate import place_communes
        from booking.extensions import db
        from booking.geo.positions import count_placed

        with self.app().app_context():
            upgrade()
            placed = count_placed(db.session)
            said = f"{placed} communes placées" if placed else f"{place_communes(db.session)} communes placées"
            db.engine.dispose()
        return said

    def undo_earlier_runs(self) -> int:
        """Take back what earlier runs on this base booked (their appointments, messages, audit events and seats):
        a reused base then starts every run as generated, with its pool of free patients and slots whole."""
        with self.engine.begin() as connection:
            connection.execute(sa.text(
                "CREATE TEMP TABLE bench_gone ON COMMIT DROP AS SELECT a.id, a.slot_id, a.status FROM appointments a "
                "JOIN users u ON u.id = a.booked_by_id WHERE u.email = :admin"), {"admin": ADMIN_EMAIL})
            gone, outbox = sa.table("bench_gone", sa.column("id")), sa.table("notifications", sa.column("group_key"))
            # The appointments' message groups, keyed as the application keys them.
            connection.execute(sa.delete(outbox).where(outbox.c.group_key.in_(
                sa.select(appointment_message_sql(gone.c.id)))))
            connection.execute(sa.text(
                "DELETE FROM audit_events WHERE action LIKE 'appointment.%' "
                "AND user_id = (SELECT id FROM users WHERE email = :admin)"), {"admin": ADMIN_EMAIL})
            connection.execute(sa.text(
                "UPDATE slots s SET booked_count = s.booked_count - g.seats FROM (SELECT slot_id, count(*) AS seats "
                "FROM bench_gone WHERE status <> 'cancelled' GROUP BY slot_id) g WHERE s.id = g.slot_id"))
            return connection.execute(sa.text("DELETE FROM appointments WHERE id IN (SELECT id FROM bench_gone)")
                                      ).rowcount

    def token(self) -> str:
        from booking.api.services import create_token
        from booking.database import unit_of_work
        from booking.extensions import db

        with self.app().app_context():
            with unit_of_work():
                token = create_token(db.session, ADMIN_EMAIL, "banc d’essai", datetime.now(UTC))
            db.engine.dispose()
        return token

    def targets(self) -> dict:
        now = datetime.now(UTC)
        with self.engine.connect() as connection:
            searches = connection.execute(sa.text(
                "SELECT DISTINCT s.commune_insee, c.name, p.profession FROM sites s "
                "JOIN communes c ON c.insee = s.commune_insee "
                "JOIN site_practitioners sp ON sp.site_id = s.id JOIN practitioners p ON p.id = sp.practitioner_id "
                "ORDER BY 1, 3 LIMIT 2000")).all()
            sites = connection.execute(sa.text("SELECT id FROM sites ORDER BY id LIMIT 2000")).scalars().all()
            free = connection.execute(sa.text(
                "SELECT id FROM slots WHERE status = 'open' AND booked_count = 0 AND opens_at <= :now "
                "AND closes_at > :later AND visibility = 'public' ORDER BY md5(id::text) LIMIT 30000"),
                {"now": now, "later": now + timedelta(hours=1)}).scalars().all()
            # The bench's own patients who hold no upcoming appointment: earlier runs' bookings would otherwise
            # make the per-profession limit refuse more of each run's bookings than the last.
            patients = connection.execute(sa.text(
                "SELECT p.id FROM patients p WHERE p.id > (SELECT min(id) FROM patients) + :regular "
                "AND NOT EXISTS (SELECT 1 FROM appointments a JOIN slots s ON s.id = a.slot_id "
                "WHERE a.patient_id = p.id AND a.status = 'booked' AND s.starts_at > :now) ORDER BY p.id"),
                {"regular": self.scale.patients, "now": now}).scalars().all()
            # Practitioners with slots in the coming two working days, by 25: what a regulator asks in one search.
            tomorrow = datetime.combine((now + timedelta(days=1)).date(), datetime.min.time(), tzinfo=UTC)
            while tomorrow.weekday() >= 5:
                tomorrow += timedelta(days=1)
            rpps = connection.execute(sa.text(
                "SELECT p.rpps FROM practitioners p WHERE p.rpps IS NOT NULL AND EXISTS (SELECT 1 FROM slots s "
                "WHERE s.practitioner_id = p.id AND s.starts_at >= :start AND s.starts_at < :end) "
                "ORDER BY md5(p.id::text) LIMIT 2500"),
                {"start": tomorrow, "end": tomorrow + timedelta(days=2)}).scalars().all()
        size = min(25, len(rpps))  # a small world has fewer than 25 practitioners on some days
        sas = [rpps[i:i + size] for i in range(0, len(rpps) - size + 1, size)] if size else []
        return {"searches": searches, "sites": sites, "free": free, "patients": patients, "sas": sas,
                "sas_period": (tomorrow, tomorrow + timedelta(days=2))}

    # --- scenarios ---------------------------------------------------------------------------------------

    def ceilings(self) -> tuple[float, float]:
        server = Gunicorn("bench.ceiling:app", self.env)
        try:
            result = wrk(server.url, LUA_COMMON + "paths = {'/ping'}\n" + LUA_GET, self.seconds, 32)
        finally:
            server.stop()
        flask_ceiling = result["requests"] / result["seconds"]
        self.rows.append(_row("Plafond Flask : point d’accès trivial", result))
        with self.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_ceiling (id int PRIMARY KEY, n int NOT NULL)"))
            connection.execute(sa.text("INSERT INTO bench_ceiling SELECT i, 0 FROM generate_series(1, 10000) i "
                                       "ON CONFLICT DO NOTHING"))
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write("\\set id random(1, 10000)\nUPDATE bench_ceiling SET n = n + 1 WHERE id = :id AND n >= 0;\n")
        name = self.url.rsplit("/", 1)[1]
        output = subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", "8", "-j", str(CORES),
                                 "-T", str(self.seconds), "-f", script.name, name],
                                capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
        tps = float(next(line for line in output.splitlines() if line.startswith("tps")).split()[2])
        latency = next((line for line in output.splitlines() if "latency average" in line), "")
        row = Row("Plafond PostgreSQL : UPDATE conditionnel d’une ligne (pgbench, 8 clients)",
                  int(tps * self.seconds), tps)
        row.p50 = float(latency.split("=")[1].split()[0]) if latency else None
        self.rows.append(row)
        return flask_ceiling, tps

    def prewarm(self) -> None:
        """Read the tables and indexes into memory: a production database keeps its working set there.

        Into PostgreSQL's own buffers when the base fits in them (this machine's kernel reclaims the page cache
        that was not touched for a minute, and a slot read from disk then costs a search its p95), otherwise
        into the OS cache.
        """
        with self.engine.begin() as connection:
            try:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            except sa.exc.DBAPIError:
                return
            fits = connection.execute(sa.text(
                "SELECT pg_database_size(current_database()) < setting::bigint * 8192 * 0.9 "
                "FROM pg_settings WHERE name = 'shared_buffers'")).scalar()
            connection.execute(sa.text(
                "SELECT sum(pg_prewarm(c.oid::regclass, :mode)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"),
                {"mode": "buffer" if fits else "prefetch"})

    def web(self, targets: dict, token: str, flask_ceiling: float, db_ceiling: float) -> None:
        self.prewarm()
        server = Gunicorn("booking:create_app()", self.env)
        try:
            paths = ["/recherche?" + urlencode({"commune": name, "insee": insee, "profession": profession})
                     for insee, name, profession in targets["searches"]]
            result = wrk(server.url, LUA_COMMON + f"paths = {_lua_list(paths)}\n" + LUA_GET, self.seconds,
                         READ_CONNECTIONS, warm_up=True)
            self.rows.append(_row("Recherche publique (commune + profession), page HTML", result, flask_ceiling,
                                  "p95 < 50 ms", result["p95"] < 50 and result["others"] == 0))
            paths = [f"/lieux/{site}/creneaux" for site in targets["sites"]]
            result = wrk(server.url, LUA_COMMON + f"paths = {_lua_list(paths)}\n" + LUA_GET, self.seconds,
                         READ_CONNECTIONS, warm_up=True)
            self.rows.append(_row("Grille des créneaux d’un lieu (semaine), page HTML", result, flask_ceiling,
                                  "p95 < 50 ms", result["p95"] < 50 and result["others"] == 0))
            paths = [f"/api/v1/slots?site_id={site}" for site in targets["sites"]]
            result = wrk(server.url, LUA_COMMON + f"paths = {_lua_list(paths)}\n" + LUA_GET, self.seconds,
                         READ_CONNECTIONS, warm_up=True)
            self.rows.append(_row("API : créneaux libres d’un lieu (14 jours)", result, flask_ceiling,
                                  "p95 < 50 ms", result["p95"] < 50 and result["others"] == 0))

            self.sas_search(server, targets, flask_ceiling)

            free, patients = targets["free"], targets["patients"]
            if len(patients) < 2:
                raise SystemExit("Les patients réservés au banc ont tous un rendez-vous à venir : régénérez la base "
                                 "(python -m bench.generate).")
            contended, free = free[:10], free[10:]
            half = len(patients) // 2
            spread_script = (LUA_COMMON + f"token = {json.dumps(token)}\nslots = {_lua_list(free)}\n"
                             f"patients = {_lua_list(patients[:half])}\n" + LUA_BOOK)
            result = wrk(server.url, spread_script, self.seconds, 16)
            booked = result["ok"]
            row = _row("Réservation (API), créneaux tous différents", result, flask_ceiling,
                       "≥ 333/s, p95 < 100 ms", booked / result["seconds"] >= 333 and result["p95"] < 100)
            row.notes.append(f"{booked} réservations ; {result['conflicts']} refus 409 ; "
                             f"ratio au plafond PostgreSQL {result['requests'] / result['seconds'] / db_ceiling:.2f}")
            self.rows.append(row)
            per_core = booked / result["seconds"] / CORES
            self.facts["Cœurs pour 333 réservations/s (pic national du 12 juillet 2021)"] = (
                f"{333 / per_core:.1f} cœurs de cette machine ({per_core:.0f} réservations/s par cœur, avec wrk et "
                f"PostgreSQL sur les mêmes cœurs)" if per_core else "—")

            contended_script = (LUA_COMMON + f"token = {json.dumps(token)}\nslots = {_lua_list(contended)}\n"
                                f"patients = {_lua_list(patients[half:])}\n" + LUA_BOOK)
            result = wrk(server.url, contended_script, max(3, self.seconds // 2), 200)
            winners = self._winners(contended)
            exact = winners == {slot: 1 for slot in contended} and result["ok"] == len(contended)
            row = _row("Réservation contestée : 200 clients sur 10 créneaux", result, None,
                       "exactement 1 gagnant par créneau", exact and self._double_bookings() == 0)
            row.notes.append(f"{result['ok']} réussies, {result['conflicts']} refus 409, "
                             f"doubles réservations dans toute la base : {self._double_bookings()}")
            self.rows.append(row)
            self.facts["Mémoire max d’un worker web (VmHWM)"] = f"{server.worker_peak_memory_mib():.0f} Mio"
        finally:
            server.stop()

    def sas_search(self, server, targets: dict, flask_ceiling: float) -> None:
        """The SAS's search: 25 practitioners over 48 hours, the client certificate passed on as nginx does."""
        if not targets["sas"]:
            self.rows.append(Row("SAS : recherche de créneaux, 25 praticiens sur 48 h", notes=[
                "aucun praticien avec des créneaux dans les deux jours ouvrés à venir"]))
            return
        start, end = targets["sas_period"]
        paths = ["/fhir/sas/Slot?" + urlencode([
            ("_include", "Slot:schedule"), ("_include:iterate", "Schedule:actor"),
            ("start", f"ge{start.isoformat()}"), ("start", f"le{end.isoformat()}"),
            ("schedule.actor:Practitioner.identifier", ",".join(f"urn:oid:1.2.250.1.71.4.2.1|8{rpps}"
                                                               for rpps in group)),
            ("status", "free")]) for group in targets["sas"]]
        headers = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Cert": quote(_sas_certificate())}
        script = (LUA_COMMON + f"paths = {_lua_list(paths)}\nheaders = {{"
                  + ", ".join(f'["{name}"] = {json.dumps(value)}' for name, value in headers.items()) + "}\n"
                  + LUA_GET_WITH_HEADERS)
        result = wrk(server.url, script, self.seconds, READ_CONNECTIONS, warm_up=True)
        row = _row("SAS : recherche de créneaux, 25 praticiens sur 48 h (FHIR, Bundle avec inclusions)", result,
                   flask_ceiling, "p95 < 100 ms", result["p95"] < 100 and result["others"] == 0)
        row.notes.append(f"{len(paths)} recherches différentes de {len(targets['sas'][0])} praticiens, du "
                         f"{start:%d/%m} au {end:%d/%m} ; certificat client transmis par en-têtes (nginx)")
        self.rows.append(row)

    def _winners(self, slot_ids: list[int]) -> dict[int, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT slot_id, count(*) FROM appointments WHERE status = 'booked' AND slot_id = ANY(:ids) "
                "GROUP BY slot_id"), {"ids": slot_ids}).all()
        return {slot: count for slot, count in rows}

    def _double_bookings(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM slots s WHERE (SELECT count(*) FROM appointments a WHERE a.slot_id = s.id "
                "AND a.status <> 'cancelled') > s.capacity OR s.booked_count > s.capacity")).scalar()

    def dispatcher(self, messages: int) -> None:
        stub = subprocess.Popen([PYTHON, "-c", (
            "import time; from tests.twilio_stub import TwilioStub; stub = TwilioStub(delay_seconds=0.05).start(); "
            "print(stub.url, flush=True); time.sleep(10**6)")], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        stub_url = stub.stdout.readline().strip()
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM notifications WHERE dedupe_key LIKE 'bench:%'"))
            connection.execute(sa.text(
                "INSERT INTO notifications (channel, recipient, body, due_at, status, dedupe_key, attempts, "
                "created_at, updated_at) SELECT 'sms', '+3363998' || lpad((i % 10000)::text, 4, '0'), "
                "'Banc d''essai : message n° ' || i, :now, 'pending', 'bench:' || i, 0, :now, :now "
                "FROM generate_series(1, :n) i"), {"now": now, "n": messages})
        code = (
            "import json, sys, time; from datetime import datetime, timezone; from booking import create_app; "
            "from notifications.setup import prepare_dispatch, run_dispatch; app = create_app(); "
            "ctx = app.app_context(); ctx.push(); prepare_dispatch(); "  # as the scheduler, once at its start
            "start = time.perf_counter(); report = run_dispatch(datetime.now(timezone.utc)); "
            "print(json.dumps({'seconds': time.perf_counter() - start, 'sent': report.sent, "
            "'failed': report.failed}))")
        env = dict(self.env, SMS_BACKEND="twilio", TWILIO_API_BASE_URL=stub_url,
                   TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="bench",
                   TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
        try:
            output = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
            result = json.loads(output.stdout.strip().splitlines()[-1])
            import urllib.request

            with urllib.request.urlopen(f"{stub_url}/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages.json") as answer:
                accepted = json.load(answer)["messages"]
        finally:
            stub.terminate()
        bodies = [m["body"] for m in accepted if m["body"].startswith("Banc d")]
        with self.engine.connect() as connection:
            sent, senders = connection.execute(sa.text(
                "SELECT count(*), count(DISTINCT claimed_by) FROM notifications "
                "WHERE dedupe_key LIKE 'bench:%' AND status = 'sent'")).one()
        rate = result["sent"] / result["seconds"]
        exact = len(bodies) == len(set(bodies)) == messages == sent
        row = Row("Envoi des SMS (dispatcher → bouchon Twilio local qui répond en 50 ms)", messages, rate,
                  target="≥ 1 000 SMS/s", verdict="atteint" if rate >= 1000 and exact else "manqué")
        row.notes.append(f"{len(bodies)} reçus par le bouchon, {len(set(bodies))} distincts, {sent} marqués envoyés, "
                         f"par {senders} processus")
        self.rows.append(row)

    def in_process(self) -> None:
        from booking.extensions import db
        from booking.slots.services import extend_horizon
        from booking.stats.report import previous_month, send_monthly_reports
        from booking.stats.services import compute

        app = self.app()
        now = datetime.now(UTC)
        with app.app_context():
            busiest = db.session.execute(sa.text(
                "SELECT site.operator_commune_insee FROM appointments a JOIN slots s ON s.id = a.slot_id "
                "JOIN sites site ON site.id = s.site_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
            today = now.date()
            timings = []
            for _ in range(6):
                start = time.perf_counter()
                compute(db.session, busiest, today - timedelta(days=365), today, now)
                timings.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
            median = statistics.median(timings[1:])
            row = Row("Statistiques d’une commune sur 12 mois (la plus active)", 5, 1000 / median, p50=median,
                      target="< 300 ms", verdict="atteint" if median < 300 else "manqué")
            row.notes.append(f"commune {busiest}, médiane de 5 calculs après un premier")
            self.rows.append(row)

            db.session.execute(sa.text("DELETE FROM report_deliveries"))
            db.session.execute(sa.text("DELETE FROM notifications WHERE dedupe_key LIKE 'report:%'"))
            db.session.commit()
            year, month = previous_month(today)
            start = time.perf_counter()
            done = send_monthly_reports(db.session, year, month, now, processes=app.config["REPORT_PROCESSES"])
            seconds = time.perf_counter() - start
            row = Row(f"Rapports mensuels de toutes les communes ({len(done)})", len(done), len(done) / seconds,
                      target="< 5 min", verdict="atteint" if seconds < 300 else "manqué")
            row.notes.append(f"{seconds:.1f} s au total (statistiques, PDF et CSV de chaque commune)")
            self.rows.append(row)

            self.access_figures(db.session, now)

            later = now + timedelta(days=7)
            start = time.perf_counter()
            created = extend_horizon(db.session, later)
            seconds = time.perf_counter() - start
            row = Row("`slots extend` sur toute la base (une semaine de plus)", created, created / seconds)
            row.notes.append(f"{created} créneaux créés en {seconds:.1f} s")
            self.rows.append(row)
            db.engine.dispose()

    def access_figures(self, session, now: datetime) -> None:
        """Every département's access figures, every profession offered (what élus read on the map page)."""
        from booking.stats.access import DEFAULT_PROFESSION, departement_figures, territory_access

        codes = session.scalars(sa.select(sa.text("code")).select_from(sa.text("departements")).order_by(
            sa.text("code"))).all()
        durations, figures = {}, 0
        started = time.perf_counter()
        for code in codes:
            start = time.perf_counter()
            figures += len(departement_figures(session, code, now))
            durations[code] = time.perf_counter() - start
        total = time.perf_counter() - started
        session.rollback()
        slowest = max(durations, key=durations.get)
        row = Row(f"Accès aux soins de tous les départements ({len(codes)}), toutes professions", len(codes),
                  len(codes) / total, target="< 5 min", verdict="atteint" if total < 300 else "manqué")
        row.notes.append(f"{total:.1f} s au total, {figures} jeux de chiffres (département × profession) ; le plus "
                         f"long : {slowest} en {durations[slowest]:.2f} s")
        self.rows.append(row)
        timings = []
        for _ in range(4):
            start = time.perf_counter()
            territory_access(session, DEFAULT_PROFESSION, now, departement=slowest)
            timings.append((time.perf_counter() - start) * 1000)
        median = statistics.median(timings[1:])
        row = Row("Carte d’un département (le plus long), une profession", 3, 1000 / median, p50=median,
                  target="< 2 s", verdict="atteint" if median < 2000 else "manqué")
        row.notes.append(f"département {slowest}, médiane de 3 calculs après un premier")
        self.rows.append(row)
        session.rollback()

    def scheduler_memory(self) -> None:
        code = ("import resource; from booking import create_app; app = create_app(); "
                "result = app.test_cli_runner().invoke(args=['scheduler', '--once']); "
                "print(result.output); print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        output = subprocess.run([PYTHON, "-c", code], env=self.env, capture_output=True, text=True, check=True,
                                cwd=ROOT).stdout
        kib = int(next(line for line in output.splitlines() if line.startswith("MAXRSS")).split()[1])
        self.facts["Mémoire max du planificateur (`scheduler --once`, toutes les tâches)"] = f"{kib / 1024:.0f} Mio"

    # --- report ------------------------------------------------------------------------------------------

    def write(self, world: dict, command: str, started: float, folder: Path = RESULTS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.scale.name}.md"
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), platform.processor())
        memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        with self.engine.connect() as connection:
            buffers = connection.execute(sa.text("SHOW shared_buffers")).scalar()
        lines = [f"# Banc d’essai — échelle « {self.scale.name} »", "",
                 f"- Date : {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                 f"- Machine : {CORES} cœurs ({cpu}), {memory_gib:.0f} Gio, "
                 f"Python {platform.python_version()} ({_interpreter()}), PostgreSQL local (shared_buffers {buffers})",
                 f"- Commande : `{command}`",
                 f"- Serveur : gunicorn, {deployed.workers} workers × {deployed.threads} threads "
                 f"({deployed.worker_class}, {deployed.worker_connections} connexions par worker) ; charge : wrk "
                 f"sur la même machine ; {self.seconds} s par scénario",
                 f"- Données : {_n(world['communes'])} communes, {_n(world['sites'])} lieux, "
                 f"{_n(world['practitioners'])} praticiens, {_n(world['slots'])} créneaux, "
                 f"{_n(world['appointments'])} rendez-vous",
                 f"- Durée totale du banc : {time.monotonic() - started:.0f} s", "",
                 "| scénario | requêtes | débit (/s) | p50 (ms) | p95 (ms) | p99 (ms) | erreurs | ratio au plafond "
                 "| objectif | verdict |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]

        def ms(value):
            return "" if value is None else f"{value:.1f}"

        for row in self.rows:
            lines.append(f"| {row.name} | {row.requests} | {row.throughput:.0f} | {ms(row.p50)} | {ms(row.p95)} | "
                         f"{ms(row.p99)} | {row.errors} | {row.ratio} | {row.target} | {row.verdict} |")
        lines.append("")
        for row in self.rows:
            for note in row.notes:
                lines.append(f"- {row.name} : {note}")
        for name, value in self.facts.items():
            lines.append(f"- {name} : {value}")
        path.write_text("\n".join(lines) + "\n")
        return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Banc d’essai : charge HTTP, SMS, statistiques, horizon.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--reuse", action="store_true", help="Garder la base déjà générée.")
    parser.add_argument("--seconds", type=int, default=10, help="Durée de chaque scénario de charge.")
    parser.add_argument("--messages", type=int, default=3000, help="SMS envoyés par le dispatcher.")
    parser.add_argument("--output", type=Path, default=RESULTS, help="Dossier du tableau produit.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} est introuvable : apt-get install -y {'wrk' if tool == 'wrk' else 'postgresql-client'}")
    started = time.monotonic()
    bench = Bench(args.scale, args.seconds)
    if not args.reuse:
        generate(SCALES[args.scale], bench.url, datetime.now(UTC).date())
    logging.getLogger("booking").setLevel(logging.WARNING)
    world = bench.world()
    if args.reuse:
        _say(f"Base mise à jour : {bench.bring_up_to_date()}")
        _say(f"Réservations des passages précédents retirées : {bench.undo_earlier_runs()}")
    _say("Plafonds…")
    flask_ceiling, db_ceiling = bench.ceilings()
    targets, token = bench.targets(), bench.token()
    _say("Charge HTTP…")
    bench.web(targets, token, flask_ceiling, db_ceiling)
    _say("Dispatcher…")
    bench.dispatcher(args.messages)
    _say("Statistiques, rapports, horizon…")
    bench.in_process()
    bench.scheduler_memory()
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    path = bench.write(world, command.strip(), started, args.output)
    print(path.read_text())


if __name__ == "__main__":
    main()
