"""`train` under faults: a report that cannot be written, SIGTERM, a fit that never ends.

Registering a version and writing its report are one step seen from outside: after any of
these faults there is no registered version, no MLflow run left RUNNING, and no `.tmp` file.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.project import Project
from support.stores import sqlite_store

pytestmark = pytest.mark.slow


def _versions(project: Project) -> list[str]:
    found = project.client().search_model_versions(f"name = '{project.name}'")
    return [str(v.version) for v in found]


def _run_statuses(project: Project) -> list[str]:
    client = project.client()
    experiment = client.get_experiment_by_name(project.name)
    if experiment is None:
        return []
    return [run.info.status for run in client.search_runs([experiment.experiment_id])]


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error:" in line]


@pytest.fixture
def full_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a tiny file system that is full: files can be made, no byte written."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        with (mount / "filler").open("wb", buffering=0) as handle:
            try:
                for _ in range(1000):  # 64 kB fills in 16
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _leftover_tmp_directory(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    report = project.root / "out" / "report.json"
    (project.root / "out" / "report.json.tmp").mkdir(parents=True)
    return report, "report.json.tmp"


def _markdown_at_dev_full(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    report = project.root / "out" / "report.json"
    report.parent.mkdir()
    report.with_suffix(".md").symlink_to("/dev/full")
    return report, "report.md"


def _json_at_dev_full(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    report = project.root / "out" / "report.json"
    report.parent.mkdir()
    report.symlink_to("/dev/full")
    return report, "report.json"


def _missing_template(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write('template = "no-such.md.j2"\n')
    return project.root / "out" / "report.json", "no-such.md.j2"


def _broken_template(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    (project.root / "broken.md.j2").write_text(
        '{% extends "builtin/comment.md.j2" %}\n{% block verdict %}{{ oops(\n',
        encoding="utf-8",
    )
    with project.config.open("a", encoding="utf-8") as handle:
        handle.write('template = "broken.md.j2"\n')
    return project.root / "out" / "report.json", "broken.md.j2"


def _full_filesystem(project: Project, full: Callable[[], Path]) -> tuple[Path, str]:
    return full() / "report.json", "report.json"


UNWRITABLE = {
    "leftover-tmp-directory": _leftover_tmp_directory,
    "markdown-at-dev-full": _markdown_at_dev_full,
    "json-at-dev-full": _json_at_dev_full,
    "template-missing": _missing_template,
    "template-syntax-error": _broken_template,
    "full-filesystem": _full_filesystem,
}


@pytest.mark.parametrize("arrange", UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_nothing_is_registered_when_the_report_cannot_be_written(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    arrange,
    monkeypatch,
    capsys,
) -> None:
    project = Project.create(tmp_path / "project", sqlite_store(tmp_path_factory, "report-write"))
    project.enter(monkeypatch)
    report, named = arrange(project, lambda: request.getfixturevalue("full_folder"))
    code = project.cli("train", "--report", str(report))
    assert code == 1
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1, errors
    assert named in errors[0]
    assert _versions(project) == []
    assert "RUNNING" not in _run_statuses(project)
    assert "FINISHED" not in _run_statuses(project)
    assert not report.with_suffix(".md").is_file() or report.with_suffix(".md").is_symlink()
    leftovers = [p.name for p in report.parent.glob("*.tmp")]
    assert leftovers in ([], ["report.json.tmp"])  # only the directory the user left there


def _start(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlgate.cli", "--config", str(project.config), "train", *args],
        cwd=project.root,
        env=project.process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], marker: str, timeout_s: float) -> list[str]:
    """stderr lines up to the first containing `marker` (bounded; fails with what it saw)."""
    assert process.stderr is not None
    seen: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            continue
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if marker in line:
            return seen
    process.kill()
    pytest.fail(f"no {marker!r} line within {timeout_s:g} s; saw {seen}")


@pytest.mark.parametrize(
    "marker",
    ["fitting", "logging model", "registering model version"],
    ids=["during-fit", "during-logging", "at-registration"],
)
def test_sigterm_leaves_a_failed_run_and_no_version(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, marker: str
) -> None:
    project = Project.create(tmp_path / "project", sqlite_store(tmp_path_factory, "sigterm"))
    report = tmp_path / "out" / "report.json"
    process = _start(project, "--report", str(report))
    _wait_for_line(process, marker, timeout_s=240)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "Traceback" not in err
    assert _versions(project) == []
    statuses = _run_statuses(project)
    assert statuses, "the run was started"
    assert set(statuses) == {"FAILED"}, statuses
    assert not report.exists()
    assert not report.with_suffix(".md").exists()
    assert list(report.parent.glob("*.tmp")) == []


def test_a_fit_over_its_time_budget_ends_failed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`tol=0` with a huge `max_iter` never converges; the budget ends it in one line."""
    project = Project.create(
        tmp_path / "project", sqlite_store(tmp_path_factory, "fit-budget"), alpha=0.0001
    )
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(
        text.replace("[model]\n", "[model]\nmax_fit_seconds = 3\n", 1), encoding="utf-8"
    )
    started = time.monotonic()
    process = _start(project, "--param", "tol=0", "--param", "max_iter=1000000000")
    _, err = process.communicate(timeout=240)
    assert process.returncode == 1, err
    assert time.monotonic() - started < 120
    errors = _error_lines(err)
    assert len(errors) == 1, err
    assert "max_fit_seconds" in errors[0]
    assert "3 s" in errors[0]
    assert _versions(project) == []
    assert _run_statuses(project) == ["FAILED"]
