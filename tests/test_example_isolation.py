"""The example is deletable: nothing outside its four places leans on it.

The example (NYC green-taxi trip duration) lives in `src/green_taxi/`, `tests/green_taxi/`
(plus its helpers `tests/support/tlc.py`, `taxi_records.py`, `serving_plugins.py`), `data/` and
the `# >>> example` tables of `pyproject.toml`. The adopt page's removal block deletes exactly
those; these tests fail when a script, workflow, lifecycle module or lifecycle test starts
importing or running the example, and run the removal block on a copy of the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from mlgate.config import load_settings
from support.docs import ROOT, commands, shell_block, shell_blocks

EXAMPLE_PLACES = (
    "src/green_taxi/",
    "tests/green_taxi/",
    "data/",
    "tests/support/tlc.py",
    "tests/support/taxi_records.py",
    "tests/support/serving_plugins.py",
)
CODE_SUFFIXES = {".py", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".sh", ".json", ""}
LEANS_ON_THE_EXAMPLE = re.compile(
    r"^\s*(?:from|import)\s+green_taxi\b"  # an import of the example
    r"|green_taxi\.\w+:\w+"  # a plug-in reference
    r"|-m\s+green_taxi\b"  # running one of its modules
    r"|scripts/(?:make_sample|download_tlc)\.py"  # the example's scripts, moved into it
    r"|\bsupport\.(?:tlc|taxi_records|serving_plugins)\b"  # the example's test helpers
    r"|\bTLC_BASE_URL\b",
    re.M,
)
EXAMPLE_WORDS = re.compile(r"taxi|\btlc\b|green_tripdata|trip[ _-]duration", re.I)


def tracked() -> list[str]:
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [name for name in done.stdout.split("\0") if name and (ROOT / name).is_file()]


def outside_the_example() -> list[str]:
    return [
        name
        for name in tracked()
        if not name.startswith(EXAMPLE_PLACES)
        and Path(name).suffix in CODE_SUFFIXES
        and name != "pyproject.toml"
        and name != "uv.lock"
    ]


@pytest.mark.parametrize("name", outside_the_example())
def test_no_code_outside_the_example_imports_or_runs_it(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
    found = [m.group(0).strip() for m in LEANS_ON_THE_EXAMPLE.finditer(text)]
    assert not found, f"{name} leans on the example: {found}"


@pytest.mark.parametrize("folder", [".github", ".ci", "deploy"], ids=lambda f: f)
def test_workflows_ci_and_deployment_name_no_part_of_the_example(folder: str) -> None:
    """What a team keeps unchanged says nothing of taxis (the lifecycle's own words are
    checked by tests/mlgate/test_neutral_names.py; scripts may show example reports)."""
    for name in tracked():
        if name.startswith(f"{folder}/") and not name.endswith((".png", ".lock")):
            text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
            words = sorted({m.group(0) for m in EXAMPLE_WORDS.finditer(text)})
            assert not words, f"{name} names the example: {words}"


REMOVED = "\n# >>> example" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
"""The example's tables are gone (a team's repository): nothing of it is left to check."""


@pytest.mark.skipif(REMOVED, reason="the example's tables have been removed")
def test_the_example_tables_are_between_the_markers() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    before, marker, rest = text.partition("\n# >>> example")
    assert marker, "pyproject.toml has no `# >>> example` line"
    inside, end, after = rest.partition("\n# <<< example\n")
    assert end, "pyproject.toml has no `# <<< example` line"
    outside = before + after
    assert "green_taxi" not in outside.replace('"src/green_taxi"', "").replace(
        '"green_taxi"]', "]"
    ), "only the hatch packages and root_packages entries may name the example outside markers"
    assert "plugin = " in inside


def test_no_documented_shell_block_runs_the_example_but_the_removal() -> None:
    from support.docs import pages

    for page in pages():
        for block in shell_blocks(page):
            if (page, block.name) != ("docs/adopt.md", "remove-example"):
                assert "green_taxi" not in block.text, f"{page}:{block.line}"


def _git(args: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    identity = ["-c", "user.name=Adopter", "-c", "user.email=adopter@example.com"]
    subprocess.run(["git", *identity, *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.skipif(REMOVED, reason="the example's tables have been removed")
def test_the_adopt_page_removal_leaves_no_trace_of_the_example(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for name in tracked():
        target = clone / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    _git(["init", "-q", "-b", "main"], clone)
    _git(["add", "-A"], clone)
    _git(["commit", "-q", "-m", "clone"], clone)

    block = shell_block("docs/adopt.md", "remove-example")
    assert commands(block)
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block], cwd=clone, check=True, capture_output=True
    )

    for place in EXAMPLE_PLACES:
        assert not (clone / place).exists(), place
    text = (clone / "pyproject.toml").read_text(encoding="utf-8")
    assert not EXAMPLE_WORDS.search(text.replace("example", "")), "a taxi word is left"
    assert "green_taxi" not in text
    assert not list(clone.glob("pyproject.toml.*")), "no backup file is left"
    document = tomllib.loads(text)
    assert document["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/mlgate"]
    assert document["tool"]["importlinter"]["root_packages"] == ["mlgate"]
    settings = load_settings(clone / "pyproject.toml")
    assert not (settings.model.plugin or "").startswith("green_taxi")
    assert settings.monitoring.current is None or "green_taxi" not in str(
        settings.monitoring.current.command
    )
