"""`pip install .` gives a working application: templates, static files and migrations travel in the wheel."""

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

from booking.main.errors import MAX_URL_BYTES

ROOT = Path(__file__).resolve().parents[2]

SERVE_A_PAGE = textwrap.dedent("""
    import sys
    from pathlib import Path

    import booking
    from booking import create_app
    from flask_migrate import upgrade

    assert Path(booking.__file__).is_relative_to(Path(sys.prefix)), booking.__file__
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path.cwd() / "wheel.sqlite"),
                      "SECRET_KEY": "wheel-test", "TESTING": True})
    with app.app_context():
        upgrade()
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200 and "Rendez-vous santé" in home.get_data(as_text=True), home.status_code
    assert client.get("/static/css/site.css").status_code == 200
    assert client.get("/connexion").status_code == 200
    print("servi depuis", Path(booking.__file__).parent)
""")


def test_the_wheel_installed_outside_the_checkout_serves_pages(tmp_path):
    source, dist, venv, work = tmp_path / "source", tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    # Built from a copy of what git tracks (plus the vendored front-end files it ignores), as a release
    # would be, and without leaving a build/ folder in the checkout.
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    for name in [*tracked.decode().split("\0"), *map(str, (ROOT / "booking/static/vendor").glob("*"))]:
        if name and (ROOT / name).is_file():
            target = source / (Path(name).relative_to(ROOT) if Path(name).is_absolute() else Path(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)],
                   check=True, cwd=tmp_path)
    (wheel,) = dist.glob("booking-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True)
    # The dependencies come from the project's environment (no download), but not the project itself:
    # a directory named in a .pth file adds no editable finder of its own.
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    Path(target, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    served = subprocess.run([str(python), "-c", SERVE_A_PAGE], cwd=work, capture_output=True, text=True)
    assert served.returncode == 0, served.stderr[-3000:]
    assert str(venv) in served.stdout


def test_the_deployed_gunicorn_command_takes_the_projects_settings():
    """The command of docs/deploy.md, as gunicorn itself resolves it: each worker accepts only the connections
    its threads can serve at once, so that none waits behind a busy worker while another is free."""
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    command = deploy[deploy.index("ExecStart=") + len("ExecStart="):].split("\nRestart=")[0]
    arguments = shlex.split(command.replace("\\\n", " "))
    assert arguments[0].endswith("/gunicorn")
    resolved = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), *arguments[1:], "--print-config"],
                              cwd=ROOT, check=True, capture_output=True, text=True).stdout
    settings = dict(line.split(" = ", 1) for line in resolved.splitlines() if " = " in line)
    settings = {name.strip(): value.strip() for name, value in settings.items()}
    assert settings["worker_class"] == "gthread"
    assert int(settings["workers"]) == (os.cpu_count() or 2) + 1
    assert settings["worker_connections"] == settings["threads"] == "2"
    assert settings["keepalive"] == "0"
    assert int(settings["limit_request_line"]) > MAX_URL_BYTES  # long addresses reach the app, which answers
    assert settings["bind"] == "['127.0.0.1:8000']"


def test_the_wheel_lists_every_package_of_the_tree_and_the_templates_at_the_root():
    """The package list in pyproject.toml is written by hand (a mapped folder is never found): keep it whole."""
    import tomllib

    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = find_packages(str(ROOT), include=["booking*", "notifications*"], exclude=["bench*", "tests*"])
    assert sorted(config["packages"]) == sorted([*found, "booking.templates"]), "add the new package to pyproject"
    assert config["package-dir"]["booking.templates"] == "templates"
    assert (ROOT / "templates" / "base.html").is_file() and not (ROOT / "booking" / "templates").exists()
