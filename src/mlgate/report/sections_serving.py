"""The Serving section of the comment's view model: the serving contract's outcome with the
failing request, latency and model size through MLflow's scoring server beside the
champion's, and whether the clean-environment requirements check ran."""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.report import format as fmt
from mlgate.report.document import Latency, Report
from mlgate.report.escape import DASH, Md, code, text
from mlgate.report.sections import champion_name, relative
from mlgate.report.table import Table, capped

_REQUIREMENTS = {
    True: "\u2705 The logged requirements install into a clean environment and the model "
    "predicts there.",
    False: "\u274c The logged requirements do not install into a clean environment, or the "
    "model does not predict there.",
    None: "_The clean-environment requirements check did not run for this report._",
}


@dataclass(frozen=True)
class Serving:
    headline: Md
    passed: bool  # a failing contract shows its requests unfolded
    checks_summary: Md
    checks: Table | None  # each request: name, outcome, what was sent and returned
    cost: Table | None  # latency and size, candidate beside the champion
    requirements: Md


def serving(report: Report) -> Serving | None:
    found = report.serving
    if found is None:
        return None
    ok, total = sum(check.passed for check in found.checks), len(found.checks)
    if found.passed:
        headline = (
            "\u2705 MLflow's scoring server serves the candidate as logged: "
            f"{ok} of {total} requests passed."
        )
    else:
        failing = found.failed_request or "no failing request recorded"
        headline = (
            f"\u274c **The candidate cannot be served as logged**: {ok} of {total} requests "
            f"passed; the first failure: {code(failing, 300)}."
        )
    checks = None
    if found.checks:
        rows = [
            [text(c.name, 80), Md("\u2705" if c.passed else "\u274c"), text(c.detail, 240)]
            for c in found.checks
        ]
        header = [Md("Request"), Md("Result"), Md("What was sent and returned")]
        checks = capped(header, "lll", rows)
    return Serving(
        headline=Md(headline),
        passed=found.passed,
        checks_summary=Md(f"Contract requests: {ok}/{total} as expected"),
        checks=checks,
        cost=_cost(report),
        requirements=Md(_REQUIREMENTS[found.requirements_checked]),
    )


def _cost(report: Report) -> Table | None:
    """One row per measurement; the champion's column stays (dashes) when it was not measured,
    so a missing figure reads as missing rather than as no champion."""
    found = report.serving
    rows = []
    for what, mine, theirs in (
        ("1 record", found.latency_one, found.champion_latency_one),
        ("batch", found.latency_batch, found.champion_latency_batch),
    ):
        if mine is None and theirs is None:
            continue
        if what == "batch":
            what = f"batch of {(mine or theirs).batch_size:,} records"
        change = Md(DASH)
        if mine and theirs:
            p50 = relative(mine.p50_ms, theirs.p50_ms)
            p95 = relative(mine.p95_ms, theirs.p95_ms)
            change = Md(f"p50 {p50} \u00b7 p95 {p95}")
        rows.append([Md(f"HTTP latency, {what}"), _latency(mine), _latency(theirs), change])
    size, theirs_size = found.model_size_bytes, found.champion_model_size_bytes
    if size is not None or theirs_size is not None:
        sizes = [fmt.size(size), fmt.size(theirs_size), relative(size, theirs_size)]
        rows.append([Md("Model size on disk"), *sizes])
    if not rows:
        return None
    with_champion = report.champion is not None or any(
        (found.champion_latency_one, found.champion_latency_batch, theirs_size)
    )
    header = [Md("Served"), Md("Candidate"), champion_name(report.champion), Md("\u0394 %")]
    if not with_champion:
        return Table(header[:2], "lr", [row[:2] for row in rows])
    return Table(header, "lrrr", rows)


def _latency(latency: Latency | None) -> Md:
    if latency is None:
        return Md(DASH)
    p50, p95 = fmt.milliseconds(latency.p50_ms), fmt.milliseconds(latency.p95_ms)
    return Md(f"p50 {p50} \u00b7 p95 {p95}")
