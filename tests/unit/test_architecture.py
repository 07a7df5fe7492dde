"""The layers a newcomer can draw: import-linter's contracts hold, and the committed picture is the code's."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_imports_only_the_layers_below_it(capsys, monkeypatch):
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)  # the contracts live in pyproject.toml
    exit_code = lint_imports(no_cache=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report[-4000:]
    assert "Contracts: 2 kept, 0 broken." in report


def test_the_architecture_picture_is_drawn_from_todays_code(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "scripts" / "architecture")
    if spec is None:  # no .py suffix: load it as source
        from importlib.machinery import SourceFileLoader

        loader = SourceFileLoader("architecture", str(ROOT / "scripts" / "architecture"))
        spec = importlib.util.spec_from_loader("architecture", loader)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "architecture.svg").read_text()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    module.main()
    assert (tmp_path / "docs" / "architecture.svg").read_text() == committed, \
        "docs/architecture.svg is out of date: run .venv/bin/python scripts/architecture"
