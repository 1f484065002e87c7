"""The PR comment: verdict first, numbers derived from the report, hostile input inert, and
never longer than the budget."""

from __future__ import annotations

import re

import pytest

from mlgate.report.document import METRIC_LABELS, Report
from mlgate.report.markdown import MARKER, render_markdown, write_step_summary
from support.report_cases import (
    ALL_CASES,
    CANDIDATE_METRICS,
    CHAMPION_METRICS,
    HEAD_SHA,
    HOSTILE,
    assert_inert,
    deltas_of,
    failed,
    make_report,
    mermaid_points,
    metric_row,
    no_champion,
    not_comparable,
    skipped,
    table_after,
    unbold,
    verdict_line,
    verdict_reasons,
)

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
        candidate={"metrics": cand}, champion={"metrics": champ}, deltas=deltas_of(cand, champ)
    )
    cells = [unbold(c) for c in metric_row(render_markdown(report), metric)]
    assert cells[5] == mark
    relative = (candidate - champion) / champion * 100
    assert cells[4] == f"{relative:+.1f}%"


def test_worse_rmse_shows_worse_mark_and_positive_relative_delta():
    cand = {**CANDIDATE_METRICS, "root_mean_squared_error": 7.0}
    report = make_report(
        candidate={"metrics": cand},
        deltas=deltas_of(cand, CHAMPION_METRICS),
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
