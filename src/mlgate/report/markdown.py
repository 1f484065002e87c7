"""Render the report document as the Markdown of the sticky PR comment and the job summary.

A reviewer decides from this comment alone, so the verdict comes first and the metrics table
right after it; everything else is detail that may be dropped to fit GitHub's comment size
limit. The text comes from a Jinja2 template (templates/comment.md.j2, or a team's own),
whose blocks are the sections dropped here; escaping is the template environment's job (see
escape.py). Nothing here imports mlflow: the comment workflow has to stay fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.report import template as templates
from mlgate.report import view
from mlgate.report.document import Report
from mlgate.report.escape import link
from mlgate.report.template import CommentTemplate, Section

if TYPE_CHECKING:
    from mlgate.config import Settings

MARKER = "<!-- mlgate:report -->"
LEGACY_MARKERS = ("<!-- trip-duration:report -->",)
"""Markers of earlier releases: a PR opened before an upgrade keeps its one comment."""
GITHUB_COMMENT_LIMIT = 65_536

ESSENTIAL = 100  # sections ranked this high are never dropped, only hard-truncated
MIN_CHARS = 512  # below this not even the verdict fits with a note, so refuse early
# How long each section survives when space runs out; a block not listed here (a team's own)
# gets DEFAULT_KEEP unless [tool.mlgate.report] keep says otherwise.
KEEP: dict[str, int] = {
    "": ESSENTIAL,  # text outside any block
    "title": ESSENTIAL,
    "verdict": ESSENTIAL,
    "metrics": ESSENTIAL,
    "footer": 90,
    "links": 70,
    "classes": 65,
    "serving": 60,
    "tuning": 55,
    "cost": 50,
    "hyperparameters": 40,
    "data": 30,
    "chart": 20,
    "lineage": 10,
}
DEFAULT_KEEP = 45

_TRUNCATED = (
    "\n\n_\u2702\ufe0f Report truncated to fit the comment size limit; details omitted. "
    "The full report is in the workflow run's artifacts._\n"
)


def render_markdown(
    report: Report,
    *,
    max_chars: int = GITHUB_COMMENT_LIMIT,
    template: CommentTemplate | None = None,
    keep: Mapping[str, int] | None = None,
) -> str:
    """The comment body: marker, verdict, metrics, then details, never over `max_chars`."""
    if max_chars < MIN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_CHARS}, got {max_chars}")
    chosen = template or templates.packaged()
    sections = [Section("marker", MARKER), *chosen.sections(view.build(report))]
    ranks = {**KEEP, "marker": ESSENTIAL, **(keep or {})}
    return _fit(sections, ranks, max_chars, view.workflow_url(report))


def render_configured(settings: Settings, report: Report) -> str:
    """The comment as the configuration asks: the team's template and section ranks, if any."""
    config = settings.report
    chosen = templates.load(settings.path(config.template) if config.template else None)
    return render_markdown(report, template=chosen, keep=config.keep)


def _rank(section: Section, ranks: Mapping[str, int]) -> int:
    return ranks.get(section.name, DEFAULT_KEEP)


def _assemble(sections: list[Section], dropped: set[str], run_url: str | None) -> str:
    parts = [s.body for s in sections if s.name not in dropped]
    if dropped:
        names = list(dict.fromkeys(s.name for s in sections if s.name in dropped))
        parts.append(_omitted_note(names, run_url))
    return "\n\n".join(parts) + "\n"


def _omitted_note(names: list[str], run_url: str | None) -> str:
    where = link("workflow run", run_url) or "workflow run"
    shown = ", ".join(name.replace("_", " ") for name in names)
    return (
        f"_\u2702\ufe0f Omitted to fit the comment size limit: {shown}. "
        f"The full report is in the {where}'s artifacts._"
    )


def _fit(
    sections: list[Section], ranks: Mapping[str, int], max_chars: int, run_url: str | None
) -> str:
    """Drop the least important details until the body fits, then re-admit any that fit."""
    droppable = sorted(
        {s.name: _rank(s, ranks) for s in sections if _rank(s, ranks) < ESSENTIAL}.items(),
        key=lambda item: item[1],
    )
    dropped: set[str] = set()
    for name, _ in droppable:
        if len(_assemble(sections, dropped, run_url)) <= max_chars:
            break
        dropped.add(name)
    for name, _ in reversed(droppable):
        if name in dropped:
            trial = dropped - {name}
            if len(_assemble(sections, trial, run_url)) <= max_chars:
                dropped = trial
    text = _assemble(sections, dropped, run_url)
    if len(text) <= max_chars:
        return text
    essentials = "\n\n".join(s.body for s in sections if _rank(s, ranks) >= ESSENTIAL)
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
    """Append to the job summary GitHub shows on the run page; outside Actions do nothing.

    Best effort: the summary only shows what the command already did, so a summary file that
    cannot be written is one warning line, never a failure that hides the command's outcome.
    """
    target = env.get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return None
    path = Path(target)
    try:
        separator = "\n" if path.is_file() and path.stat().st_size else ""
        with path.open("a", encoding="utf-8") as handle:
            handle.write(separator + markdown + ("" if markdown.endswith("\n") else "\n"))
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        print(
            f"warning: GITHUB_STEP_SUMMARY {target[:200]!r}: cannot write the job summary "
            f"({reason})",
            file=sys.stderr,
        )
        return None
    return path
