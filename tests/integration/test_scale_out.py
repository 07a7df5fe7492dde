"""Several servers on one database: shared rate limits, no double booking, one scheduler at a time."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import notifications
from booking.api.services import create_token
from booking.appointments.models import Appointment
from booking.database import unit_of_work
from booking.jobs.models import JobLease
from booking.slots.models import Slot
from notifications.models import Notification
from tests import builders
from tests.conftest import TWILIO

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
SERVER = """
import sys
from werkzeug.serving import make_server
from booking import create_app
app = create_app({"WTF_CSRF_ENABLED": False})
make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True).serve_forever()
"""


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(port: int, login: str) -> int:
    data = urllib.parse.urlencode({"login": login, "password": "pas le bon"}).encode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/connexion", data=data, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server died at start"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_login_limits_are_shared_between_two_servers(database_url, tmp_path):
    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    prefix = f"test-{uuid.uuid4().hex}"
    env = dict(os.environ, DATABASE_URL=database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
               RATELIMIT_KEY_PREFIX=prefix, SECRET_KEY="shared-secret")
    ports = [_port(), _port()]
    servers = [subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port, server in zip(ports, servers, strict=False):
            _wait_for_port(port, server)
        # 20 failed logins a minute per IP: ten on each server, then the next one is refused by either.
        statuses = [_post(ports[i % 2], f"personne{i}@example.test") for i in range(20)]
        assert statuses == [200] * 20
        assert _post(ports[0], "encore@example.test") == 429
        assert _post(ports[1], "encore@example.test") == 429
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def _book(port: int, token: str, slot_id: int, patient_id: int) -> int:
    body = json.dumps({"slot_id": slot_id, "patient_id": patient_id, "channel": "phone", "consent": True}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/appointments", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_gunicorn_servers_book_concurrently_without_double_booking(app, session, world, database_url, tmp_path):
    if not _redis_up():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    start = datetime.now(UTC) + timedelta(days=3)
    slots = [builders.make_slot(session, world.practitioner_a, world.site_a, start + timedelta(hours=i))
             for i in range(5)]
    patients = [builders.make_patient(session, last_name=f"Patiente{i}") for i in range(60)]
    with unit_of_work(session):
        token = create_token(session, world.agent_a.email, "deux serveurs", datetime.now(UTC))
    slot_ids, patient_ids = [s.id for s in slots], [p.id for p in patients]
    session.commit()
    session.close()  # SQLite: no transaction of ours may hold the database while the servers write
    env = dict(os.environ, DATABASE_URL=database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
               RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}", API_RATE_LIMIT="40 per minute",
               SECRET_KEY="shared-secret", SMS_BACKEND="log")
    ports = [_port(), _port()]
    servers = [_start([GUNICORN, "--workers", "2", "--threads", "4", "--worker-class", "gthread",
                       "--bind", f"127.0.0.1:{port}", "booking:create_app()"], env, tmp_path / f"server{port}.log")
               for port in ports]
    try:
        for port, server in zip(ports, servers, strict=False):
            _wait_for_port(port, server)
        # 60 clients at once, half through each server, on 5 slots: 40 get past the shared limit.
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(lambda i: _book(ports[i % 2], token, slot_ids[i % 5], patient_ids[i]),
                                     range(60)))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    assert statuses.count(201) == 5
    assert statuses.count(429) == 20, statuses  # one limit for both servers, kept in Redis
    assert statuses.count(409) == 35
    booked = session.execute(select(Appointment.slot_id, func.count()).where(Appointment.status == "booked",
                                                                             Appointment.slot_id.in_(slot_ids))
                             .group_by(Appointment.slot_id)).all()
    assert sorted(booked) == [(slot_id, 1) for slot_id in sorted(slot_ids)]
    assert {s.booked_count for s in session.scalars(select(Slot).where(Slot.id.in_(slot_ids)))} == {1}


def _enqueue(session, batch: str, count: int) -> None:
    now = datetime.now(UTC)
    for i in range(count):
        notifications.enqueue(session, channel="sms", recipient=f"+336399800{i:02d}", body=f"Lot {batch}, message {i}",
                              due_at=now, dedupe_key=f"{batch}:{i}")
    session.commit()
    session.close()


def _wait_until_sent(session, batch: str, count: int, seconds: float) -> float:
    """Wait until every message of a batch is sent; return how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        sent = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.dedupe_key.like(f"{batch}:%"), Notification.status == "sent"))
        session.close()
        if sent == count:
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"batch {batch}: {sent} of {count} sent after {seconds} s")


def _holder(session) -> str | None:
    lease = session.get(JobLease, "scheduler")
    holder = lease.holder if lease else None
    session.close()
    return holder


def _logged(path, text: str, seconds: float = 10) -> bool:
    """Whether the process writes ``text`` to its log within ``seconds``.

    The dispatcher logs its report after committing what it sent: the database may show the messages
    sent a moment before the line reaches the file.
    """
    deadline = time.monotonic() + seconds
    while text not in path.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.twilio
def test_one_scheduler_runs_the_jobs_and_another_takes_over_when_it_is_killed(app, session, twilio_stub,
                                                                              database_url, tmp_path):
    lease_seconds = 3
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="shared-secret", SMS_BACKEND="twilio",
               TWILIO_API_BASE_URL=twilio_stub.url, SCHEDULER_LEASE_SECONDS=str(lease_seconds),
               SCHEDULER_DISPATCH_SECONDS="1", **TWILIO)
    command = [sys.executable, "-m", "flask", "--app", "booking", "scheduler"]
    first = _start(command, env, tmp_path / "first.log")
    second = None
    try:
        deadline = time.monotonic() + 30
        while _holder(session) is None or f":{first.pid}:" not in _holder(session):
            assert time.monotonic() < deadline and first.poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.2)
        second = _start(command, env, tmp_path / "second.log")
        time.sleep(2)  # the second one is up and asking for the lease
        _enqueue(session, "avant", 20)
        _wait_until_sent(session, "avant", 20, 30)
        assert f":{first.pid}:" in _holder(session)
        assert _logged(tmp_path / "first.log", "envoyés")
        assert "envoyés" not in (tmp_path / "second.log").read_text()

        first.send_signal(signal.SIGKILL)  # no clean shutdown: the lease must expire
        first.wait(timeout=10)
        _enqueue(session, "apres", 20)
        took = _wait_until_sent(session, "apres", 20, 30)
        assert took < lease_seconds + 10  # lease expiry, then the next one-second dispatch (slack for a busy CI)
        assert f":{second.pid}:" in _holder(session)
        assert _logged(tmp_path / "second.log", "envoyés")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    bodies = [post.form["Body"] for post in twilio_stub.posts()]
    assert len(bodies) == len(set(bodies)) == 40  # none lost, none sent twice
