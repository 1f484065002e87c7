"""The detail sections of the comment's view model: hyperparameters, data, cost, chart, links,
lineage and the computed-for line (serving and tuning have their own modules). Each returns
None when it has nothing to show, so the template leaves its block empty."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mlgate.report import format as fmt
from mlgate.report.document import (
    Champion,
    DatasetInfo,
    Latency,
    Report,
    metric_label,
)
from mlgate.report.escape import DASH, Md, code, link, mermaid, redact_uri, text
from mlgate.report.table import Table, capped

MAX_CHART_POINTS = 20
ESTIMATOR_PARAM = "estimator"  # logged with the params, but it is the model, not a setting
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_TIMING_LABELS = {
    "load": "Load data",
    "fit": "Fit",
    "train": "Fit",
    "training": "Fit",
    "log_model": "Log model",
    "evaluate": "Evaluate",
    "compare": "Compare with champion",
    "total": "Total",
}


@dataclass(frozen=True)
class Titled:
    """A heading, a sentence under it, and an optional table."""

    heading: Md
    note: Md | None
    table: Table | None


@dataclass(frozen=True)
class Chart:
    """A Mermaid xychart: labels and values are already safe inside the diagram.

    `values` is drawn as `kind`; `line`, when given, is a second series drawn over it as a
    line (in the palette's second colour).
    """

    heading: Md
    name: Md
    labels: list[Md]
    values: list[Md]
    low: Md
    high: Md
    kind: str = "line"  # fixed by us: "line" or "bar"
    line: list[Md] | None = None
    title: Md | None = None  # the diagram's title; `name` (the y axis) when None


@dataclass(frozen=True)
class Cost:
    table: Table | None
    timings: Md | None


def champion_name(champion: Champion | None) -> Md:
    return Md(f"Champion v{text(champion.version, 20)}") if champion else Md("Champion")


def relative(mine: float | None, theirs: float | None) -> Md:
    if not (fmt.finite(mine) and fmt.finite(theirs)) or not theirs:
        return Md(DASH)
    return fmt.percent((mine - theirs) / abs(theirs))


def _q(latency: Latency | None, quantile: str) -> float | None:
    return getattr(latency, f"{quantile}_ms") if latency else None


def _ms(latency: Latency | None, quantile: str) -> Md:
    return fmt.milliseconds(_q(latency, quantile))


# --- hyperparameters ----------------------------------------------------------------------------


def hyperparameters(report: Report) -> Titled | None:
    """The model, and the hyperparameters that differ from the champion's (all without one)."""
    candidate, champion = report.candidate, report.champion
    if candidate is None:
        return None
    model = code(candidate.estimator, 80)
    params = {k: v for k, v in candidate.params.items() if k != ESTIMATOR_PARAM}
    theirs = {
        k: v for k, v in (champion.params if champion else {}).items() if k != ESTIMATOR_PARAM
    }
    if champion is None or not theirs:
        heading = Md("Hyperparameters")
        missing = "no champion" if champion is None else "the champion's are not recorded"
        rows = [[code(k, 60), code(fmt.param(v), 80)] for k, v in sorted(params.items())]
        if not rows:
            return Titled(heading, Md(f"Model {model}; no hyperparameters recorded."), None)
        note = Md(f"Model {model}; all hyperparameters ({missing} to compare with):")
        return Titled(heading, note, capped([Md("Hyperparameter"), Md("Candidate")], "ll", rows))
    version = text(champion.version, 20)
    theirs_model = champion.estimator or champion.params.get(ESTIMATOR_PARAM)
    if theirs_model is None:
        model_line = f"Model {model} (the champion's is not recorded)."
    elif theirs_model == candidate.estimator:
        model_line = f"Model {model} (unchanged)."
    else:
        model_line = f"Model changed: {code(theirs_model, 80)} \u2192 {model}."
    heading = Md(f"Changes against champion v{version}")
    rows = [[code(k, 60), Md(f"{old} \u2192 {new}")] for k, old, new in _changes(params, theirs)]
    if not rows:
        return Titled(
            heading, Md(f"{model_line} Same hyperparameters as champion v{version}."), None
        )
    header = [Md("Hyperparameter"), Md(f"Champion v{version} \u2192 candidate")]
    return Titled(heading, Md(model_line), capped(header, "ll", rows))


def _changes(new: Mapping[str, object], old: Mapping[str, object]) -> list[tuple[str, Md, Md]]:
    absent = Md("<i>absent</i>")
    changes = []
    for key in sorted(set(new) | set(old)):
        if key in new and key in old and fmt.same_param(new[key], old[key]):
            continue
        before = code(fmt.param(old[key]), 80) if key in old else absent
        after = code(fmt.param(new[key]), 80) if key in new else absent
        changes.append((key, before, after))
    return changes


# --- data ---------------------------------------------------------------------------------------


def data(report: Report) -> Titled | None:
    """Rows and digests per dataset, and whether the champion saw the same data."""
    if not report.data:
        return None
    champion = report.champion
    digests = champion.data_digests if champion else {}
    header = [Md("Data"), Md("Path"), Md("Rows kept / raw"), Md("Digest")]
    header += [Md("Champion's digest")] if digests else []
    rows = []
    for info in report.data:
        cells = [Md(info.role.title()), code(info.path, 80, keep_end=True), _rows(info)]
        cells.append(code(info.digest, 64))
        if digests:
            cells.append(_same_digest(info, digests))
        rows.append(cells)
    table = Table(header, "llrl" + ("l" if digests else ""), rows)
    return Titled(Md("Data"), _data_summary(report.data, champion), table)


def _rows(info: DatasetInfo) -> Md:
    share = f" ({info.rows / info.rows_raw * 100:.1f}% kept)" if info.rows_raw else ""
    return Md(f"{info.rows:,} / {info.rows_raw:,}{share}")


def _same_digest(info: DatasetInfo, digests: Mapping[str, str]) -> Md:
    theirs = digests.get(info.role)
    if theirs is None:
        return Md("unknown")
    return Md(
        "\u2705 same" if theirs == info.digest else f"\u26a0\ufe0f differs: {code(theirs, 64)}"
    )


def _data_summary(data: list[DatasetInfo], champion: Champion | None) -> Md | None:
    if champion is None:
        return None
    name = champion_name(champion)
    known = [d for d in data if d.role in champion.data_digests]
    if not known:
        return Md(f"_{name}'s data digests are not recorded._")
    differing = [d.role for d in known if champion.data_digests[d.role] != d.digest]
    if differing:
        return Md(f"{name} was trained on **different** data ({', '.join(differing)} differs).")
    return Md(f"{name} was trained on **the same** data ({', '.join(d.role for d in known)}).")


# --- cost ---------------------------------------------------------------------------------------


def cost(report: Report) -> Cost | None:
    """Size and latency beside the champion's, with the change; then where the time went."""
    candidate, champion = report.candidate, report.champion
    rows: list[list[Md]] = []
    with_champion = bool(champion and (champion.model_size_bytes or champion.latency))
    if candidate is not None:
        theirs_size = champion.model_size_bytes if champion else None
        mine_lat, theirs_lat = candidate.latency, champion.latency if champion else None
        if theirs_lat and mine_lat and theirs_lat.batch_size != mine_lat.batch_size:
            theirs_lat = None  # a different batch is not comparable
        if candidate.model_size_bytes is not None:
            row = [Md("Model size on disk"), fmt.size(candidate.model_size_bytes)]
            if with_champion:
                row += [fmt.size(theirs_size), relative(candidate.model_size_bytes, theirs_size)]
            rows.append(row)
        if mine_lat is not None:
            for quantile in ("p50", "p95"):
                where = f"batch of {mine_lat.batch_size:,} raw records"
                row = [Md(f"Prediction latency {quantile}, {where}"), _ms(mine_lat, quantile)]
                if with_champion:
                    mine_q, theirs_q = _q(mine_lat, quantile), _q(theirs_lat, quantile)
                    row += [_ms(theirs_lat, quantile), relative(mine_q, theirs_q)]
                rows.append(row)
    steps = [
        f"{_timing_label(key)} {fmt.duration(seconds)}"
        for key, seconds in report.timings_s.items()
        if fmt.finite(seconds) and seconds >= 0
    ]
    if not rows and not steps:
        return None
    table = None
    if rows:
        header = [Md("Cost"), candidate_header(report)]
        header += [champion_name(champion), Md("\u0394 %")] if with_champion else []
        table = Table(header, "lr" + ("rr" if with_champion else ""), rows)
    timings = Md("\u23f1\ufe0f Time: " + " \u00b7 ".join(steps) + ".") if steps else None
    return Cost(table, timings)


def candidate_header(report: Report) -> Md:
    version = report.candidate.version if report.candidate else None
    return Md(f"Candidate v{text(version, 20)}" if version else "Candidate")


def _timing_label(key: str) -> Md:
    known = _TIMING_LABELS.get(key)
    return Md(known) if known else text(key.replace("_", " ").capitalize(), 40)


# --- chart --------------------------------------------------------------------------------------


def chart(report: Report, metric: str) -> Chart | None:
    """The gate metric over recent champions and this candidate."""
    points = [(p.label or f"v{p.version}", p.value) for p in report.history if fmt.finite(p.value)]
    points = points[-(MAX_CHART_POINTS - 1) :]
    value = report.candidate.metrics.get(metric) if report.candidate else None
    if fmt.finite(value):
        points.append(("candidate", value))
    if len(points) < 2:
        return None
    name = metric_label(metric, report.model.unit)
    values = [v for _, v in points]
    low, high = axis(values)
    return Chart(
        heading=Md(f"{text(name, 60)}: recent champions and this candidate"),
        name=Md(mermaid(name)),
        labels=[Md(f'"{mermaid(label) or i + 1}"') for i, (label, _) in enumerate(points)],
        values=[Md(f"{v:.3f}") for v in values],
        low=Md(f"{low:.3f}"),
        high=Md(f"{high:.3f}"),
    )


def axis(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    bottom = low - pad
    return (max(bottom, 0.0) if low >= 0 else bottom), high + pad


# --- links, lineage, footer ---------------------------------------------------------------------


def links(report: Report) -> list[Md]:
    found = report.links
    version = report.candidate.version if report.candidate else None
    model_text = f"Model version {version}" if version else "Model version"
    items = [
        link("MLflow run", found.run),
        link(model_text, found.model_version),
        link("Workflow run", found.workflow_run or report.lineage.workflow_run_url),
    ]
    return [item for item in items if item]


def lineage(report: Report) -> Table | None:
    record, candidate, champion = report.lineage, report.candidate, report.champion
    dirty = {True: "\u26a0\ufe0f dirty (uncommitted changes)", False: "clean", None: None}
    tracking = report.tracking_uri and code(redact_uri(report.tracking_uri), 120)
    items = [
        ("Git commit", record.git_commit and code(record.git_commit, 64)),
        ("Branch", record.branch and code(record.branch, 120)),
        ("Working tree", dirty[record.dirty]),
        ("Lock file hash", record.lock_hash and code(record.lock_hash, 80)),
        ("Pull request", record.pr_number and f"#{record.pr_number}"),
        ("PR head", record.head_sha and code(record.head_sha, 64)),
        ("Experiment", report.experiment and code(report.experiment, 120)),
        ("Registered model", report.registered_model and code(report.registered_model, 120)),
        ("Tracking URI", tracking),
        ("Candidate run", candidate and code(candidate.run_id, 64)),
        ("Candidate model URI", candidate and code(candidate.model_uri, 160)),
        ("Champion run", champion and champion.run_id and code(champion.run_id, 64)),
    ]
    rows = [[Md(name), Md(value)] for name, value in items if value]
    return Table([Md("Item"), Md("Value")], "ll", rows) if rows else None


def footer(report: Report) -> Md:
    """The commit and time the comment was computed for, so a stale one is recognisable."""
    record = report.lineage
    sha = record.head_sha or record.git_commit
    what = "PR head" if record.head_sha else "commit"
    when = f"generated {fmt.timestamp(report.generated_at)}"
    if not sha:
        return Md(f"Computed without a recorded commit \u00b7 {when}")
    short = text(sha[:7], 7) if _SHA.match(sha) else text(sha, 12)
    return Md(f"Computed for {what} **{short}** ({code(sha, 64)}) \u00b7 {when}")
