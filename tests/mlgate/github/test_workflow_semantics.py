"""What GitHub does with the workflow files that act does not: concurrency, pins, permissions.

GitHub keeps at most one running and one pending run per concurrency group, and a newer
pending run cancels the older pending one even with `cancel-in-progress: false`. So a group
that several commits share drops runs; these tests read the YAML and refuse that for
promotions, and check the comment workflow's per-PR queue and the inputs it trusts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.locked import locked_closure

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"
PER_COMMIT = ("github.sha", "github.event.after", "github.run_id")


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def groups(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every concurrency setting: the workflow's and each job's, with where it is."""
    found = [("workflow", document["concurrency"])] if "concurrency" in document else []
    for job_id, job in (document.get("jobs") or {}).items():
        if "concurrency" in job:
            found.append((f"job {job_id}", job["concurrency"]))
    return found


def drops_runs(concurrency: Any) -> str | None:
    """Why runs of different commits could be cancelled or dropped under this setting."""
    if isinstance(concurrency, str):
        concurrency = {"group": concurrency}
    group = str(concurrency.get("group", ""))
    if str(concurrency.get("cancel-in-progress", False)).lower() not in ("false",):
        return f"cancel-in-progress is {concurrency.get('cancel-in-progress')!r}"
    if not any(key in group for key in PER_COMMIT):
        return f"group {group!r} is shared by all pushes: newer pending runs cancel older ones"
    return None


def test_no_promotion_can_be_cancelled_or_dropped() -> None:
    problems = [
        f"{where}: {why}" for where, c in groups(workflow("promote.yml")) if (why := drops_runs(c))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("concurrency", "dropped"),
    [
        ({"group": "promote-${{ github.repository }}", "cancel-in-progress": False}, True),
        ("promote", True),
        ({"group": "promote-${{ github.sha }}", "cancel-in-progress": True}, True),
        ({"group": "promote-${{ github.sha }}", "cancel-in-progress": False}, False),
        ({"group": "promote-${{ github.sha }}"}, False),
    ],
)
def test_the_check_recognises_shared_groups(concurrency: Any, dropped: bool) -> None:
    assert (drops_runs(concurrency) is not None) is dropped


def test_pr_comments_queue_per_pr_branch_and_are_never_cancelled() -> None:
    [(where, concurrency)] = groups(workflow("pr-comment.yml"))
    assert where == "workflow"
    group = concurrency["group"]
    # Forks carry no PR number in the event: the head repository and branch name the PR.
    assert "github.event.workflow_run.head_repository.full_name" in group
    assert "github.event.workflow_run.head_branch" in group
    assert concurrency.get("cancel-in-progress") is False


def comment_job() -> dict[str, Any]:
    return workflow("pr-comment.yml")["jobs"]["comment"]


def test_comment_job_may_set_the_model_gate_status_and_nothing_more() -> None:
    assert comment_job()["permissions"] == {
        "contents": "read",
        "actions": "read",
        "pull-requests": "write",
        "statuses": "write",
    }


def test_comment_identity_comes_from_the_trusted_event() -> None:
    [step] = [s for s in comment_job()["steps"] if "mlgate comment" in s.get("run", "")]
    env, run = step["env"], step["run"]
    assert env["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert env["RUN_URL"] == "${{ github.event.workflow_run.html_url }}"
    assert env["CONCLUSION"] == "${{ github.event.workflow_run.conclusion }}"
    for flag, variable in (("--head-sha", "HEAD_SHA"), ("--run-url", "RUN_URL")):
        assert f'{flag} "${variable}"' in run
    assert "${{" not in run


def setup_uv_steps() -> list[tuple[str, dict[str, Any]]]:
    steps = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in (yaml.safe_load(path.read_text(encoding="utf-8")).get("jobs") or {}).values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("astral-sh/setup-uv@"):
                    steps.append((path.name, step.get("with") or {}))
    return steps


def test_uv_is_pinned_in_pyproject_and_every_workflow_installs_that_pin() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    required = pyproject["tool"]["uv"]["required-version"]
    assert re.fullmatch(r"==\d+\.\d+\.\d+", required), required
    steps = setup_uv_steps()
    assert steps
    for name, inputs in steps:
        assert inputs.get("version-file") == "pyproject.toml", name
        assert "version" not in inputs, name


# -- the comment waits only for the training job --------------------------------------------

SLOW_COMMANDS = (".ci/install-postgres", "--check-requirements")


def slow_steps(document: dict[str, Any]) -> list[str]:
    """Steps that run the slow suite or its set-up: `job/step` names, empty when none."""
    found = []
    for job_id, job in (document.get("jobs") or {}).items():
        for step in job.get("steps", []):
            run = " ".join(str(step.get("run", "")).split())
            pytest_run = re.search(r"\bpytest\b", run)
            fast_only = re.search(r"""-m\s+(["']?)not slow\1(\s|$)""", run)
            if (pytest_run and not fast_only) or any(c in run for c in SLOW_COMMANDS):
                found.append(f"{job_id}/{step.get('name') or run}")
    return found


@pytest.mark.parametrize(
    ("run", "slow"),
    [
        ('uv run pytest -m "not slow"', False),
        ("uv run pytest -m 'not slow' -q", False),
        ("uv run pytest -m slow", True),
        ("uv run pytest", True),
        ('uv run pytest -m "not slow and not e2e"', True),
        (".ci/install-postgres", True),
        ("uv run mlgate train --fallback-local --check-requirements", True),
        ("uv run mlgate candidate --fallback-local", False),
    ],
)
def test_the_check_recognises_slow_steps(run: str, slow: bool) -> None:
    document = {"jobs": {"job": {"steps": [{"name": "step", "run": run}]}}}
    assert bool(slow_steps(document)) is slow


def comment_triggers() -> list[Path]:
    """The workflow files whose completion starts pr-comment.yml (matched by `name:`)."""
    names = workflow("pr-comment.yml")[True]["workflow_run"]["workflows"]
    paths = [p for p in sorted(WORKFLOWS.glob("*.yml")) if workflow(p.name)["name"] in names]
    assert len(paths) == len(names), f"no workflow file for some of {names}"
    return paths


def test_the_workflow_that_triggers_the_comment_holds_no_slow_job() -> None:
    [pr] = comment_triggers()
    assert pr.name == "pr.yml"
    assert slow_steps(workflow(pr.name)) == []


def pytest_selections(name: str) -> list[str]:
    return [
        " ".join(str(s["run"]).split())
        for job in workflow(name)["jobs"].values()
        for s in job.get("steps", [])
        if re.search(r"\bpytest\b", str(s.get("run", "")))
    ]


def test_every_pull_request_runs_the_fast_and_the_slow_suite() -> None:
    assert pytest_selections("pr.yml") == ['uv run pytest -m "not slow"']
    assert pytest_selections("integration.yml") == ["uv run pytest -m slow"]
    for name in ("pr.yml", "integration.yml"):
        assert workflow(name)[True] == {"pull_request": {"branches": ["main"]}}, name


@pytest.mark.parametrize("name", ["pr.yml", "integration.yml"])
def test_pull_request_workflows_are_read_only_and_cancelled_per_pr(name: str) -> None:
    document = workflow(name)
    assert document["permissions"] == {}
    [(where, concurrency)] = groups(document)
    assert where == "workflow"
    # The PR number keeps pushes to other PRs running; a newer push cancels this PR's run.
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is True
    for job in document["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


def test_the_integration_workflow_uses_no_secret() -> None:
    # A fork's PR gets no secrets: the integration suite must not need any.
    text = (WORKFLOWS / "integration.yml").read_text(encoding="utf-8")
    assert "secrets." not in text
    assert "vars." not in text


def test_two_pull_request_workflows_never_share_a_concurrency_group() -> None:
    prefixes = [groups(workflow(n))[0][1]["group"] for n in ("pr.yml", "integration.yml")]
    assert len(set(prefixes)) == 2, prefixes


# -- the comment job installs only what it needs ----------------------------------------------

HEAVY = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "pyarrow", "optuna")


def test_the_comment_job_installs_the_comment_group_and_mlgate_alone() -> None:
    runs = [" ".join(str(s["run"]).split()) for s in comment_job()["steps"] if "run" in s]
    installs = [r for r in runs if re.match(r"uv (sync|pip install)\b", r)]
    assert installs == [
        "uv sync --locked --only-group comment",
        "uv pip install --no-deps --no-build-isolation .",
    ]
    setup = [s for s in comment_job()["steps"] if "astral-sh/setup-uv@" in s.get("uses", "")]
    assert [s["with"]["enable-cache"] for s in setup] == [False]


def test_the_comment_group_brings_nothing_heavy() -> None:
    closure = locked_closure("comment")
    assert {"pydantic", "jinja2", "requests", "hatchling"} <= closure
    assert closure.isdisjoint(HEAVY), sorted(closure & set(HEAVY))
