"""The suite's pytest configuration lets an adopter's tests sit beside the example's.

A team that adopts the template adds `tests/<their package>/test_plugin.py` next to
`tests/green_taxi/test_plugin.py`; both must collect and run with the project's own pytest
settings, and both can import the shared `support` helpers.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_settings_toml() -> str:
    """The project's [tool.pytest.ini_options], as a pyproject.toml of its own."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    lines = ["[tool.pytest.ini_options]"]
    for key, value in options["pytest"]["ini_options"].items():
        if key != "filterwarnings":  # names MLflow's modules, not needed here
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def adopter_tree(root: Path) -> None:
    (root / "pyproject.toml").write_text(pytest_settings_toml(), encoding="utf-8")
    support = root / "tests" / "support"
    support.mkdir(parents=True)
    (support / "__init__.py").write_text("")
    (support / "shared.py").write_text("ANSWER = 42\n")
    for package in ("green_taxi", "acme_fares"):
        folder = root / "tests" / package
        folder.mkdir()
        (folder / "test_plugin.py").write_text(
            "from support.shared import ANSWER\n\n\n"
            f"def test_{package}_plugin():\n    assert ANSWER == 42\n"
        )


@pytest.mark.parametrize(
    ("extra", "collects"),
    [([], True), (["--import-mode=prepend"], False)],
    ids=["project-settings", "prepend-mode"],
)
def test_two_test_plugin_modules_in_different_folders_collect_and_run(
    tmp_path: Path, extra: list[str], collects: bool
) -> None:
    adopter_tree(tmp_path)
    done = subprocess.run(
        # One process (`-n 0`): the worker count is not what this checks.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if collects:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "2 passed" in done.stdout
    else:
        # What the settings guard against: same-named test modules clash on import.
        assert done.returncode != 0
        assert "import file mismatch" in done.stdout
