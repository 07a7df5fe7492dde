"""Two app servers on one database share their rate limits through Redis."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

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
        for port in ports:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
        # 20 failed logins a minute per IP: ten on each server, then the next one is refused by either.
        statuses = [_post(ports[i % 2], f"personne{i}@example.test") for i in range(20)]
        assert statuses == [200] * 20
        assert _post(ports[0], "encore@example.test") == 429
        assert _post(ports[1], "encore@example.test") == 429
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
