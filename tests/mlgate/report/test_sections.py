"""The serving and tuning sections of the comment, shown when the report carries them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlgate.report.markdown import render_markdown
from support.report_cases import HOSTILE, assert_inert, make_report, table_after


def serving(**overrides: Any) -> dict[str, Any]:
    base = {
        "passed": True,
        "checks": [
            {"name": "one record", "passed": True, "detail": "1 row in, 1 prediction out"},
            {"name": "missing column", "passed": True, "detail": "HTTP 400 naming trip_distance"},
        ],
        "latency_one": {"batch_size": 1, "p50_ms": 4.2, "p95_ms": 6.0},
        "latency_batch": {"batch_size": 500, "p50_ms": 30.0, "p95_ms": 41.5},
        "champion_latency_one": {"batch_size": 1, "p50_ms": 5.0, "p95_ms": 6.5},
        "requirements_checked": True,
    }
    return {**base, **overrides}


def tuning(**overrides: Any) -> dict[str, Any]:
    base = {
        "sampler": "TPESampler",
        "seed": 42,
        "n_trials": 4,
        "completed": 3,
        "pruned": 0,
        "failed": 1,
        "wall_time_s": 75.0,
        "metric": "root_mean_squared_error",
        "cv_folds": 3,
        "best_params": {"alpha": 0.002, "fit_intercept": True},
        "best_cv_score": 6.2,
        "validation_score": 6.124,
        "importances": {"alpha": 0.9, "fit_intercept": 0.1},
        "history": [
            {"number": 0, "state": "complete", "value": 6.8, "params": {"alpha": 0.1}},
            {"number": 1, "state": "complete", "value": 6.2, "params": {"alpha": 0.002}},
            {"number": 2, "state": "fail", "reason": "did not converge"},
            {"number": 3, "state": "complete", "value": 6.4, "params": {"alpha": 0.01}},
        ],
    }
    return {**base, **overrides}


def test_serving_lists_each_request_and_latency_beside_the_champion():
    md = render_markdown(make_report(serving=serving()))
    section = md.split("#### Serving", 1)[1].split("####", 1)[0]
    assert "2 of 2 requests passed" in section
    checks = table_after(md, "#### Serving")
    assert [row[:2] for row in checks[2:]] == [
        ["one record", "\u2705"],
        ["missing column", "\u2705"],
    ]
    latency = {row[0]: row[1:] for row in table_after(section, "| Served")[1:]}
    assert latency["HTTP latency, 1 record"] == [
        "p50 4.20 ms \u00b7 p95 6.00 ms",
        "p50 5.00 ms \u00b7 p95 6.50 ms",
        "p50 -16.0% \u00b7 p95 -7.7%",
    ]
    assert latency["HTTP latency, batch of 500 records"] == [
        "p50 30.00 ms \u00b7 p95 41.50 ms",
        "\u2014",
        "\u2014",
    ]
    assert "requirements install into a clean environment" in section


def test_failed_serving_names_the_first_failing_request():
    report = make_report(
        serving=serving(
            passed=False,
            failed_request="wrong type",
            checks=[{"name": "wrong type", "passed": False, "detail": "HTTP 500"}],
        )
    )
    section = render_markdown(report).split("#### Serving", 1)[1]
    assert "\u274c **The candidate cannot be served as logged**: 0 of 1 requests passed" in section
    assert "<code>wrong type</code>" in section


def test_tuning_summarises_the_search_best_params_and_failures():
    md = render_markdown(make_report(tuning=tuning()))
    section = md.split("#### Tuning", 1)[1].split("####", 1)[0]
    assert section.startswith(": 4 of a budget of 4 trials ran")
    assert "3-fold cross-validation" in section
    assert "3 completed \u00b7 0 pruned \u00b7 1 failed, in 1 min 15 s" in section
    scores = table_after(md, "#### Tuning")
    assert "CV RMSE" in scores[0][0]
    assert "validation RMSE" in scores[0][1]
    assert scores[2][:2] == ["6.200", "6.124"]
    rows = {row[0]: row[1:] for row in table_after(section, "| Searched parameter")[1:]}
    assert rows["<code>alpha</code>"][0] == "<code>0.002</code>"
    assert rows["<code>fit&#95;intercept</code>"][0] == "<code>true</code>"
    importances = [row[:2] for row in table_after(section, "| Parameter |")[1:]]
    assert importances == [
        ["<code>alpha</code>", "0.90"],
        ["<code>fit&#95;intercept</code>", "0.10"],
    ]
    assert "Trial 2: did not converge" in section
    bars = re.search(r"^\s*bar \[(.*)\]$", section, re.MULTILINE)
    assert bars.group(1).split(", ") == ["6.800", "6.200", "6.400"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"serving": serving(checks=[{"name": HOSTILE, "passed": False, "detail": HOSTILE}])},
        {"serving": serving(passed=False, failed_request=HOSTILE)},
        {"tuning": tuning(sampler=HOSTILE, best_params={HOSTILE: HOSTILE})},
        {"tuning": tuning(history=[{"number": 0, "state": "fail", "reason": HOSTILE}])},
    ],
    ids=["check", "failed request", "sampler and params", "trial reason"],
)
def test_hostile_serving_and_tuning_text_is_inert(overrides):
    md = render_markdown(make_report(**overrides))
    assert_inert(md)
    assert md.count("```") in (2, 4)


def test_sections_absent_without_serving_or_tuning():
    md = render_markdown(make_report())
    assert "#### Serving" not in md
    assert "#### Tuning" not in md
