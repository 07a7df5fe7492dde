"""gunicorn settings file of the bench: the deployed settings, and each worker says when it has loaded the app.

The load must not begin while a worker is still importing (about 2.5 s of imports on 2 cores): the first
requests would wait for it, and their seconds would be counted as the app's latency.
"""

import os
from pathlib import Path

# Every deployed setting, whichever are added later (gunicorn ignores the names that are not its settings).
from booking.gunicorn_config import *  # noqa: F401,F403


def post_worker_init(worker):
    Path(os.environ["BENCH_READY_DIR"], str(worker.pid)).touch()
