"""The real workflow files under act for classifier plug-ins: a binary one on LightGBM and a
multiclass one on scikit-learn, each adopted by configuration alone (the tests' own plug-ins,
their data files and `[tool.mlgate]` tables in place of the example's).

Each goes PR → comment → merge → promotion: the PR run trains and registers the classifier,
the comment shows its classes section, the merge promotes exactly the version the report was
about. For the binary one a second PR changes the model; its comment sets the candidate's
confusion matrix beside the champion's, and its promotion follows its report's verdict.

Expectations come from the reports the runs uploaded and from MLflow, not from fixed numbers.
The PR runs' `tests` step runs the plug-in contract tests, the only test module in the clone
(`clone_tests`), as in tests/e2e/test_workflows.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import classifiers
from support.act import FAKE_TOKEN, ActSession
from support.adoption import without_example_tables
from support.git_repo import commit_files
from support.github_api import FakeGitHub
from support.mlflow_server import MlflowServer
from support.workflows import (
    CONTRACT_TESTS,
    Repository,
    assert_green,
    assert_report_is_shown,
    expected_verdict,
    verdict_line,
)

# Real workflow runs under act, each workflow's environment kept between them.
pytestmark = [pytest.mark.slow, pytest.mark.reuse_environments]

CASES = {
    # task: (estimator, its params, a second PR's params or None, gate metric)
    "binary": (
        "lightgbm.LGBMClassifier",
        {"n_estimators": 20, "num_leaves": 4},
        {"n_estimators": 80, "num_leaves": 8},
        "roc_auc",
    ),
    "multiclass": (
        "sklearn.linear_model.LogisticRegression",
        {"max_iter": 2000},
        None,
        "accuracy_score",
    ),
}


EXTRAS = {"lightgbm": "lightgbm>=4.5"}
LOCK_TIMEOUT_S = 300


def depend_on(repo: Path, text: str, requirement: str) -> dict[str, str | bytes]:
    """`pyproject.toml` with `requirement` among the project's dependencies, and `uv.lock`
    relocked for it (PyPI is asked for what the lock does not hold yet)."""
    marker = "dependencies = [\n"
    assert text.count(marker) >= 1
    text = text.replace(marker, f"{marker}    {json.dumps(requirement)},\n", 1)
    (repo / "pyproject.toml").write_text(text, encoding="utf-8")
    uv = shutil.which("uv") or "uv"
    done = subprocess.run(
        [uv, "lock"], cwd=repo, capture_output=True, text=True, timeout=LOCK_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {"pyproject.toml": text, "uv.lock": (repo / "uv.lock").read_bytes()}


def tables(task: str, name: str, params: dict[str, int]) -> str:
    """The adopter's `[tool.mlgate]` tables for one of the tests' classifier plug-ins."""
    estimator, _, _, metric = CASES[task]
    inline = "{ " + ", ".join(f"{k} = {v}" for k, v in params.items()) + " }"
    return (
        '[tool.mlgate.data]\ntrain = "data/train.parquet"\nvalidation = "data/validation.parquet"\n'
        f"\n[tool.mlgate.model]\nplugin = {json.dumps(classifiers.REFERENCES[task])}\n"
        f"estimator = {json.dumps(estimator)}\nparams = {inline}\n"
        f"\n[tool.mlgate.gate]\nmetric = {json.dumps(metric)}\n"
        f"\n[tool.mlgate.tracking]\nexperiment = {json.dumps(name)}\n"
        f"registered_model = {json.dumps(name)}\n"
    )


@pytest.fixture
def world(
    request: pytest.FixtureRequest, act_session: ActSession, mlflow_server: MlflowServer
) -> Iterator[Repository]:
    """The clone adopted to the task's classifier plug-in, on the shared server."""
    task = request.param
    repo = act_session.repo_dir
    name = f"classes-e2e-{uuid.uuid4().hex[:8]}"
    text = without_example_tables((repo / "pyproject.toml").read_text(encoding="utf-8"))
    train, validation = classifiers.write_months(repo / "data", task)
    text += "\n" + tables(task, name, CASES[task][1])
    files: dict[str, str | bytes] = {"pyproject.toml": text}
    library = CASES[task][0].split(".")[0]
    if library in EXTRAS:
        # As the adopt page says: the library becomes a dependency of the project, relocked,
        # so every workflow's install (promotion's `--no-dev` one too) carries it.
        files.update(depend_on(repo, text, EXTRAS[library]))
    for path in (train, validation):
        files[path.relative_to(repo).as_posix()] = path.read_bytes()
    commit_files(repo, files, "Adopt the template for our classifier")
    with FakeGitHub(token=FAKE_TOKEN) as github:
        found = Repository(act_session, github, mlflow_server.url)
        assert found.settings.registered_model == name
        yield found
        found.print_timings()


def through_review(world: Repository, number: int, branch: str, files: dict) -> tuple:
    """Push, run pr.yml, then pr-comment.yml: the PR run and the sticky comment."""
    head, action = world.push_to_pr(number, branch, files, f"PR {number}")
    pr = world.run_pr(number, branch, head, action)
    assert_green(pr)
    commented = world.comment(pr)
    assert commented.ok, commented.describe()
    comment = world.sticky_comment(number)
    assert_report_is_shown(world, pr, comment)
    return pr, comment["body"]


@pytest.mark.clone_tests(CONTRACT_TESTS)
@pytest.mark.parametrize("world", list(CASES), indirect=True)
def test_a_classifier_goes_from_pull_request_to_champion(world: Repository) -> None:
    task = world.settings.plugin().task
    _, _, second, metric = CASES[task]

    # PR #1: the first classifier, judged by its bounds alone; its classes in the comment.
    pr1, body = through_review(world, 1, "docs/card", {"docs/card.md": "# Classifier\n"})
    report = pr1.report
    assert report.gate.metric == metric
    assert report.gate.passed == expected_verdict(report)
    breakdown = report.candidate.breakdown
    assert breakdown is not None
    assert len(breakdown.classes) == (2 if task == "binary" else 3)
    assert "#### Classes" in body
    assert body.count("xychart-beta") == (2 if task == "binary" else 0)
    promoted = world.promote(world.merge(pr1), "promote merge of PR #1")
    assert promoted.ok, promoted.describe()
    assert world.champion() == report.candidate.version

    if second is None:
        return
    # PR #2 changes the model: the comment sets its matrix beside champion v1's, and the merge
    # promotes it exactly when the report said it would.
    text = (world.path / "pyproject.toml").read_text(encoding="utf-8")
    changed = text.replace(tables(task, world.settings.registered_model, CASES[task][1]), "")
    changed += tables(task, world.settings.registered_model, second)
    pr2, body = through_review(world, 2, "model/bigger", {"pyproject.toml": changed})
    report2 = pr2.report
    assert report2.champion is not None
    assert report2.champion.version == report.candidate.version
    assert report2.champion.breakdown == breakdown, "the champion scored on the same rows"
    assert "columns the candidate's predictions, then Champion v" in body
    assert verdict_line(report2) in body
    promoted = world.promote(world.merge(pr2), "promote merge of PR #2")
    if report2.gate.passed:
        assert promoted.ok, promoted.describe()
        assert world.champion() == report2.candidate.version
    else:
        assert promoted.returncode != 0
        assert world.champion() == report.candidate.version
