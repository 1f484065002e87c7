"""The Tuning section of the comment's view model: the budget and what ran, the CV score
against the validation score (a gap there is overfitting to the search), the best parameters
against the champion's, ranked importances, the optimisation history and failed trials."""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.report import format as fmt
from mlgate.report.document import GREATER_IS_BETTER, Report, Trial, metric_label
from mlgate.report.document import Tuning as Search
from mlgate.report.escape import Md, code, mermaid, text
from mlgate.report.sections import Chart, axis, champion_name, relative
from mlgate.report.table import Table, capped

MAX_TUNING_POINTS = 60  # a longer history is thinned, keeping the first and the last trial
MAX_FAILURES_SHOWN = 5
BAR_WIDTH = 20  # characters of a full (1.0) importance bar
_BAR = "\u2588"


@dataclass(frozen=True)
class Tuning:
    heading: Md
    summary: Md
    stopped: Md | None  # the search ended before its budget
    scores: Table  # best trial's CV score against the candidate's validation score
    params: Table | None  # the best trial's parameters, beside the champion's
    importances: Table | None  # ranked, most important first
    chart: Chart | None  # each completed trial's score (bars) and the best so far (line)
    failed: int
    failures: list[Md]  # one per failed trial shown, then "and N more"


def tuning(report: Report) -> Tuning | None:
    found = report.tuning
    if found is None:
        return None
    ran = found.completed + found.pruned + found.failed
    label = text(metric_label(found.metric, report.model.unit), 60)
    folds = f"{found.cv_folds}-fold" + (" time-ordered" if found.cv == "time-ordered" else "")
    timeout = fmt.duration(found.timeout_s) if fmt.finite(found.timeout_s) else None
    summary = (
        f"Sampler **{text(found.sampler, 40)}**, seed {found.seed}, {folds} cross-validation "
        f"on the training data, scored by {label}: {found.completed:,} completed \u00b7 "
        f"{found.pruned:,} pruned \u00b7 {found.failed:,} failed, in "
        f"{fmt.duration(found.wall_time_s)}" + (f" (timeout {timeout})." if timeout else ".")
    )
    stopped = None
    if ran < found.n_trials:
        limit = f" (the timeout of {timeout})" if timeout else ""
        stopped = Md(
            f"\u26a0\ufe0f The search stopped before its budget{limit}: "
            f"{found.n_trials - ran:,} trial(s) did not run."
        )
    failed = [t for t in found.history if t.state == "fail"]
    failures = [
        Md(f"Trial {t.number}: {text(t.reason or 'no reason recorded', 200)}")
        for t in failed[:MAX_FAILURES_SHOWN]
    ]
    if len(failed) > MAX_FAILURES_SHOWN:
        failures.append(Md(f"and {len(failed) - MAX_FAILURES_SHOWN:,} more"))
    return Tuning(
        heading=Md(f"Tuning: {ran:,} of a budget of {found.n_trials:,} trials ran"),
        summary=Md(summary),
        stopped=stopped,
        scores=_scores(found, label),
        params=_params(report, found),
        importances=_importances(found),
        chart=_chart(found, label, report.model.unit),
        failed=len(failed),
        failures=failures,
    )


def _scores(found: Search, label: Md) -> Table:
    cv, validation = found.best_cv_score, found.validation_score
    gap = validation - cv if fmt.finite(cv) and fmt.finite(validation) else None
    header = [Md(f"Best trial's CV {label}"), Md(f"Candidate's validation {label}")]
    header += [Md("\u0394"), Md("\u0394 %")]
    row = [fmt.number(cv), fmt.number(validation), fmt.signed(gap), relative(validation, cv)]
    return Table(header, "rrrr", [row])


def _params(report: Report, found: Search) -> Table | None:
    """The winner's values; the champion's beside them, marked where they differ."""
    champion = report.champion
    theirs = champion.params if champion else {}
    header = [Md("Searched parameter"), Md("Best trial")]
    header += [champion_name(champion)] if champion else []
    rows = []
    for name, value in sorted(found.best_params.items()):
        cells = [code(name, 60), code(fmt.short_param(value), 80)]
        if champion is not None:
            if name not in theirs:
                cells.append(Md("<i>absent</i>"))
            else:
                changed = "" if fmt.same_param(value, theirs[name]) else " \u270f\ufe0f"
                cells.append(Md(code(fmt.short_param(theirs[name]), 80) + changed))
        rows.append(cells)
    return capped(header, "l" * len(header), rows) if rows else None


def _importances(found: Search) -> Table | None:
    ranked = sorted(
        ((name, value) for name, value in found.importances.items() if fmt.finite(value)),
        key=lambda item: (-item[1], item[0]),
    )
    rows = [
        [code(name, 60), Md(f"{value:.2f}"), Md(_BAR * round(max(value, 0.0) * BAR_WIDTH))]
        for name, value in ranked
    ]
    header = [Md("Parameter"), Md("Importance (fANOVA)"), Md("")]
    return capped(header, "lrl", rows) if rows else None


def _chart(found: Search, label: Md, unit: str) -> Chart | None:
    """Each completed trial's CV score and the best so far, in trial order."""
    points = best_so_far(found.history, GREATER_IS_BETTER.get(found.metric, False))
    if len(points) < 2:
        return None
    if len(points) > MAX_TUNING_POINTS:
        stride = len(points) / MAX_TUNING_POINTS
        points = [points[int(i * stride)] for i in range(MAX_TUNING_POINTS - 1)] + [points[-1]]
    low, high = axis([v for _, value, best in points for v in (value, best)])
    name = mermaid(metric_label(found.metric, unit))
    return Chart(
        heading=Md(f"{label} per completed trial (bars) and best so far (line):"),
        name=Md(name),
        title=Md(f"CV {name} by trial"),
        labels=[Md(f'"{number}"') for number, _, _ in points],
        values=[Md(f"{value:.3f}") for _, value, _ in points],
        line=[Md(f"{best:.3f}") for _, _, best in points],
        low=Md(f"{low:.3f}"),
        high=Md(f"{high:.3f}"),
        kind="bar",
    )


def best_so_far(history: list[Trial], greater: bool) -> list[tuple[int, float, float]]:
    """(trial number, score, best score so far) for each completed trial, in trial order."""
    points: list[tuple[int, float, float]] = []
    best: float | None = None
    for trial in history:
        if trial.state != "complete" or not fmt.finite(trial.value):
            continue
        best = trial.value if best is None else (max if greater else min)(best, trial.value)
        points.append((trial.number, trial.value, best))
    return points
