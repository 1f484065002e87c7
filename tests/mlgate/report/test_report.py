"""The PR comment: verdict first, numbers derived from the report, hostile input inert, and
never longer than the budget."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from mlgate.report.document import GREATER_IS_BETTER, METRIC_LABELS, Report
from mlgate.report.markdown import MARKER, render_markdown, write_step_summary

HEAD_SHA = "3f9c2b7d81e04a6c9b5d2e7f1a0c3b4d5e6f7a8b"
CANDIDATE_METRICS = {
    "root_mean_squared_error": 6.124,
    "mean_absolute_error": 4.381,
    "r2_score": 0.641,
    "max_error": 52.75,
    "train_root_mean_squared_error": 5.902,
}
CHAMPION_METRICS = {
    "root_mean_squared_error": 6.402,
    "mean_absolute_error": 4.512,
    "r2_score": 0.612,
    "max_error": 52.75,
}


def _deltas(candidate: dict[str, float], champion: dict[str, float]) -> dict[str, Any]:
    """Deltas as the training step computes them: relative is a fraction of the champion's."""
    deltas = {}
    for key in candidate.keys() & champion.keys():
        absolute = candidate[key] - champion[key]
        better = None if absolute == 0 else (absolute > 0) == GREATER_IS_BETTER[key]
        deltas[key] = {
            "candidate": candidate[key],
            "champion": champion[key],
            "absolute": absolute,
            "relative": absolute / abs(champion[key]),
            "better": better,
        }
    return deltas


SUB_DOCUMENTS = {"candidate", "champion", "comparison", "gate", "lineage", "links", "status"}


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Override the fields of a sub-document one by one (`candidate={"version": "8"}`); any
    other value, including a whole `metrics` or `params` dict and None, replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if key in SUB_DOCUMENTS and isinstance(value, dict) and merged.get(key) is not None:
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def make_report(**overrides: Any) -> Report:
    """A realistic PR report: a Lasso candidate that beats champion v3 on the same data."""
    base: dict[str, Any] = {
        "generated_at": "2025-06-02T14:03:27+00:00",
        "experiment": "mlgate",
        "registered_model": "mlgate",
        "tracking_uri": "https://ci:s3cret@mlflow.example.com/?token=abc",
        "candidate": {
            "run_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "model_uri": "models:/m-0123456789abcdef",
            "version": "7",
            "estimator": "Lasso",
            "params": {"alpha": 0.002, "max_iter": 2000, "fit_intercept": True, "tol": 0.0001},
            "metrics": dict(CANDIDATE_METRICS),
            "model_size_bytes": 1_843_200,
            "latency": {"batch_size": 1000, "p50_ms": 3.4171, "p95_ms": 5.1049},
        },
        "champion": {
            "version": "3",
            "run_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "estimator": "Lasso",
            "params": {
                "alpha": "0.01",
                "max_iter": "1000",
                "fit_intercept": "True",
                "tol": "0.0001",
            },
            "comparable": True,
            "metrics": dict(CHAMPION_METRICS),
            "recorded_metrics": {"root_mean_squared_error": 6.377},
            "data_digests": {"train": "9c41e0aa", "validation": "d07b33f2"},
        },
        "comparison": {"performed": True},
        "deltas": _deltas(CANDIDATE_METRICS, CHAMPION_METRICS),
        "gate": {
            "metric": "root_mean_squared_error",
            "greater_is_better": False,
            "relative_tolerance": 0.02,
            "bounds": {"root_mean_squared_error": {"max": 12.0}, "r2_score": {"min": 0.3}},
            "passed": True,
            "baseline": "champion",
            "reasons": ["RMSE 6.124 is 4.3% better than champion v3 (6.402), tolerance 2.0%"],
        },
        "data": [
            {
                "role": "train",
                "path": "data/green_tripdata_2023-01.parquet",
                "rows_raw": 62_495,
                "rows": 60_112,
                "digest": "9c41e0aa",
            },
            {
                "role": "validation",
                "path": "data/green_tripdata_2023-02.parquet",
                "rows_raw": 64_809,
                "rows": 62_390,
                "digest": "5be61d09",
            },
        ],
        "timings_s": {"train": 12.83, "evaluate": 0.94},
        "lineage": {
            "git_commit": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
            "branch": "feature/lower-alpha",
            "dirty": False,
            "lock_hash": "sha256:4f1d2c3b",
            "pr_number": 42,
            "head_sha": HEAD_SHA,
            "workflow_run_url": "https://github.com/acme/trip/actions/runs/991",
        },
        "history": [
            {"version": "1", "value": 6.911, "label": "v1"},
            {"version": "2", "value": 6.588, "label": "v2"},
            {"version": "3", "value": 6.402, "label": "v3"},
        ],
        "links": {
            "run": "https://mlflow.example.com/#/experiments/1/runs/a1b2c3d4",
            "model_version": "https://mlflow.example.com/#/models/mlgate/versions/7",
            "workflow_run": "https://github.com/acme/trip/actions/runs/991",
        },
    }
    return Report.model_validate(_merge(base, overrides))


def no_champion(**overrides: Any) -> Report:
    gate = {"baseline": "bounds-only", "reasons": ["RMSE 6.124 <= 12.0"]}
    return make_report(**_merge({"champion": None, "deltas": {}, "gate": gate}, overrides))


def skipped(**overrides: Any) -> Report:
    reason = "fork PR without tracking credentials: ephemeral local store"
    base = {
        "champion": None,
        "deltas": {},
        "comparison": {"performed": False, "skipped_reason": reason},
        "gate": {"baseline": "bounds-only", "reasons": ["RMSE 6.124 <= 12.0"]},
        "links": {"run": None, "model_version": None},
        "history": [],
    }
    return make_report(**_merge(base, overrides))


def not_comparable(**overrides: Any) -> Report:
    champion = {
        "comparable": False,
        "not_comparable_reason": "column PULocationID: expected int32, got int64",
        "metrics": {},
        "recorded_metrics": {"root_mean_squared_error": 6.377, "r2_score": 0.605},
    }
    gate = {"baseline": "bounds-only", "reasons": ["RMSE 6.124 <= 12.0"]}
    base = {"champion": champion, "deltas": {}, "gate": gate}
    return make_report(**_merge(base, overrides))


def failed(step: str = "tests") -> Report:
    return Report.model_validate(
        {
            "generated_at": "2025-06-02T14:03:27Z",
            "status": {"outcome": "failure", "failed_step": step},
            "lineage": {"pr_number": 42, "head_sha": HEAD_SHA},
            "links": {"workflow_run": "https://github.com/acme/trip/actions/runs/991"},
        }
    )


# --- helpers to read the rendered Markdown back ------------------------------------------------


def verdict_line(md: str) -> str:
    """The first line after the title: the verdict, one sentence."""
    lines = [line for line in md.splitlines() if line.strip()]
    return lines[2]


def verdict_reasons(md: str) -> list[str]:
    """The gate's checks listed under the verdict sentence."""
    lines = [line for line in md.splitlines() if line.strip()]
    reasons = []
    for line in lines[3:]:
        if not line.startswith("- "):
            break
        reasons.append(line.removeprefix("- "))
    return reasons


def table_after(md: str, heading_fragment: str) -> list[list[str]]:
    """Cells of the first table after a heading containing `heading_fragment`."""
    start = md.index(heading_fragment)
    rows = []
    for line in md[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows


def metric_row(md: str, metric: str, heading: str = "#### Metrics") -> list[str]:
    for cells in table_after(md, heading):
        if METRIC_LABELS[metric] in cells[0]:
            return cells
    raise AssertionError(f"no row for {metric}")


def unbold(cell: str) -> str:
    return cell.removeprefix("**").removesuffix("**")


def mermaid_points(md: str) -> list[str]:
    match = re.search(r"```mermaid\n(.*?)```", md, re.DOTALL)
    assert match, "no mermaid block"
    line = re.search(r"^\s*line \[(.*)\]$", match.group(1), re.MULTILINE)
    return [v.strip() for v in line.group(1).split(",")]


ALL_CASES = {
    "champion": make_report,
    "no champion": no_champion,
    "skipped": skipped,
    "not comparable": not_comparable,
    "failed": failed,
}


# --- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("build", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_marker_first_then_title_then_verdict(build):
    md = render_markdown(build())
    assert md.startswith(MARKER + "\n")
    assert md.count(MARKER) == 1
    lines = [line for line in md.splitlines() if line.strip()]
    assert lines[1].startswith("### ")
    assert re.match(r"^(\u2705|\u274c|\u26a0\ufe0f) \*\*", lines[2]), lines[2]


@pytest.mark.parametrize("build", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_no_python_literals_leak(build):
    md = render_markdown(build())
    assert not re.search(r"\b(None|nan|NaN|inf|True|False)\b", md)


def test_verdict_comes_before_the_metrics_table_and_details_after():
    md = render_markdown(make_report())
    order = [
        verdict_line(md),
        "#### Metrics on the same validation data",
        "#### Changes against champion v3",
        "#### Data",
        "#### Cost",
        "```mermaid",
        "\U0001f517 ",
        "<details>",
        "Computed for PR head",
    ]
    positions = [md.index(fragment) for fragment in order]
    assert positions == sorted(positions)


def test_title_names_the_pull_request():
    report = make_report()
    assert f"PR #{report.lineage.pr_number}" in render_markdown(report).splitlines()[2]


# --- verdicts --------------------------------------------------------------------------------


@pytest.mark.parametrize("passed", [True, False])
def test_verdict_against_champion_says_promoted_or_not_with_reasons(passed):
    reason = "RMSE 6.124 vs 6.402"
    report = make_report(gate={"passed": passed, "reasons": [reason]})
    line = verdict_line(render_markdown(report))
    expected = "Would be promoted on merge" if passed else "Would not be promoted on merge"
    assert line.startswith(("\u2705 " if passed else "\u274c ") + f"**{expected}**")
    assert f"{'passed' if passed else 'failed'} against champion v3" in line
    assert line.count(".") == 1  # one sentence; the reasons follow it
    assert verdict_reasons(render_markdown(report)) == [reason]


@pytest.mark.parametrize(("prefix", "mark"), [("pass", "\u2705"), ("FAIL", "\u274c")])
def test_gate_reason_outcomes_become_marks_not_repeated_words(prefix, mark):
    report = no_champion(gate={"reasons": [f"{prefix}: RMSE (min) 5.67 \u2264 bound 12"]})
    md = render_markdown(report)
    assert verdict_reasons(md) == [f"{mark} RMSE (min) 5.67 \u2264 bound 12"]
    assert f"{prefix}:" not in md


def test_first_model_is_judged_by_bounds_alone():
    report = no_champion()
    md = render_markdown(report)
    line = verdict_line(md)
    assert "Would be promoted on merge" in line
    assert "no champion yet, so this first model was judged by the gate's absolute bounds" in line
    assert verdict_reasons(md) == [report.gate.reasons[0].replace("<", "&lt;")]
    rows = table_after(md, "#### Metrics")
    assert rows[0][:2] == ["Metric", "Candidate v7"]
    assert "Champion" not in md.split("#### Metrics", 1)[1].split("####", 1)[0]


def test_skipped_comparison_says_why_and_shows_candidate_alone():
    report = skipped()
    md = render_markdown(report)
    line = verdict_line(md)
    assert "Not compared with the champion" in line
    assert report.comparison.skipped_reason in line
    assert "Would be promoted" not in line
    rows = table_after(md, "#### Metrics")
    assert len(rows[0]) == 3  # metric, candidate, gate bound: no champion, no deltas
    assert len(rows) == 2 + len(report.candidate.metrics)


def test_not_comparable_champion_gets_a_separate_labelled_table_without_deltas():
    report = not_comparable()
    md = render_markdown(report)
    assert "cannot score this validation data" in verdict_line(md)
    candidate_rows = table_after(md, "#### Metrics")
    assert "\u0394" not in candidate_rows[0]
    heading = "recorded metrics, NOT comparable"
    assert heading in md
    assert report.champion.not_comparable_reason in md
    rows = table_after(md, heading)
    assert "not comparable" in rows[0][1]
    recorded = report.champion.recorded_metrics
    assert len(rows) == 2 + len(recorded)
    for cells in rows[2:]:
        key = next(k for k in recorded if METRIC_LABELS[k] in cells[0])
        assert cells[1] == f"{recorded[key]:,.3f}"
    assert "\u2705 better" not in md
    assert "\u274c worse" not in md


@pytest.mark.parametrize("step", ["tests", "lint"])
def test_failed_run_names_the_step_and_says_nothing_was_registered(step):
    md = render_markdown(failed(step))
    line = verdict_line(md)
    assert f"failed at step <code>{step}</code>" in line
    assert "nothing was registered" in line
    assert "[workflow run](https://github.com/acme/trip/actions/runs/991)" in line
    assert "#### Metrics" not in md
    assert HEAD_SHA in md


def test_failure_after_registration_says_so():
    report = make_report(status={"outcome": "failure", "failed_step": "report"})
    line = verdict_line(render_markdown(report))
    assert "candidate v7 was registered before the failure" in line


# --- metrics table ---------------------------------------------------------------------------


def test_every_metric_has_a_row_with_values_and_deltas_from_the_report():
    report = make_report()
    md = render_markdown(report)
    rows = table_after(md, "#### Metrics")
    assert rows[0][:6] == [
        "Metric",
        "Candidate v7",
        "Champion v3",
        "\u0394",
        "\u0394 %",
        "vs champion",
    ]
    metrics = report.candidate.metrics.keys() | report.champion.metrics.keys()
    assert len(rows) == 2 + len(metrics)
    for key, delta in report.deltas.items():
        cells = [unbold(c) for c in metric_row(md, key)]
        assert cells[1] == f"{delta.candidate:,.3f}"
        assert cells[2] == f"{delta.champion:,.3f}"
        assert cells[3] == f"{delta.absolute:+,.3f}"
        assert cells[4] == f"{delta.relative * 100:+.1f}%"


def test_gate_metric_row_is_first_and_bold():
    md = render_markdown(make_report())
    first = table_after(md, "#### Metrics")[2]
    assert first[0] == f"**{METRIC_LABELS['root_mean_squared_error']} \U0001f3af**"
    assert all(cell.startswith("**") for cell in first)


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "mark"),
    [
        ("root_mean_squared_error", 6.9, 6.4, "\u274c worse"),
        ("root_mean_squared_error", 6.1, 6.4, "\u2705 better"),
        ("r2_score", 0.70, 0.61, "\u2705 better"),
        ("r2_score", 0.55, 0.61, "\u274c worse"),
        ("max_error", 52.75, 52.75, "\u2796 equal"),
    ],
)
def test_mark_is_direction_aware(metric, candidate, champion, mark):
    cand = {**CANDIDATE_METRICS, metric: candidate}
    champ = {**CHAMPION_METRICS, metric: champion}
    report = make_report(
        candidate={"metrics": cand}, champion={"metrics": champ}, deltas=_deltas(cand, champ)
    )
    cells = [unbold(c) for c in metric_row(render_markdown(report), metric)]
    assert cells[5] == mark
    relative = (candidate - champion) / champion * 100
    assert cells[4] == f"{relative:+.1f}%"


def test_worse_rmse_shows_worse_mark_and_positive_relative_delta():
    cand = {**CANDIDATE_METRICS, "root_mean_squared_error": 7.0}
    report = make_report(
        candidate={"metrics": cand},
        deltas=_deltas(cand, CHAMPION_METRICS),
        gate={"passed": False, "reasons": ["RMSE 7.000 is 9.3% worse than 6.402"]},
    )
    md = render_markdown(report)
    cells = [unbold(c) for c in metric_row(md, "root_mean_squared_error")]
    assert re.fullmatch(r"\+\d+\.\d%", cells[4])
    assert cells[5] == "\u274c worse"
    assert "Would not be promoted on merge" in verdict_line(md)


def test_deltas_missing_from_the_report_are_computed_alike():
    report = make_report(deltas={})
    md = render_markdown(report)
    cells = [unbold(c) for c in metric_row(md, "mean_absolute_error")]
    absolute = CANDIDATE_METRICS["mean_absolute_error"] - CHAMPION_METRICS["mean_absolute_error"]
    assert cells[3] == f"{absolute:+,.3f}"
    assert cells[5] == "\u2705 better"


def test_metric_only_the_candidate_has_gets_dashes():
    cells = metric_row(render_markdown(make_report()), "train_root_mean_squared_error")
    assert cells[2:6] == ["\u2014"] * 4


def test_bounds_are_shown_and_checked():
    md = render_markdown(make_report())
    assert metric_row(md, "root_mean_squared_error")[-1] == "**\u2264 12.000 \u2705**"
    assert metric_row(md, "r2_score")[-1] == "\u2265 0.300 \u2705"


def test_non_finite_metrics_render_as_words():
    cand = {**CANDIDATE_METRICS, "max_error": float("nan"), "r2_score": float("-inf")}
    report = make_report(candidate={"metrics": cand}, deltas={})
    md = render_markdown(report)
    assert metric_row(md, "max_error")[1] == "n/a"
    assert metric_row(md, "r2_score")[1] == "-\u221e"
    assert metric_row(md, "max_error")[3] == "\u2014"


# --- what changed, data, cost, links ------------------------------------------------------------


def test_params_diff_lists_only_changed_values_old_to_new():
    md = render_markdown(make_report())
    rows = table_after(md, "#### Changes against champion v3")
    changed = {cells[0]: cells[1] for cells in rows[2:]}
    assert changed == {
        "<code>alpha</code>": "<code>0.01</code> \u2192 <code>0.002</code>",
        "<code>max&#95;iter</code>": "<code>1000</code> \u2192 <code>2000</code>",
    }
    assert "Model <code>Lasso</code> (unchanged)" in md


def test_params_diff_shows_estimator_change_and_added_or_removed_params():
    report = make_report(
        candidate={"estimator": "ElasticNet", "params": {"alpha": 0.01, "l1_ratio": 0.5}},
        champion={"params": {"alpha": "0.01", "selection": "cyclic"}},
    )
    md = render_markdown(report)
    assert "Model changed: <code>Lasso</code> \u2192 <code>ElasticNet</code>" in md
    rows = {cells[0]: cells[1] for cells in table_after(md, "#### Changes")[2:]}
    assert rows == {
        "<code>l1&#95;ratio</code>": "<i>absent</i> \u2192 <code>0.5</code>",
        "<code>selection</code>": "<code>cyclic</code> \u2192 <i>absent</i>",
    }


def test_same_params_say_so():
    params = {"alpha": "0.002", "max_iter": "2000", "fit_intercept": "True", "tol": "0.0001"}
    md = render_markdown(make_report(champion={"params": params}))
    assert "Same hyperparameters as champion v3." in md


def test_without_champion_all_params_are_listed():
    report = no_champion()
    rows = table_after(render_markdown(report), "#### Hyperparameters")
    assert len(rows) == 2 + len(report.candidate.params)


def test_data_rows_digests_and_champion_digest_match():
    report = make_report()
    md = render_markdown(report)
    rows = table_after(md, "#### Data")
    for info, cells in zip(report.data, rows[2:], strict=True):
        assert cells[0] == info.role.title()
        assert cells[2].startswith(f"{info.rows:,} / {info.rows_raw:,}")
        assert info.digest in cells[3]
    assert rows[2][4] == "\u2705 same"  # train digests match in the fixture
    assert rows[3][4].startswith("\u26a0\ufe0f differs")
    assert "trained on **different** data (validation differs)" in md


def test_data_without_champion_digests_has_no_comparison_column():
    md = render_markdown(no_champion())
    assert len(table_after(md, "#### Data")[0]) == 4


def test_cost_in_human_units():
    report = make_report()
    md = render_markdown(report)
    rows = {cells[0]: cells[1:] for cells in table_after(md, "#### Cost")[2:]}
    assert rows["Model size on disk"] == [f"{report.candidate.model_size_bytes / 1024**2:.2f} MB"]
    latency = report.candidate.latency
    where = f"batch of {latency.batch_size:,} raw records"
    assert rows[f"Prediction latency p50, {where}"] == [f"{latency.p50_ms:.2f} ms"]
    assert rows[f"Prediction latency p95, {where}"] == [f"{latency.p95_ms:.2f} ms"]
    assert f"Fit {report.timings_s['train']:.1f} s" in md
    assert f"Evaluate {report.timings_s['evaluate'] * 1000:.0f} ms" in md


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("load", "Load data"),
        ("log_model", "Log model"),
        ("compare", "Compare with champion"),
        ("warm_cache", "Warm cache"),
    ],
)
def test_timings_have_human_labels(key, label):
    md = render_markdown(make_report(timings_s={key: 2.5}))
    assert f"Time: {label} 2.5 s." in md


def test_cost_sits_beside_the_champions_with_the_change():
    champion_latency = {"batch_size": 1000, "p50_ms": 2.0, "p95_ms": 4.0}
    report = make_report(champion={"model_size_bytes": 921_600, "latency": champion_latency})
    rows = table_after(render_markdown(report), "#### Cost")
    assert rows[0] == ["Cost", "Candidate v7", "Champion v3", "\u0394 %"]
    by_label = {cells[0]: cells[1:] for cells in rows[2:]}
    size = report.candidate.model_size_bytes
    assert by_label["Model size on disk"] == [
        f"{size / 1024**2:.2f} MB",
        "900.0 KB",
        f"{(size - 921_600) / 921_600 * 100:+.1f}%",
    ]
    p50 = report.candidate.latency.p50_ms
    label = "Prediction latency p50, batch of 1,000 raw records"
    assert by_label[label] == [f"{p50:.2f} ms", "2.00 ms", f"{(p50 - 2.0) / 2.0 * 100:+.1f}%"]


def test_champion_latency_on_another_batch_size_is_not_compared():
    latency = {"batch_size": 10, "p50_ms": 2.0, "p95_ms": 4.0}
    report = make_report(champion={"model_size_bytes": 921_600, "latency": latency})
    rows = {c[0]: c[1:] for c in table_after(render_markdown(report), "#### Cost")[2:]}
    assert rows["Prediction latency p50, batch of 1,000 raw records"][1:] == ["\u2014"] * 2


def test_estimator_is_the_model_not_a_hyperparameter_row():
    params = {"estimator": "sklearn.linear_model.Lasso", "alpha": 0.1}
    report = no_champion(candidate={"estimator": "sklearn.linear_model.Lasso", "params": params})
    md = render_markdown(report)
    rows = table_after(md, "#### Hyperparameters")
    assert [cells[0] for cells in rows[2:]] == ["<code>alpha</code>"]
    assert "Model <code>sklearn.linear&#95;model.Lasso</code>" in md


def test_booleans_have_one_format_whatever_their_source():
    report = make_report(champion={"params": {"fit_intercept": "False"}})
    changed = {c[0]: c[1] for c in table_after(render_markdown(report), "#### Changes")[2:]}
    assert changed["<code>fit&#95;intercept</code>"] == (
        "<code>false</code> \u2192 <code>true</code>"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(512, "512 B"), (20_480, "20.0 KB"), (5 * 1024**2, "5.00 MB"), (3 * 1024**3, "3.00 GB")],
)
def test_model_size_units(size, text):
    md = render_markdown(make_report(candidate={"model_size_bytes": size}))
    assert f"| Model size on disk | {text} |" in md


def test_links_to_run_model_version_and_workflow_run():
    report = make_report()
    md = render_markdown(report)
    assert f"[MLflow run]({report.links.run})" in md
    assert f"[Model version 7]({report.links.model_version})" in md
    assert f"[Workflow run]({report.links.workflow_run})" in md


def test_links_without_urls_are_left_out():
    md = render_markdown(skipped())
    assert "[MLflow run]" not in md
    assert "[Workflow run](" in md


def test_head_sha_short_and_full_and_generation_time():
    md = render_markdown(make_report())
    assert f"**{HEAD_SHA[:7]}** (<code>{HEAD_SHA}</code>)" in md
    assert "generated 2025-06-02 14:03:27 UTC" in md


# --- chart and lineage -------------------------------------------------------------------------


def test_chart_has_history_plus_candidate():
    report = make_report()
    points = mermaid_points(render_markdown(report))
    expected = [p.value for p in report.history] + [
        report.candidate.metrics["root_mean_squared_error"]
    ]
    assert points == [f"{v:.3f}" for v in expected]
    assert "xychart-beta" in render_markdown(report)


@pytest.mark.parametrize(
    ("history", "chart"),
    [([], False), ([{"version": "3", "value": 6.402, "label": "v3"}], True)],
)
def test_chart_needs_two_points(history, chart):
    md = render_markdown(make_report(history=history))
    assert ("```mermaid" in md) is chart


def test_no_chart_when_candidate_alone():
    assert "```mermaid" not in render_markdown(skipped())


def test_lineage_is_collapsible_and_hides_tracking_credentials():
    report = make_report()
    md = render_markdown(report)
    details = md[md.index("<details>") : md.index("</details>")]
    assert "<summary>Lineage</summary>" in details
    for value in (report.lineage.git_commit, report.lineage.lock_hash, "clean"):
        assert value in details
    assert "feature/lower-alpha" in details
    assert "s3cret" not in md
    assert "token=abc" not in md
    assert "mlflow.example.com" in details


def test_dirty_tree_is_flagged():
    md = render_markdown(make_report(lineage={"dirty": True}))
    assert "dirty (uncommitted changes)" in md


# --- hostile input -----------------------------------------------------------------------------

HOSTILE = "x|y\n<script>alert(1)</script> `code` **bold** [a](https://evil) @octocat $x$"


def assert_inert(md: str) -> None:
    assert "<script>" not in md
    assert "**bold**" not in md
    assert "[a](https://evil)" not in md
    assert "`code`" not in md
    assert "@octocat" not in md


@pytest.mark.parametrize(
    "overrides",
    [
        {"candidate": {"params": {"alpha": HOSTILE, HOSTILE: 1}}},
        {"data": [{"role": "train", "path": HOSTILE, "rows_raw": 1, "rows": 1, "digest": "d"}]},
        {"lineage": {"branch": HOSTILE, "head_sha": HOSTILE}},
        {"gate": {"reasons": [HOSTILE]}},
        {"champion": {"version": HOSTILE}},
        {"history": [{"version": "1", "value": 1.0, "label": HOSTILE + '"]```'}]},
        {"candidate": {"metrics": {HOSTILE: 1.0}}},
    ],
    ids=["params", "data path", "branch and sha", "gate reason", "version", "history", "metric"],
)
def test_hostile_strings_are_inert(overrides):
    md = render_markdown(make_report(**overrides))
    assert_inert(md)
    for line in md.splitlines():
        if line.startswith("|"):
            assert "x|y" not in line
    assert md.count("```") in (0, 2)


def test_hostile_failed_step_and_skip_reason_are_inert():
    assert_inert(render_markdown(failed(HOSTILE)))
    assert_inert(render_markdown(skipped(comparison={"skipped_reason": HOSTILE})))


def test_table_rows_keep_their_column_count_with_hostile_cells():
    md = render_markdown(make_report(candidate={"params": {"alpha": HOSTILE}}))
    rows = table_after(md, "#### Changes")
    assert {len(cells) for cells in rows} == {2}


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://x.example/a) [b](https://evil", "data:text/html,x"]
)
def test_unsafe_links_are_dropped_or_defused(url):
    md = render_markdown(make_report(links={"run": url}))
    assert "javascript:" not in md
    assert "data:text" not in md
    assert "[b](https://evil" not in md


# --- length budget -----------------------------------------------------------------------------


def huge_report() -> Report:
    params = {f"param_{i:04d}": "v" * 70 for i in range(600)}
    history = [{"version": str(i), "value": 6.0 + i / 1000, "label": f"v{i}"} for i in range(500)]
    return make_report(
        candidate={"params": params},
        history=history,
        lineage={"branch": "b" * 5000},
        data=[
            {"role": "train", "path": "p" * 5000, "rows_raw": 10, "rows": 9, "digest": "d" * 900}
        ],
    )


@pytest.mark.parametrize("max_chars", [2_000, 3_000, 6_000])
def test_small_budget_keeps_verdict_and_table_and_drops_details(max_chars):
    report = huge_report()
    full = render_markdown(report, max_chars=10**7)
    md = render_markdown(report, max_chars=max_chars)
    assert len(md) <= max_chars < len(full)
    assert md.startswith(MARKER)
    assert verdict_line(md) == verdict_line(full)
    assert table_after(md, "#### Metrics") == table_after(full, "#### Metrics")
    omitted = md.split("Omitted to fit the comment size limit: ")[1].split(".")[0].split(", ")
    assert "hyperparameters" in omitted
    assert "#### Hyperparameters" not in md
    assert ("<details>" in md) is ("lineage" not in omitted)


def test_default_budget_is_githubs_limit():
    row = {"role": "train", "path": "p" * 100, "rows_raw": 10, "rows": 9, "digest": "d" * 64}
    report = make_report(data=[row] * 1_000)
    md = render_markdown(report)
    full = render_markdown(report, max_chars=10**7)
    assert len(full) > 65_536 >= len(md)
    assert verdict_line(md) == verdict_line(full)
    assert table_after(md, "#### Metrics") == table_after(full, "#### Metrics")
    assert "Omitted to fit the comment size limit: data." in md


def test_body_exactly_at_the_limit_is_untouched():
    full = render_markdown(make_report())
    assert render_markdown(make_report(), max_chars=len(full)) == full
    shorter = render_markdown(make_report(), max_chars=len(full) - 1)
    assert len(shorter) <= len(full) - 1
    assert "Omitted to fit" in shorter


def test_least_important_details_go_first():
    full = render_markdown(make_report())
    lineage = full[full.index("<details>") : full.index("</details>") + len("</details>")]
    without_lineage = full.replace(lineage, "")
    md = render_markdown(make_report(), max_chars=len(without_lineage) + 200)
    assert "<details>" not in md
    assert "```mermaid" in md
    assert "Omitted to fit the comment size limit: lineage." in md


def test_pathological_report_is_hard_truncated_with_a_note():
    metrics = {f"metric_{i:05d}_{'m' * 40}": float(i) for i in range(3_000)}
    report = make_report(candidate={"metrics": metrics}, champion={"metrics": {}}, deltas={})
    md = render_markdown(report, max_chars=20_000)
    assert len(md) <= 20_000
    assert md.startswith(MARKER)
    assert "Report truncated to fit the comment size limit" in md
    assert "Would be promoted on merge" in verdict_line(md)


@pytest.mark.parametrize("build", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_never_longer_than_the_budget(build):
    for max_chars in (512, 800, 1_500, 65_536):
        assert len(render_markdown(build(), max_chars=max_chars)) <= max_chars


def test_tiny_budget_is_refused():
    with pytest.raises(ValueError, match="max_chars"):
        render_markdown(make_report(), max_chars=100)


# --- step summary --------------------------------------------------------------------------------


def test_write_step_summary_appends(tmp_path):
    target = tmp_path / "summary.md"
    target.write_text("# Earlier step\n", encoding="utf-8")
    md = render_markdown(make_report())
    env = {"GITHUB_STEP_SUMMARY": str(target)}
    assert write_step_summary(md, env=env) == target
    assert write_step_summary("second", env=env) == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n\n" + MARKER)
    assert text.endswith(md + "\nsecond\n")


@pytest.mark.parametrize("env", [{}, {"GITHUB_STEP_SUMMARY": ""}])
def test_write_step_summary_without_variable_does_nothing(env):
    assert write_step_summary("x", env=env) is None
