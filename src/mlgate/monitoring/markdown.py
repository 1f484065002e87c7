"""The monitoring report as Markdown: the verdict, the per-check table, then charts.

The same text is the job summary and the body of the `model-drift` issue, so it is written for
someone who opens the issue cold: what drifted, by how much, against which threshold.
"""

from __future__ import annotations

import math
import re

from mlgate.monitoring.document import Check, Distribution, MonitoringReport

MARKER = "<!-- mlgate:monitoring -->"
MAX_CHARTS = 3
_UNSAFE = re.compile(r'[`"\[\]\n\r|<>]')


def render_monitoring(report: MonitoringReport) -> str:
    parts = [
        MARKER,
        f"## {_text(report.title)}",
        _verdict(report),
        _table(report),
        _data(report),
        *_charts(report),
        _footer(report),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def verdict_line(report: MonitoringReport) -> str:
    """One line for stdout and the issue comment."""
    against = f"champion v{report.champion.version}'s {_origin(report)}"
    if not report.drift:
        return f"no drift: {len(report.checks)} checks passed against {against}"
    failed = "; ".join(_failure(check) for check in report.failed)
    return f"drift against {against}: {failed}"


def _verdict(report: MonitoringReport) -> str:
    if not report.drift:
        warnings = [c for c in report.checks if c.warning]
        extra = f" ({len(warnings)} above a warning level)" if warnings else ""
        return (
            f"### \u2705 No drift\n\nAll {len(report.checks)} checks passed{extra}: "
            f"`{_text(report.current.path)}` looks like champion "
            f"**v{report.champion.version}**'s {_origin(report)}."
        )
    items = "\n".join(f"- {_failure(check)}" for check in report.failed)
    subjects = ", ".join(f"`{_text(s)}`" for s in report.drifted_subjects)
    return (
        f"### \U0001f6a8 Drift detected: {subjects}\n\n"
        f"`{_text(report.current.path)}` differs from champion **v{report.champion.version}**'s "
        f"{_origin(report)}:\n\n{items}"
    )


def _failure(check: Check) -> str:
    stat = _number(check.statistic, check)
    limit = _number(check.threshold, check)
    fails = {"<": "≥", "<=": ">", ">=": "<"}[check.comparison]
    p = f", p = {check.p_value:.2g}" if check.p_value is not None else ""
    return f"{_text(check.subject)}: {check.test} {stat} {fails} {limit}{p}"


def _table(report: MonitoringReport) -> str:
    rows = [
        "| Check | Subject | Test | Statistic | Threshold | Result |",
        "|---|---|---|--:|--:|---|",
    ]
    for check in report.checks:
        if not check.passed:
            result = "\u274c fail"
        elif check.warning:
            result = "\u26a0\ufe0f pass (warning)"
        else:
            result = "\u2705 pass"
        p = f" (p = {check.p_value:.2g})" if check.p_value is not None else ""
        rows.append(
            f"| {check.kind} | `{_text(check.subject)}` | {_text(check.test)} | "
            f"{_number(check.statistic, check)}{p} | {check.comparison} "
            f"{_number(check.threshold, check)} | {result} |"
        )
    details = "\n".join(
        f"- `{_text(c.subject)}` {_text(c.test)}: {_text(c.detail)}" for c in report.checks
    )
    return (
        "### Checks\n\n" + "\n".join(rows) + "\n\n<details>\n<summary>How each check is computed"
        "</summary>\n\n" + details + "\n\n</details>"
    )


def _data(report: MonitoringReport) -> str:
    rows = ["| Data | File | Rows (raw) | Digest |", "|---|---|--:|---|"]
    for ref in (report.reference, report.current):
        label = f"reference ({ref.origin})" if ref.role == "reference" else "current"
        rows.append(
            f"| {label} | `{_text(ref.path)}` | {ref.rows:,} ({ref.rows_raw:,}) "
            f"| `{_text(ref.digest)}` |"
        )
    return "### Data\n\n" + "\n".join(rows)


def _charts(report: MonitoringReport) -> list[str]:
    """Bin shares of the drifted columns (or the most shifted one when nothing drifted)."""
    drifted = set(report.drifted_subjects)
    chosen = [d for d in report.distributions if d.subject in drifted]
    if not chosen and report.distributions:
        chosen = [max(report.distributions, key=lambda d: d.psi)]
    return [_chart(d) for d in chosen[:MAX_CHARTS] if len(d.labels) >= 2]


def _chart(dist: Distribution) -> str:
    labels = ", ".join(f'"{_mermaid(label)}"' for label in dist.labels)
    top = max([*dist.reference, *dist.current, 0.01]) * 110
    ref = ", ".join(f"{100 * v:.1f}" for v in dist.reference)
    cur = ", ".join(f"{100 * v:.1f}" for v in dist.current)
    name = _mermaid(dist.subject)
    return "\n".join(
        [
            f"#### `{_text(dist.subject)}`: share of rows per bin (PSI {dist.psi:.3f})",
            "",
            "Bars: reference; line: current.",
            "",
            "```mermaid",
            "xychart-beta",
            f'    title "{name}"',
            f"    x-axis [{labels}]",
            f'    y-axis "% of rows" 0 --> {top:.0f}',
            f"    bar [{ref}]",
            f"    line [{cur}]",
            "```",
        ]
    )


def _footer(report: MonitoringReport) -> str:
    items = [f"generated {report.generated_at}"]
    if report.run_id:
        items.append(f"MLflow run `{_text(report.run_id)}`")
    if report.workflow_run_url:
        items.append(f"[workflow run]({report.workflow_run_url})")
    return "<sub>" + " \u00b7 ".join(items) + "</sub>"


def _origin(report: MonitoringReport) -> str:
    if report.reference.origin == "champion training data":
        return "training data"
    return f"reference `{_text(report.reference.path)}`"


def _number(value: float | None, check: Check) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if check.kind == "quality":
        return f"{value:.2%}"
    return f"{value:.4g}"


def _text(value: str) -> str:
    """Table-safe, one line, no backticks (paths and names come from files and plug-ins)."""
    return " ".join(str(value).split()).replace("|", "\\|").replace("`", "'")[:300]


def _mermaid(value: str) -> str:
    return _UNSAFE.sub("", str(value))[:24].strip() or "?"
