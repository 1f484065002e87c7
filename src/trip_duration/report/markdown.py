"""Render the report document as the Markdown of the sticky PR comment and the job summary.

A reviewer decides from this comment alone, so the verdict comes first and the metrics table
right after it; everything else is detail that may be dropped to fit GitHub's comment size
limit. The report may come from a fork, so every string taken from it is escaped before it
reaches Markdown. Nothing here imports mlflow: the comment workflow has to stay fast.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from trip_duration.report.document import (
    GREATER_IS_BETTER,
    METRIC_LABELS,
    Champion,
    DatasetInfo,
    Delta,
    Gate,
    Report,
    metric_label,
)

MARKER = "<!-- trip-duration:report -->"
GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_METRIC = "root_mean_squared_error"

ESSENTIAL = 100  # sections ranked this high are never dropped, only hard-truncated
MIN_CHARS = 512  # below this not even the verdict fits with a note, so refuse early
MAX_REASONS = 5
MAX_PARAM_ROWS = 50
MAX_CHART_POINTS = 20

_FULL_REPORT_HINT = "The full report is in the workflow run's artifacts."
_TRUNCATED = (
    "\n\n_\u2702\ufe0f Report truncated to fit the comment size limit; details omitted. "
    f"{_FULL_REPORT_HINT}_\n"
)
_ENTITIES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "&#124;",
        "`": "&#96;",
        "*": "&#42;",
        "_": "&#95;",
        "[": "&#91;",
        "]": "&#93;",
        "\\": "&#92;",
        "~": "&#126;",
        "$": "&#36;",
        "@": "@&#8203;",  # a zero-width space after @ keeps a forged string from pinging people
    }
)
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_MERMAID_UNSAFE = re.compile(r"[^\w .:#()/+-]")
_URL_SAFE = ":/?#=&%+,;~.-_!$*'@"
_TIMING_LABELS = {
    "train": "Training time",
    "fit": "Training time",
    "training": "Training time",
    "evaluate": "Evaluation time",
    "compare": "Champion comparison time",
    "serving": "Serving check time",
    "total": "Total time",
}


@dataclass(frozen=True)
class Section:
    """One block of the comment; `keep` ranks how long it survives when space runs out."""

    name: str
    body: str
    keep: int


# --- escaping: everything taken from the report goes through these ------------------------


def _one_line(value: object, limit: int, *, keep_end: bool = False) -> str:
    """Collapse whitespace and drop control characters so a value cannot break a table row."""
    kept = []
    for char in str(value):
        if char.isspace():
            kept.append(" ")
        elif char not in _BIDI_CONTROLS and unicodedata.category(char) not in ("Cc", "Cs"):
            kept.append(char)
    text = " ".join("".join(kept).split())
    if len(text) <= limit:
        return text
    return "\u2026" + text[-(limit - 1) :] if keep_end else text[: limit - 1] + "\u2026"


def _plain(value: object, limit: int = 200, *, keep_end: bool = False) -> str:
    """Untrusted text as inert Markdown: no tags, table breaks, emphasis, links or mentions."""
    return _one_line(value, limit, keep_end=keep_end).translate(_ENTITIES)


def _code(value: object, limit: int = 120, *, keep_end: bool = False) -> str:
    """Untrusted identifier (path, branch, param) in monospace; GitHub skips mentions in code."""
    text = _plain(value, limit, keep_end=keep_end)
    return f"<code>{text}</code>" if text else "\u2014"


def _url(value: str | None) -> str | None:
    """An http(s) URL safe inside `[text](...)`, without credentials; anything else is dropped."""
    if not value:
        return None
    try:
        parts = urlsplit(_one_line(value, 2000))
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port else ""
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return quote(clean, safe=_URL_SAFE).replace("&", "&amp;")


def _link(text: str, url: str | None) -> str | None:
    target = _url(url)
    return f"[{text}]({target})" if target else None


def _redact_uri(uri: str) -> str:
    """A tracking URI without user, password or query, which may carry tokens."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(unparseable URI hidden)"
    if not parts.netloc:
        return uri
    netloc = (host or "") + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# --- numbers for people -------------------------------------------------------------------


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "\u2014"
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    return f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    return f"{value:+,.{digits}f}" if _finite(value) else "\u2014"


def _percent(fraction: float | None) -> str:
    return f"{fraction * 100:+.1f}%" if _finite(fraction) else "\u2014"


def _size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} B"
    if n_bytes < 1024**2:
        return f"{n_bytes / 1024:,.1f} KB"
    if n_bytes < 1024**3:
        return f"{n_bytes / 1024**2:,.2f} MB"
    return f"{n_bytes / 1024**3:,.2f} GB"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _timestamp(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw.strip())
        if moment.tzinfo is None:
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError):
        return _plain(raw, 40)


def _param_text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return str(value)


# --- metrics --------------------------------------------------------------------------------


def _primary(report: Report) -> str:
    return report.gate.metric if report.gate else DEFAULT_METRIC


def _label(metric: str, report: Report) -> str:
    return _plain(metric_label(metric, report.model.unit), 60)


def _ordered(primary: str, *metric_sets: Iterable[str]) -> list[str]:
    """The gate metric first, then MLflow's usual regressor metrics, then anything else."""
    present = {key for keys in metric_sets for key in keys}
    known = [key for key in (primary, *METRIC_LABELS) if key in present]
    return list(dict.fromkeys(known)) + sorted(present - set(known))


def _delta(report: Report, metric: str) -> Delta | None:
    """The report's own delta (it is what the gate saw); computed alike when it has none."""
    if metric in report.deltas:
        return report.deltas[metric]
    candidate = report.candidate.metrics.get(metric) if report.candidate else None
    champion = report.champion.metrics.get(metric) if report.champion else None
    if not (_finite(candidate) and _finite(champion)):
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


def _mark(metric: str, delta: Delta) -> str:
    if delta.better is True:
        return "\u2705 better"
    if delta.better is False:
        return "\u274c worse"
    if delta.absolute == 0 or metric in GREATER_IS_BETTER:
        return "\u2796 equal"
    return "\u2754 changed (direction unknown)"


def _bound(metric: str, value: float | None, gate: Gate | None) -> str:
    """The gate's absolute bounds for a metric, each checked against the candidate's value."""
    limits = gate.bounds.get(metric, {}) if gate else {}
    parts = []
    for kind, limit in limits.items():
        if kind in ("min", "max") and _finite(limit):
            sign = "\u2265" if kind == "min" else "\u2264"
            check = ""
            if _finite(value):
                ok = value >= limit if kind == "min" else value <= limit
                check = " \u2705" if ok else " \u274c"
            parts.append(f"{sign} {_num(limit)}{check}")
        else:
            parts.append(f"{_plain(kind, 20)} {_num(limit)}")
    return ", ".join(parts) or "\u2014"


def _row(cells: Iterable[str], bold: bool = False) -> str:
    return "| " + " | ".join(f"**{c}**" if bold and c != "\u2014" else c for c in cells) + " |"


def _table(header: list[str], align: str, rows: list[str]) -> str:
    separator = "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"
    return "\n".join([_row(header), separator, *rows])


def _comparison_table(report: Report, champion: Champion) -> str:
    primary, candidate = _primary(report), report.candidate
    with_bounds = bool(report.gate and report.gate.bounds)
    header = ["Metric", _candidate_name(report), f"Champion v{_plain(champion.version, 20)}"]
    header += ["\u0394", "\u0394 %", "vs champion"] + (["Gate bound"] if with_bounds else [])
    rows = []
    for metric in _ordered(primary, candidate.metrics, champion.metrics):
        value = candidate.metrics.get(metric)
        delta = _delta(report, metric)
        cells = [_num(value), _num(champion.metrics.get(metric))]
        if delta:
            cells += [_signed(delta.absolute), _percent(delta.relative), _mark(metric, delta)]
        else:
            cells += ["\u2014"] * 3
        cells += [_bound(metric, value, report.gate)] if with_bounds else []
        rows.append(_metric_row(metric, cells, primary, report))
    return _table(header, "lrrrrl" + ("l" if with_bounds else ""), rows)


def _candidate_table(report: Report) -> str:
    primary, metrics = _primary(report), report.candidate.metrics
    with_bounds = bool(report.gate and report.gate.bounds)
    header = ["Metric", _candidate_name(report)] + (["Gate bound"] if with_bounds else [])
    rows = []
    for metric in _ordered(primary, metrics):
        cells = [_num(metrics[metric])]
        cells += [_bound(metric, metrics[metric], report.gate)] if with_bounds else []
        rows.append(_metric_row(metric, cells, primary, report))
    return _table(header, "lr" + ("l" if with_bounds else ""), rows)


def _metric_row(metric: str, cells: list[str], primary: str, report: Report) -> str:
    """The gate's metric is the one the decision hangs on: bold, with a target mark."""
    if metric == primary:
        return _row([f"{_label(metric, report)} \U0001f3af", *cells], bold=True)
    return _row([_label(metric, report), *cells])


def _candidate_name(report: Report) -> str:
    version = report.candidate.version if report.candidate else None
    return f"Candidate v{_plain(version, 20)}" if version else "Candidate"


# --- sections, in display order ---------------------------------------------------------------


def _title(report: Report) -> str:
    pr = report.lineage.pr_number
    return f"### {_plain(report.model.title, 120)}" + (f" \u00b7 PR #{pr}" if pr else "")


def _reasons(gate: Gate) -> str:
    reasons = [_plain(r, 300).rstrip(". ") for r in gate.reasons[:MAX_REASONS]]
    extra = len(gate.reasons) - MAX_REASONS
    if extra > 0:
        reasons.append(f"and {extra} more")
    return ": " + "; ".join(reasons) if reasons else ""


def _verdict(report: Report) -> str:
    """One line: would this model be promoted on merge, and why."""
    if report.status.outcome == "failure":
        return _failure_verdict(report)
    gate, champion = report.gate, report.champion
    if gate is None:
        return "\u26a0\ufe0f **Would not be promoted on merge**: the report has no gate decision."
    outcome = "passed" if gate.passed else "failed"
    if not report.comparison.performed:
        why = _plain(report.comparison.skipped_reason or "no reason recorded", 300)
        return (
            f"\u26a0\ufe0f **Not compared with the champion**: the comparison was skipped "
            f"({why}). The gate checked the absolute bounds only and {outcome}"
            f"{_reasons(gate)}."
        )
    head = (
        "\u2705 **Would be promoted on merge**"
        if gate.passed
        else "\u274c **Would not be promoted on merge**"
    )
    if champion is None:
        basis = f"first model: judged by the gate's absolute bounds alone, which {outcome}"
    elif not champion.comparable:
        basis = (
            f"champion v{_plain(champion.version, 20)} cannot score this validation data, "
            f"so the gate judged the absolute bounds alone, which {outcome}"
        )
    elif gate.baseline == "bounds-only":
        basis = f"the gate judged the absolute bounds alone, which {outcome}"
    else:
        basis = f"the quality gate {outcome} against champion v{_plain(champion.version, 20)}"
    return f"{head}: {basis}{_reasons(gate)}."


def _failure_verdict(report: Report) -> str:
    step = report.status.failed_step
    where = f"at step {_code(step, 60)}" if step else "(step unknown)"
    version = report.candidate.version if report.candidate else None
    if version:
        after = (
            f"candidate v{_plain(version, 20)} was registered before the failure; "
            "do not merge until the workflow passes"
        )
    else:
        after = "nothing was registered, so nothing will be promoted on merge"
    run = _link("workflow run", _workflow_url(report))
    logs = f" See the {run} for the logs." if run else ""
    return f"\u274c **The workflow failed {where}**: {after}.{logs}"


def _metrics(report: Report) -> str | None:
    """Candidate vs champion on the same data, or the candidate alone when that is all there is."""
    if report.candidate is None:
        return None
    champion = report.champion
    if report.comparison.performed and champion is not None and champion.comparable:
        return "#### Metrics on the same validation data\n\n" + _comparison_table(report, champion)
    if not report.comparison.performed:
        note = "champion comparison skipped, so the candidate's metrics are shown alone"
    elif champion is None:
        note = "no champion yet, so the candidate's metrics are shown alone"
    else:
        note = "the champion could not score this data (see below), so no deltas"
    return f"#### Metrics on the validation data\n\n_{note}_\n\n" + _candidate_table(report)


def _recorded_metrics(report: Report) -> str | None:
    """A champion that cannot score the candidate's data: its own numbers, clearly apart."""
    champion = report.champion
    if champion is None or champion.comparable or not report.comparison.performed:
        return None
    name = f"Champion v{_plain(champion.version, 20)}"
    reason = _plain(champion.not_comparable_reason or "its input schema differs", 300)
    lines = [
        f"#### \u26a0\ufe0f {name}: recorded metrics, NOT comparable",
        "",
        f"_It could not score this validation data ({reason}). These are its scores on its "
        "own validation data, for reference only: no deltas._",
    ]
    if champion.recorded_metrics:
        keys = _ordered(_primary(report), champion.recorded_metrics)
        rows = [_row([_label(k, report), _num(champion.recorded_metrics[k])]) for k in keys]
        lines += ["", _table(["Metric", f"{name} (own data, not comparable)"], "lr", rows)]
    else:
        lines += ["", "_No recorded metrics._"]
    return "\n".join(lines)


def _gate_settings(report: Report) -> str | None:
    gate = report.gate
    if gate is None:
        return None
    direction = "higher" if gate.greater_is_better else "lower"
    tolerance = gate.relative_tolerance
    against = (
        f"at most {tolerance * 100:.1f}% worse than the champion's"
        if _finite(tolerance) and tolerance > 0
        else "no worse than the champion's"
    )
    return (
        f"\U0001f3af Gate: **{_label(gate.metric, report)}** ({direction} is better) must be "
        f"{against} "
        "and within the absolute bounds. It is checked again against the champion of the "
        "moment when this PR merges."
    )


def _params(report: Report) -> str | None:
    """What changed against the champion: estimator and the hyperparameters that differ."""
    candidate, champion = report.candidate, report.champion
    if candidate is None:
        return None
    estimator = _code(candidate.estimator, 80)
    if champion is None or not champion.params:
        heading = "#### Hyperparameters"
        note = "no champion" if champion is None else "the champion's are not recorded"
        rows = [
            _row([_code(k, 60), _code(_param_text(v), 80)])
            for k, v in sorted(candidate.params.items())
        ]
        if not rows:
            return f"{heading}\n\nEstimator {estimator}; no hyperparameters recorded."
        intro = f"Estimator {estimator}; all hyperparameters ({note} to compare with):"
        return f"{heading}\n\n{intro}\n\n" + _capped_table(["Hyperparameter", "Candidate"], rows)
    if champion.estimator is None:
        estimator_line = f"Estimator {estimator} (the champion's is not recorded)."
    elif champion.estimator == candidate.estimator:
        estimator_line = f"Estimator {estimator} (unchanged)."
    else:
        old_estimator = _code(champion.estimator, 80)
        estimator_line = f"Estimator changed: {old_estimator} \u2192 {estimator}."
    rows = [
        _row([_code(k, 60), f"{old} \u2192 {new}"])
        for k, old, new in _changed_params(candidate.params, champion.params)
    ]
    version = _plain(champion.version, 20)
    if not rows:
        summary = f"Same hyperparameters as champion v{version}."
        return f"#### Changes against champion v{version}\n\n{estimator_line} {summary}"
    table = _capped_table(["Hyperparameter", f"Champion v{version} \u2192 candidate"], rows)
    return f"#### Changes against champion v{version}\n\n{estimator_line}\n\n{table}"


def _changed_params(
    new: Mapping[str, object], old: Mapping[str, object]
) -> list[tuple[str, str, str]]:
    """(name, old, new) for each differing param; MLflow stores params as text, so compare so."""
    absent = "<i>absent</i>"
    changes = []
    for key in sorted(set(new) | set(old)):
        if key in new and key in old and _same_param(new[key], old[key]):
            continue
        before = _code(_param_text(old[key]), 80) if key in old else absent
        after = _code(_param_text(new[key]), 80) if key in new else absent
        changes.append((key, before, after))
    return changes


def _same_param(a: object, b: object) -> bool:
    if _param_text(a) == _param_text(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    try:
        return float(str(a)) == float(str(b))
    except ValueError:
        return False


def _capped_table(header: list[str], rows: list[str]) -> str:
    """Keep a params table readable: the first rows, and how many were left out."""
    table = _table(header, "ll", rows[:MAX_PARAM_ROWS])
    extra = len(rows) - MAX_PARAM_ROWS
    return table + (f"\n\n_\u2026 and {extra} more not shown._" if extra > 0 else "")


def _data(report: Report) -> str | None:
    """Rows and digests per dataset, and whether the champion saw the same data."""
    if not report.data:
        return None
    champion = report.champion
    digests = champion.data_digests if champion else {}
    header = ["Data", "Path", "Rows kept / raw", "Digest"]
    header += ["Champion's digest"] if digests else []
    rows = []
    for info in report.data:
        cells = [info.role.title(), _code(info.path, 80, keep_end=True), _rows(info)]
        cells.append(_code(info.digest, 64))
        if digests:
            cells.append(_same_digest(info, digests))
        rows.append(_row(cells))
    lines = ["#### Data", "", _table(header, "llrl" + ("l" if digests else ""), rows)]
    if champion is not None:
        lines += ["", _data_summary(report.data, champion)]
    return "\n".join(lines)


def _rows(info: DatasetInfo) -> str:
    share = f" ({info.rows / info.rows_raw * 100:.1f}% kept)" if info.rows_raw else ""
    return f"{info.rows:,} / {info.rows_raw:,}{share}"


def _same_digest(info: DatasetInfo, digests: Mapping[str, str]) -> str:
    theirs = digests.get(info.role)
    if theirs is None:
        return "unknown"
    return "\u2705 same" if theirs == info.digest else f"\u26a0\ufe0f differs: {_code(theirs, 64)}"


def _data_summary(data: list[DatasetInfo], champion: Champion) -> str:
    name = f"Champion v{_plain(champion.version, 20)}"
    known = [d for d in data if d.role in champion.data_digests]
    if not known:
        return f"_{name}'s data digests are not recorded._"
    differing = [d.role for d in known if champion.data_digests[d.role] != d.digest]
    if differing:
        return f"{name} was trained on **different** data ({', '.join(differing)} differs)."
    return f"{name} was trained on **the same** data ({', '.join(d.role for d in known)})."


def _cost(report: Report) -> str | None:
    candidate = report.candidate
    rows = [
        _row([_TIMING_LABELS.get(key) or f"Time: {_plain(key, 40)}", _duration(seconds)])
        for key, seconds in report.timings_s.items()
        if _finite(seconds) and seconds >= 0
    ]
    if candidate and candidate.model_size_bytes is not None:
        rows.append(_row(["Model size on disk", _size(candidate.model_size_bytes)]))
    if candidate and candidate.latency:
        latency = candidate.latency
        rows.append(
            _row(
                [
                    f"Prediction latency, batch of {latency.batch_size:,} raw records",
                    f"p50 {latency.p50_ms:,.2f} ms \u00b7 p95 {latency.p95_ms:,.2f} ms",
                ]
            )
        )
    if not rows:
        return None
    return "#### Cost\n\n" + _table(["Cost", "Candidate"], "lr", rows)


def _links(report: Report) -> str | None:
    links = report.links
    version = report.candidate.version if report.candidate else None
    model_text = f"Model version {_plain(version, 20)}" if version else "Model version"
    found = [
        _link("MLflow run", links.run),
        _link(model_text, links.model_version),
        _link("Workflow run", _workflow_url(report)),
    ]
    found = [item for item in found if item]
    return "\U0001f517 " + " \u00b7 ".join(found) if found else None


def _workflow_url(report: Report) -> str | None:
    return report.links.workflow_run or report.lineage.workflow_run_url


def _footer(report: Report) -> str:
    """The commit and time the comment was computed for, so a stale one is recognisable."""
    lineage = report.lineage
    sha = lineage.head_sha or lineage.git_commit
    what = "PR head" if lineage.head_sha else "commit"
    when = f"generated {_timestamp(report.generated_at)}"
    if not sha:
        return f"<sub>Computed without a recorded commit \u00b7 {when}</sub>"
    short = _plain(sha[:7], 7) if _SHA.match(sha) else _plain(sha, 12)
    return f"<sub>Computed for {what} **{short}** ({_code(sha, 64)}) \u00b7 {when}</sub>"


def _chart(report: Report) -> str | None:
    """The gate metric over recent champions and this candidate, as a Mermaid line chart."""
    metric = _primary(report)
    points = [(p.label or f"v{p.version}", p.value) for p in report.history if _finite(p.value)]
    points = points[-(MAX_CHART_POINTS - 1) :]
    value = report.candidate.metrics.get(metric) if report.candidate else None
    if _finite(value):
        points.append(("candidate", value))
    if len(points) < 2:
        return None
    labels = ", ".join(f'"{_mermaid(label) or i + 1}"' for i, (label, _) in enumerate(points))
    values = [v for _, v in points]
    low, high = _axis(values)
    name = _mermaid(metric_label(metric, report.model.unit))
    return "\n".join(
        [
            f"#### {_label(metric, report)}: recent champions and this candidate",
            "",
            "```mermaid",
            "xychart-beta",
            f'    title "{name}"',
            f"    x-axis [{labels}]",
            f'    y-axis "{name}" {low:.3f} --> {high:.3f}',
            f"    line [{', '.join(f'{v:.3f}' for v in values)}]",
            "```",
        ]
    )


def _mermaid(text: str) -> str:
    """Only characters that cannot end a Mermaid string or the code fence."""
    return _MERMAID_UNSAFE.sub("", _one_line(text, 24)).strip()


def _axis(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    bottom = low - pad
    return (max(bottom, 0.0) if low >= 0 else bottom), high + pad


def _lineage(report: Report) -> str | None:
    rows = [_row([name, value]) for name, value in _lineage_items(report)]
    if not rows:
        return None
    table = _table(["Item", "Value"], "ll", rows)
    return f"<details>\n<summary>Lineage</summary>\n\n{table}\n\n</details>"


def _lineage_items(report: Report) -> list[tuple[str, str]]:
    lineage, candidate, champion = report.lineage, report.candidate, report.champion
    dirty = {True: "\u26a0\ufe0f dirty (uncommitted changes)", False: "clean", None: None}
    items = [
        ("Git commit", lineage.git_commit and _code(lineage.git_commit, 64)),
        ("Branch", lineage.branch and _code(lineage.branch, 120)),
        ("Working tree", dirty[lineage.dirty]),
        ("Lock file hash", lineage.lock_hash and _code(lineage.lock_hash, 80)),
        ("Pull request", lineage.pr_number and f"#{lineage.pr_number}"),
        ("PR head", lineage.head_sha and _code(lineage.head_sha, 64)),
        ("Experiment", report.experiment and _code(report.experiment, 120)),
        ("Registered model", report.registered_model and _code(report.registered_model, 120)),
        ("Tracking URI", report.tracking_uri and _code(_redact_uri(report.tracking_uri), 120)),
        ("Candidate run", candidate and _code(candidate.run_id, 64)),
        ("Candidate model URI", candidate and _code(candidate.model_uri, 160)),
        ("Champion run", champion and champion.run_id and _code(champion.run_id, 64)),
    ]
    return [(name, value) for name, value in items if value]


def _serving(report: Report) -> str | None:
    """The serving contract's outcome, the failing request, and latency and size beside the
    champion's (all measured through MLflow's scoring server)."""
    serving = report.serving
    if serving is None:
        return None
    checks = serving.checks
    passed = sum(c.passed for c in checks)
    if serving.passed:
        head = (
            f"\u2705 MLflow's scoring server serves the candidate as logged: {passed}/"
            f"{len(checks)} contract requests as expected."
        )
    else:
        failing = _plain(serving.failed_request or "no failing request recorded", 300)
        head = f"\u274c **The candidate cannot be served as logged**: {failing}."
    rows = [
        _row([("\u2705 " if c.passed else "\u274c ") + _plain(c.name, 40), _plain(c.detail, 240)])
        for c in checks
    ]
    parts = [
        "#### Serving",
        head,
        "<details>\n<summary>Contract requests</summary>\n\n"
        + _table(["Request", "Result"], "ll", rows)
        + "\n\n</details>"
        if rows
        else "",
    ]
    cost = _serving_cost(report)
    if cost:
        parts.append(cost)
    requirements = {
        True: "\u2705 The logged requirements install into a clean environment.",
        False: "\u274c The logged requirements do not install into a clean environment.",
        None: "_The clean-environment requirements check did not run here._",
    }[serving.requirements_checked]
    parts.append(requirements)
    return "\n\n".join(p for p in parts if p)


def _serving_cost(report: Report) -> str | None:
    serving = report.serving
    if serving is None:
        return None
    champion_size = serving.champion_model_size_bytes or (
        report.champion.model_size_bytes if report.champion else None
    )
    size = serving.model_size_bytes or (
        report.candidate.model_size_bytes if report.candidate else None
    )
    rows = []
    for label, mine, theirs in (
        ("1 record", serving.latency_one, serving.champion_latency_one),
        ("batch", serving.latency_batch, serving.champion_latency_batch),
    ):
        if mine is None and theirs is None:
            continue
        rows_in = (mine or theirs).batch_size
        name = label if label == "1 record" else f"batch of {rows_in:,} records"
        rows.append(_row([f"HTTP latency, {name}", _latency_text(mine), _latency_text(theirs)]))
    if size is not None or champion_size is not None:
        rows.append(
            _row(
                [
                    "Model size on disk",
                    _size(size) if size is not None else "\u2014",
                    _size(champion_size) if champion_size is not None else "\u2014",
                ]
            )
        )
    if not rows:
        return None
    return _table(["Served", "Candidate", "Champion"], "lrr", rows)


def _latency_text(latency: object) -> str:
    if latency is None:
        return "\u2014"
    return f"p50 {latency.p50_ms:,.2f} ms \u00b7 p95 {latency.p95_ms:,.2f} ms"


# --- assembly under the length budget ---------------------------------------------------------

Builder = Callable[[Report], str | None]

# Display order; the number is how long a section survives when the body is too long
# (ESSENTIAL: never dropped). Details go first: lineage, chart, data, hyperparameters, ...
LAYOUT: tuple[tuple[str, int, Builder], ...] = (
    ("marker", ESSENTIAL, lambda _: MARKER),
    ("title", ESSENTIAL, _title),
    ("verdict", ESSENTIAL, _verdict),
    ("metrics", ESSENTIAL, _metrics),
    ("champion's recorded metrics", ESSENTIAL, _recorded_metrics),
    ("gate settings", 80, _gate_settings),
    ("hyperparameters", 40, _params),
    ("data", 30, _data),
    ("cost", 50, _cost),
    ("serving", 85, _serving),
    ("links", 70, _links),
    ("computed-for line", 90, _footer),
    ("trend chart", 20, _chart),
    ("lineage", 10, _lineage),
)


def render_markdown(report: Report, *, max_chars: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment body: marker, verdict, metrics, then details, never over `max_chars`."""
    if max_chars < MIN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_CHARS}, got {max_chars}")
    sections = []
    for name, keep, build in LAYOUT:
        body = build(report)
        if body:
            sections.append(Section(name, body, keep))
    return _fit(sections, max_chars, _workflow_url(report))


def _assemble(sections: list[Section], dropped: set[str], run_url: str | None) -> str:
    parts = [s.body for s in sections if s.name not in dropped]
    if dropped:
        parts.append(_omitted_note([s.name for s in sections if s.name in dropped], run_url))
    return "\n\n".join(parts) + "\n"


def _omitted_note(names: list[str], run_url: str | None) -> str:
    where = _link("workflow run", run_url) or "workflow run"
    return (
        f"_\u2702\ufe0f Omitted to fit the comment size limit: {', '.join(names)}. "
        f"The full report is in the {where}'s artifacts._"
    )


def _fit(sections: list[Section], max_chars: int, run_url: str | None) -> str:
    """Drop the least important details until the body fits, then re-admit any that fit."""
    droppable = sorted((s for s in sections if s.keep < ESSENTIAL), key=lambda s: s.keep)
    dropped: set[str] = set()
    for section in droppable:
        if len(_assemble(sections, dropped, run_url)) <= max_chars:
            break
        dropped.add(section.name)
    for section in reversed(droppable):
        if section.name in dropped:
            trial = dropped - {section.name}
            if len(_assemble(sections, trial, run_url)) <= max_chars:
                dropped = trial
    text = _assemble(sections, dropped, run_url)
    if len(text) <= max_chars:
        return text
    essentials = "\n\n".join(s.body for s in sections if s.keep >= ESSENTIAL)
    return _truncate(essentials, max_chars)


def _truncate(text: str, max_chars: int) -> str:
    """Last resort for a pathological report: cut, preferably at a line end, and say so."""
    room = max_chars - len(_TRUNCATED)
    cut = text[:room]
    line_end = cut.rfind("\n")
    if line_end > room * 0.8:
        cut = cut[:line_end]
    return cut.rstrip() + _TRUNCATED


def write_step_summary(markdown: str, env: Mapping[str, str] = os.environ) -> Path | None:
    """Append to the job summary GitHub shows on the run page; outside Actions do nothing."""
    target = env.get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return None
    path = Path(target)
    separator = "\n" if path.exists() and path.stat().st_size else ""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(separator + markdown + ("" if markdown.endswith("\n") else "\n"))
    return path
