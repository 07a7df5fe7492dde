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


def test_the_small_benchmark_runs_and_writes_its_table(tmp_path):
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
