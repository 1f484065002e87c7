"""The view model of the comment: what the template shows, decided and escaped in Python.

Each section is built from the report by one function here (or in `sections.py`) and handed
to the template under the block's name; a section that has nothing to show is None. Every
string in the result is an `Md` (escaped or fixed text); the report itself is also passed,
and anything the template takes from it directly is escaped on output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mlgate.report import format as fmt
from mlgate.report import sections, sections_classes, sections_serving, sections_tuning
from mlgate.report.document import (
    GREATER_IS_BETTER,
    METRIC_LABELS,
    Champion,
    Delta,
    Gate,
    Report,
    metric_label,
)
from mlgate.report.escape import DASH, Md, code, link, text
from mlgate.report.table import Table, bold

DEFAULT_METRIC = "root_mean_squared_error"
MAX_REASONS = 5


@dataclass(frozen=True)
class Reason:
    mark: Md  # ✅, ❌ or empty
    text: Md


@dataclass(frozen=True)
class Verdict:
    """One sentence (`headline`), then the checks behind it."""

    headline: Md
    reasons: list[Reason]


@dataclass(frozen=True)
class Metrics:
    heading: Md
    note: Md | None
    table: Table
    gate: Md | None
    recorded: sections.Titled | None  # a champion that could not score this data


def build(report: Report) -> dict[str, Any]:
    """The template's variables: one per section, plus the report and the model's own words."""
    return {
        "report": report,
        "model": report.model,
        "title": title(report),
        "verdict": verdict(report),
        "metrics": metrics(report),
        "classes": sections_classes.classes(report),
        "serving": sections_serving.serving(report),
        "tuning": sections_tuning.tuning(report),
        "hyperparameters": sections.hyperparameters(report),
        "data": sections.data(report),
        "cost": sections.cost(report),
        "chart": sections.chart(report, primary(report)),
        "links": sections.links(report),
        "lineage": sections.lineage(report),
        "footer": sections.footer(report),
    }


def primary(report: Report) -> str:
    return report.gate.metric if report.gate else DEFAULT_METRIC


def label(metric: str, report: Report) -> Md:
    return text(metric_label(metric, report.model.unit), 60)


def title(report: Report) -> Md:
    pr = report.lineage.pr_number
    return Md(f"{text(report.model.title, 120)}" + (f" \u00b7 PR #{pr}" if pr else ""))


# --- verdict ------------------------------------------------------------------------------------


def verdict(report: Report) -> Verdict:
    """Would this model be promoted on merge, in one sentence, then the gate's checks."""
    if report.status.outcome == "failure":
        return Verdict(failure_headline(report), [])
    gate, champion = report.gate, report.champion
    if gate is None:
        return Verdict(
            Md("\u26a0\ufe0f **Would not be promoted on merge**: the report has no gate decision."),
            [],
        )
    outcome = "passed" if gate.passed else "failed"
    if not report.comparison.performed:
        why = text(report.comparison.skipped_reason or "no reason recorded", 300)
        headline = (
            f"\u26a0\ufe0f **Not compared with the champion**: the comparison was skipped "
            f"({why}), and the gate's absolute bounds alone {outcome}."
        )
        return Verdict(Md(headline), reasons(gate))
    head = (
        "\u2705 **Would be promoted on merge**"
        if gate.passed
        else "\u274c **Would not be promoted on merge**"
    )
    if champion is None:
        basis = (
            "there is no champion yet, so this first model was judged by the gate's absolute "
            f"bounds alone, which it {outcome}"
        )
    elif not champion.comparable:
        basis = (
            f"champion v{text(champion.version, 20)} cannot score this validation data, "
            f"so the gate judged the absolute bounds alone, which {outcome}"
        )
    elif gate.baseline == "bounds-only":
        basis = f"the gate judged the absolute bounds alone, which {outcome}"
    else:
        basis = f"the quality gate {outcome} against champion v{text(champion.version, 20)}"
    return Verdict(Md(f"{head}: {basis}."), reasons(gate))


def reasons(gate: Gate) -> list[Reason]:
    """The gate's checks with their outcome as a mark instead of a "pass:"/"FAIL:" prefix."""
    found = []
    for raw in gate.reasons[:MAX_REASONS]:
        mark, _, rest = raw.partition(": ")
        if mark.lower() in ("pass", "fail") and rest:
            symbol = "\u2705" if mark.lower() == "pass" else "\u274c"
            found.append(Reason(Md(symbol), _reason(rest)))
        else:
            found.append(Reason(Md(""), _reason(raw)))
    extra = len(gate.reasons) - MAX_REASONS
    if extra > 0:
        found.append(Reason(Md(""), Md(f"and {extra} more")))
    return found


def _reason(raw: str) -> Md:
    return Md(text(raw, 300).rstrip(". "))


def failure_headline(report: Report) -> Md:
    step = report.status.failed_step
    where = f"at step {code(step, 60)}" if step else "(step unknown)"
    version = report.candidate.version if report.candidate else None
    if version:
        after = (
            f"candidate v{text(version, 20)} was registered before the failure, "
            "so do not merge until the workflow passes"
        )
    else:
        after = "nothing was registered, so nothing will be promoted on merge"
    run = link("workflow run", workflow_url(report))
    logs = f" (logs: {run})" if run else ""
    return Md(f"\u274c **The workflow failed {where}**: {after}{logs}.")


def workflow_url(report: Report) -> str | None:
    return report.links.workflow_run or report.lineage.workflow_run_url


# --- metrics ------------------------------------------------------------------------------------


def metrics(report: Report) -> Metrics | None:
    """Candidate vs champion on the same data, or the candidate alone when that is all there is."""
    if report.candidate is None:
        return None
    champion, gate = report.champion, gate_line(report)
    if report.comparison.performed and champion is not None and champion.comparable:
        heading = Md("Metrics on the same validation data")
        return Metrics(heading, None, comparison_table(report, champion), gate, None)
    if not report.comparison.performed:
        note = "champion comparison skipped, so the candidate's metrics are shown alone"
    elif champion is None:
        note = "no champion yet, so the candidate's metrics are shown alone"
    else:
        note = "the champion could not score this data (see below), so no deltas"
    heading = Md("Metrics on the validation data")
    return Metrics(heading, Md(note), candidate_table(report), gate, recorded(report))


def ordered(first: str, *metric_sets: Iterable[str]) -> list[str]:
    """The gate metric first, then MLflow's usual regressor metrics, then anything else."""
    present = {key for keys in metric_sets for key in keys}
    known = [key for key in (first, *METRIC_LABELS) if key in present]
    return list(dict.fromkeys(known)) + sorted(present - set(known))


def delta(report: Report, metric: str) -> Delta | None:
    """The report's own delta (it is what the gate saw); computed alike when it has none."""
    if metric in report.deltas:
        return report.deltas[metric]
    candidate = report.candidate.metrics.get(metric) if report.candidate else None
    champion = report.champion.metrics.get(metric) if report.champion else None
    if not (fmt.finite(candidate) and fmt.finite(champion)):
        return None
    absolute = candidate - champion
    direction = GREATER_IS_BETTER.get(metric)
    better = None if absolute == 0 or direction is None else (absolute > 0) == direction
    return Delta(
        candidate=candidate,
        champion=champion,
        absolute=absolute,
        relative=absolute / abs(champion) if champion else None,
        better=better,
    )


def mark(metric: str, change: Delta) -> Md:
    if change.better is True:
        return Md("\u2705 better")
    if change.better is False:
        return Md("\u274c worse")
    if change.absolute == 0 or metric in GREATER_IS_BETTER:
        return Md("\u2796 equal")
    return Md("\u2754 changed (direction unknown)")


def bound(metric: str, value: float | None, gate: Gate | None) -> Md:
    """The gate's absolute bounds for a metric, each checked against the candidate's value."""
    limits = gate.bounds.get(metric, {}) if gate else {}
    parts = []
    for kind, limit in limits.items():
        if kind in ("min", "max") and fmt.finite(limit):
            sign = "\u2265" if kind == "min" else "\u2264"
            check = ""
            if fmt.finite(value):
                ok = value >= limit if kind == "min" else value <= limit
                check = " \u2705" if ok else " \u274c"
            parts.append(f"{sign} {fmt.number(limit)}{check}")
        else:
            parts.append(f"{text(kind, 20)} {fmt.number(limit)}")
    return Md(", ".join(parts) or DASH)


def candidate_name(report: Report) -> Md:
    version = report.candidate.version if report.candidate else None
    return Md(f"Candidate v{text(version, 20)}" if version else "Candidate")


def comparison_table(report: Report, champion: Champion) -> Table:
    first, candidate = primary(report), report.candidate
    with_bounds = bool(report.gate and report.gate.bounds)
    header = [Md("Metric"), candidate_name(report), Md(f"Champion v{text(champion.version, 20)}")]
    header += [Md("\u0394"), Md("\u0394 %"), Md("vs champion")]
    header += [Md("Gate bound")] if with_bounds else []
    rows = []
    for metric in ordered(first, candidate.metrics, champion.metrics):
        value = candidate.metrics.get(metric)
        change = delta(report, metric)
        cells = [fmt.number(value), fmt.number(champion.metrics.get(metric))]
        if change:
            cells += [fmt.signed(change.absolute), fmt.percent(change.relative)]
            cells.append(mark(metric, change))
        else:
            cells += [Md(DASH)] * 3
        cells += [bound(metric, value, report.gate)] if with_bounds else []
        rows.append(_metric_row(metric, cells, first, report))
    return Table(header, "lrrrrl" + ("l" if with_bounds else ""), rows)


def candidate_table(report: Report) -> Table:
    first, values = primary(report), report.candidate.metrics
    with_bounds = bool(report.gate and report.gate.bounds)
    header = [Md("Metric"), candidate_name(report)] + ([Md("Gate bound")] if with_bounds else [])
    rows = []
    for metric in ordered(first, values):
        cells = [fmt.number(values[metric])]
        cells += [bound(metric, values[metric], report.gate)] if with_bounds else []
        rows.append(_metric_row(metric, cells, first, report))
    return Table(header, "lr" + ("l" if with_bounds else ""), rows)


def _metric_row(metric: str, cells: list[Md], first: str, report: Report) -> list[Md]:
    """The gate's metric is the one the decision hangs on: bold, with a target mark."""
    if metric == first:
        return bold([Md(f"{label(metric, report)} \U0001f3af"), *cells])
    return [label(metric, report), *cells]


def recorded(report: Report) -> sections.Titled | None:
    """A champion that cannot score the candidate's data: its own numbers, clearly apart."""
    champion = report.champion
    if champion is None or champion.comparable or not report.comparison.performed:
        return None
    name = f"Champion v{text(champion.version, 20)}"
    reason = text(champion.not_comparable_reason or "its input schema differs", 300)
    note = Md(
        f"It could not score this validation data ({reason}). These are its scores on its "
        "own validation data, for reference only: no deltas."
    )
    heading = Md(f"\u26a0\ufe0f {name}: recorded metrics, NOT comparable")
    if not champion.recorded_metrics:
        return sections.Titled(heading, note, None)
    keys = ordered(primary(report), champion.recorded_metrics)
    rows = [[label(k, report), fmt.number(champion.recorded_metrics[k])] for k in keys]
    header = [Md("Metric"), Md(f"{name} (own data, not comparable)")]
    return sections.Titled(heading, note, Table(header, "lr", rows))


def gate_line(report: Report) -> Md | None:
    gate = report.gate
    if gate is None:
        return None
    direction = "higher" if gate.greater_is_better else "lower"
    tolerance = gate.relative_tolerance
    against = (
        f"at most {tolerance * 100:.1f}% worse than the champion's"
        if fmt.finite(tolerance) and tolerance > 0
        else "no worse than the champion's"
    )
    return Md(
        f"\U0001f3af Gate: **{label(gate.metric, report)}** ({direction} is better) must be "
        f"{against} and within the absolute bounds. It is checked again against the champion "
        "of the moment when this PR merges."
    )
