"""The benchmark harness itself runs end to end (briefly), so that it keeps working."""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def test_the_small_benchmark_runs_and_writes_its_table(tmp_path, monkeypatch):
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: apt-get install wrk (done by .ci/run)")
    name = f"booking_bench_test_{secrets.token_hex(4)}"
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    env = dict(os.environ, BENCH_DATABASE_URL=url, BENCH_POSTGRES_URL=POSTGRES_ADMIN_URL, PYTHONPATH=str(ROOT))
    try:
        run = subprocess.run([sys.executable, "-m", "bench.run", "--scale", "small", "--seconds", "2",
                              "--messages", "300", "--output", str(tmp_path)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        _a_reused_base_starts_as_generated(url, monkeypatch)
    finally:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    table = (tmp_path / "small.md").read_text()
    assert "Réservation contestée : 200 clients sur 10 créneaux" in table
    contended = next(line for line in table.splitlines() if line.startswith("| Réservation contestée"))
    assert contended.endswith("| atteint |")  # exactly one winner per slot, no double booking anywhere
    sms = next(line for line in table.splitlines() if line.startswith("- Envoi des SMS"))
    assert "300 reçus par le bouchon, 300 distincts, 300 marqués envoyés" in sms


def _a_reused_base_starts_as_generated(url: str, monkeypatch) -> None:
    """``--reuse`` takes back the bookings of the runs before it: seats, messages and audit events included."""
    from bench.generate import ADMIN_EMAIL
    from bench.run import Bench

    monkeypatch.setenv("BENCH_DATABASE_URL", url)
    bench = Bench("small", 2)
    try:
        assert bench.undo_earlier_runs() > 0  # the run above booked
        with bench.engine.connect() as connection:
            left = connection.execute(sa.text(
                "SELECT (SELECT count(*) FROM appointments a JOIN users u ON u.id = a.booked_by_id "
                "WHERE u.email = :admin), (SELECT count(*) FROM audit_events e JOIN users u ON u.id = e.user_id "
                "WHERE u.email = :admin AND e.action = 'appointment.book'), "
                "(SELECT count(*) FROM notifications n WHERE n.group_key LIKE 'appointment:%' "
                "AND NOT EXISTS (SELECT 1 FROM appointments a WHERE n.group_key = 'appointment:' || a.id)), "
                "(SELECT count(*) FROM slots s WHERE s.booked_count <> (SELECT count(*) FROM appointments a "
                "WHERE a.slot_id = s.id AND a.status <> 'cancelled'))"), {"admin": ADMIN_EMAIL}).one()
        assert tuple(left) == (0, 0, 0, 0)
    finally:
        bench.engine.dispose()
