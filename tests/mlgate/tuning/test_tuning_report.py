"""The Tuning section of the PR comment, and the study's history artifact."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from mlgate.report.document import Candidate, Champion, Gate, Report, Trial, Tuning
from mlgate.report.markdown import render_markdown
from mlgate.tuning.record import history_csv

RMSE = "root_mean_squared_error"
LASSO = "sklearn.linear_model.Lasso"
RIDGE = "sklearn.linear_model.Ridge"

HISTORY = [
    Trial(number=0, state="complete", value=5.0, params={"estimator": LASSO, "alpha": 0.5}),
    Trial(number=1, state="pruned", params={"estimator": LASSO, "alpha": 9.0}),
    Trial(number=2, state="complete", value=4.2, params={"estimator": RIDGE, "alpha": 0.25}),
    Trial(
        number=3,
        state="fail",
        params={"estimator": LASSO, "alpha": -1.0},
        reason="InvalidParameterError: alpha must be >= 0 <b>@octocat</b>",
    ),
    Trial(number=4, state="complete", value=4.6, params={"estimator": LASSO, "alpha": 0.1}),
    Trial(number=5, state="complete", value=3.9, params={"estimator": RIDGE, "alpha": 1.5}),
]


def tuning(**changes: Any) -> Tuning:
    fields: dict[str, Any] = {
        "sampler": "tpe",
        "seed": 7,
        "n_trials": 6,
        "completed": 4,
        "pruned": 1,
        "failed": 1,
        "wall_time_s": 12.5,
        "metric": RMSE,
        "cv_folds": 3,
        "cv": "kfold",
        "best_params": {"estimator": RIDGE, "alpha": 1.5},
        "best_cv_score": 3.9,
        "validation_score": 4.29,
        "importances": {"alpha": 0.25, "estimator": 0.75},
        "history": HISTORY,
    }
    return Tuning.model_validate({**fields, **changes})


def report(searched: Tuning | None, *, champion: Champion | None = None) -> Report:
    return Report(
        generated_at="2026-01-01T00:00:00+00:00",
        candidate=Candidate(
            run_id="r1",
            model_uri="models:/m-1",
            version="3",
            estimator=RIDGE,
            params={"alpha": 1.5},
            metrics={RMSE: 4.29},
        ),
        champion=champion,
        gate=Gate(
            metric=RMSE,
            greater_is_better=False,
            relative_tolerance=0.0,
            passed=True,
            baseline="bounds-only",
            reasons=[],
        ),
        tuning=searched,
    )


def section(markdown: str) -> str:
    start = markdown.index("Tuning:")
    following = markdown.find("\n#### ", start)
    return markdown[start : following if following > 0 else None]


def chart_series(text: str, kind: str) -> list[str]:
    found = re.search(rf"^\s+{kind} \[(.*)\]$", text, re.MULTILINE)
    assert found, f"no {kind} series in the chart"
    return [item.strip().strip('"') for item in found.group(1).split(",")]


def test_a_plain_training_report_has_no_tuning_section() -> None:
    assert "Tuning:" not in render_markdown(report(None))


def test_the_chart_shows_each_completed_trial_and_the_best_so_far() -> None:
    text = section(render_markdown(report(tuning())))
    assert "xychart-beta" in text
    completed = [t for t in HISTORY if t.state == "complete"]
    assert chart_series(text, "x-axis") == [str(t.number) for t in completed]
    assert [float(v) for v in chart_series(text, "bar")] == [t.value for t in completed]
    best, running = [], float("inf")
    for trial in completed:
        running = min(running, trial.value)
        best.append(running)
    assert [float(v) for v in chart_series(text, "line")] == best


def test_the_budget_and_what_ran_are_stated() -> None:
    text = section(render_markdown(report(tuning())))
    assert "6 of a budget of 6 trials ran" in text
    assert "4 completed" in text
    assert "1 pruned" in text
    assert "1 failed" in text
    assert "did not run" not in text


def test_a_search_cut_short_by_the_timeout_says_how_many_did_not_run() -> None:
    cut = tuning(n_trials=10, timeout_s=45.0)
    text = section(render_markdown(report(cut)))
    assert "6 of a budget of 10 trials ran" in text
    assert "4 trial(s) did not run" in text
    assert "45.0 s" in text


def test_cv_score_is_set_against_the_validation_score() -> None:
    text = section(render_markdown(report(tuning())))
    row = next(line for line in text.splitlines() if line.startswith("| 3.900"))
    assert "4.290" in row
    assert "+0.390" in row
    assert "+10.0%" in row


def test_best_params_are_set_against_the_champions() -> None:
    champion = Champion(
        version="2",
        comparable=True,
        estimator=LASSO,
        params={"estimator": LASSO, "alpha": "1.5"},
        metrics={RMSE: 4.4},
    )
    text = section(render_markdown(report(tuning(), champion=champion)))
    table = text[text.index("| Searched parameter") :].split("\n\n")[0]
    assert "Champion v2" in table
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if "<code>" in line}
    estimator_row = rows["<code>estimator</code>"]
    assert "Ridge" in estimator_row
    assert "Lasso" in estimator_row
    assert "\u270f" in estimator_row  # changed
    assert "\u270f" not in rows["<code>alpha</code>"]  # same value, logged as text


def test_importances_are_ranked() -> None:
    text = section(render_markdown(report(tuning())))
    ranked = [m.group(1) for m in re.finditer(r"\| <code>(\w+)</code> \| (0\.\d\d) \|", text)]
    assert ranked == ["estimator", "alpha"]


def test_failure_reasons_are_listed_and_inert() -> None:
    text = section(render_markdown(report(tuning())))
    assert "Failed trials (1)" in text
    assert "Trial 3: InvalidParameterError" in text
    assert "<b>" not in text
    assert "@octocat" not in text


@pytest.mark.parametrize("completed", [0, 1])
def test_no_chart_without_two_completed_trials(completed: int) -> None:
    history = [
        Trial(number=i, state="complete", value=4.0, params={"alpha": 0.1})
        for i in range(completed)
    ] + [Trial(number=completed, state="pruned", params={"alpha": 2.0})]
    text = section(render_markdown(report(tuning(history=history))))
    assert "xychart-beta" not in text


def test_a_long_history_is_thinned_but_keeps_the_last_trial() -> None:
    history = [
        Trial(number=i, state="complete", value=10.0 - i / 100, params={"alpha": 0.1})
        for i in range(200)
    ]
    text = section(render_markdown(report(tuning(history=history, n_trials=200, completed=200))))
    labels = chart_series(text, "x-axis")
    assert len(labels) <= 60
    assert labels[0] == "0"
    assert labels[-1] == "199"


def test_history_csv_has_one_row_per_trial_with_the_best_so_far() -> None:
    rows = list(csv.DictReader(io.StringIO(history_csv(tuning()))))
    assert [int(r["number"]) for r in rows] == [t.number for t in HISTORY]
    assert [r["state"] for r in rows] == [t.state for t in HISTORY]
    assert [r["best_so_far"] for r in rows] == ["5.0", "5.0", "4.2", "4.2", "4.2", "3.9"]
    assert rows[3]["reason"].startswith("InvalidParameterError")
