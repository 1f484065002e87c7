"""Render example PR comments as a reviewer sees them on GitHub, into PNG images.

Why: the comment is what reviewers read before approving, so its look is part of the product.
Each example is a report document made here (no training), rendered by the project's own
template, then drawn like GitHub draws a comment:

- Markdown through cmarkgfm (the bindings of GitHub's cmark-gfm) with GitHub's extensions
  (tables, autolinks, tag filter, strikethrough, task lists), HTML kept, then an allowlist
  sanitiser close to GitHub's (nh3);
- Mermaid charts through the npm `mermaid` package, in the page;
- the page by headless Chromium (Debian's `chromium`): first its DOM after the scripts ran
  (what tests check), then a screenshot sized to the content.

Usage:
    npm ci --prefix scripts/render                    # once: Mermaid for the page
    uv run python scripts/render_comments.py          # rewrite docs/images/comment-*.png
    uv run python scripts/render_comments.py --only better --out /tmp/shots --keep-html
"""

from __future__ import annotations

import argparse
import html
import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mlgate import progress
from mlgate.report.document import Report
from mlgate.report.markdown import GITHUB_COMMENT_LIMIT, render_markdown

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).resolve().parent / "render"
MERMAID_JS = ASSETS / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
IMAGES = REPO_ROOT / "docs" / "images"
WIDTH = 900  # about GitHub's comment column on a laptop screen
MAX_HEIGHT = 12_000
CHROMIUM_TIMEOUT_S = 120

# GitHub's sanitiser keeps roughly these tags and attributes in comments; everything else
# (script, style, iframe, forms, style= and on*= attributes, javascript: links) goes.
ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "a", "img", "b", "i", "strong", "em",
    "del", "s", "ins", "sub", "sup", "kbd", "q", "samp", "var", "code", "pre", "blockquote",
    "div", "span", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr",
    "th", "td", "details", "summary", "input", "picture", "source", "ruby", "rt", "rp",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "align"},
    "pre": {"lang"},
    "th": {"align"},
    "td": {"align"},
    "p": {"align"},
    "div": {"align"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
    "source": {"srcset", "media"},
}


# --- Markdown to a page, as GitHub would draw it -------------------------------------------------


def markdown_to_html(markdown: str) -> str:
    """GitHub's pipeline in miniature: GFM with raw HTML kept, then an allowlist sanitiser."""
    import cmarkgfm
    import nh3
    from cmarkgfm.cmark import Options

    raw = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        link_rel=None,
        strip_comments=True,
        url_schemes={"http", "https", "mailto"},
    )


def page(body: str, title: str) -> str:
    css = (ASSETS / "comment.css").read_text(encoding="utf-8")
    scripts = "".join(
        f'<script src="{path.resolve().as_uri()}"></script>'
        for path in (MERMAID_JS, ASSETS / "mermaid-page.js")
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f'<body><article class="markdown-body">{body}</article>{scripts}</body></html>'
    )


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium not found: install Debian's chromium (apt-get install chromium)")


def check_tools() -> None:
    """Fail early, in one line, with the command that installs what is missing."""
    chromium_binary()
    if not MERMAID_JS.is_file():
        raise SystemExit(f"{MERMAID_JS} not found: run `npm ci --prefix {ASSETS}` first")


def chromium(target: Path, *flags: str, height: int = 1600) -> str:
    """One headless Chromium run on a local page, with a fresh profile; returns its stdout."""
    with tempfile.TemporaryDirectory(prefix="render-profile-") as profile:
        command = [
            chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{height}",
            # Virtual time lets the page's scripts finish before the DOM dump or screenshot,
            # and skips ahead when the page is idle, so it costs no real seconds.
            "--virtual-time-budget=10000",
            *flags, target.resolve().as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(
                f"chromium did not finish {target} in {CHROMIUM_TIMEOUT_S} s"
            ) from None
    if done.returncode != 0:  # stderr always has harmless dbus noise: only the code counts
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"chromium failed on {target} (exit {done.returncode}): {last}")
    return done.stdout


@dataclass
class Rendered:
    dom: str
    status: dict[str, Any]
    png: Path | None = None


def render(markdown: str, png: Path | None = None, *, keep_html: Path | None = None) -> Rendered:
    """The comment as a page: its DOM after Mermaid ran, and optionally a PNG of it."""
    with tempfile.TemporaryDirectory(prefix="render-page-") as folder:
        target = Path(folder) / "comment.html"
        target.write_text(page(markdown_to_html(markdown), "PR comment"), encoding="utf-8")
        dom = chromium(target, "--dump-dom")
        status = render_status(dom)
        if png is not None:
            height = min(max(int(status.get("height") or 0) + 16, 200), MAX_HEIGHT)
            png.parent.mkdir(parents=True, exist_ok=True)
            chromium(target, f"--screenshot={png.resolve()}", height=height)
        if keep_html is not None:
            shutil.copy(target, keep_html.with_suffix(".page.html"))
            keep_html.with_suffix(".dom.html").write_text(dom, encoding="utf-8")
    return Rendered(dom, status, png)


def render_status(dom: str) -> dict[str, Any]:
    start = dom.find('<script id="render-status" type="application/json">')
    if start < 0:
        return {"diagrams": 0, "rendered": 0, "errors": [{"message": "page script never ran"}]}
    body = dom[dom.index(">", start) + 1 : dom.index("</script>", start)]
    return json.loads(html.unescape(body))


# --- reading the page back: what a reviewer sees, block by block ---------------------------------


@dataclass
class Block:
    """One top-level element of the comment: its tag, visible text, and table rows if any."""

    tag: str
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    svgs: int = 0


class _Structure(HTMLParser):
    """The comment's top-level blocks, outside any drawn SVG (whose labels are HTML too)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._depth = 0  # inside the article: 1 = a top-level block
        self._in_article = False
        self._svg = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._body_rows = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._in_article:
            self._in_article = tag == "article" and ("class", "markdown-body") in attrs
            return
        if tag in ("br", "hr", "img", "input", "source"):  # void elements never close
            if self._depth == 0:
                self.blocks.append(Block(tag))
            return
        self._depth += 1
        if self._depth == 1:
            self.blocks.append(Block(tag))
        if tag == "svg":
            self._svg += 1
            self.blocks[-1].svgs += 1
        elif not self._svg:
            if tag == "tbody":
                self._body_rows = True
            elif tag == "tr" and self._body_rows:
                self._row = []
            elif tag in ("td", "th") and self._row is not None:
                self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self._in_article or tag in ("br", "hr", "img", "input", "source"):
            return
        if tag == "svg":
            self._svg -= 1
        elif not self._svg:
            if tag in ("td", "th") and self._cell is not None and self._row is not None:
                self._row.append(" ".join("".join(self._cell).split()))
                self._cell = None
            elif tag == "tr" and self._row is not None:
                self.blocks[-1].rows.append(self._row)
                self._row = None
            elif tag == "tbody":
                self._body_rows = False
        self._depth -= 1
        if self._depth < 0:
            self._in_article = False
            self._depth = 0

    def handle_data(self, data: str) -> None:
        if self._in_article and self._depth >= 1 and not self._svg:
            self.blocks[-1].text += data
            if self._cell is not None:
                self._cell.append(data)


def structure(dom: str) -> list[Block]:
    parser = _Structure()
    parser.feed(dom)
    for block in parser.blocks:
        block.text = " ".join(block.text.split())
    return parser.blocks


# --- the examples ------------------------------------------------------------------------------

HEAD = "3f9c2b7d81e04a6c9b5d2e7f1a0c3b4d5e6f7a8b"
RUN = "https://github.com/acme/mlgate/actions/runs/8812"
UI = "https://mlflow.example.com"
MODEL = {
    "title": "\U0001f695 Trip-duration model report",
    "target": "duration",
    "target_label": "Trip duration",
    "unit": "min",
}
LASSO = "sklearn.linear_model.Lasso"
CANDIDATE_METRICS = {
    "root_mean_squared_error": 5.674,
    "mean_absolute_error": 3.912,
    "r2_score": 0.702,
    "max_error": 48.31,
    "train_root_mean_squared_error": 5.488,
}
CHAMPION_METRICS = {
    "root_mean_squared_error": 5.903,
    "mean_absolute_error": 4.087,
    "r2_score": 0.677,
    "max_error": 49.02,
}
GREATER_IS_BETTER = {"r2_score"}


def _deltas(candidate: dict[str, float], champion: dict[str, float]) -> dict[str, Any]:
    deltas = {}
    for key in candidate.keys() & champion.keys():
        diff = candidate[key] - champion[key]
        deltas[key] = {
            "candidate": candidate[key],
            "champion": champion[key],
            "absolute": diff,
            "relative": diff / abs(champion[key]),
            "better": None if diff == 0 else (diff > 0) == (key in GREATER_IS_BETTER),
        }
    return deltas


def _base(pr: int, version: str, metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "generated_at": "2026-11-30T09:41:07+00:00",
        "experiment": "mlgate",
        "registered_model": "mlgate",
        "model": MODEL,
        "tracking_uri": UI,
        "candidate": {
            "run_id": "5e0c9a1b7d3f42e6a8b1c0d2e4f60718",
            "model_uri": "models:/m-5e0c9a1b7d3f42e6",
            "version": version,
            "estimator": LASSO,
            "params": {"estimator": LASSO, "regressor__alpha": 0.002, "regressor__max_iter": 5000},
            "metrics": metrics,
            "model_size_bytes": 412_337,
            "latency": {"batch_size": 1000, "p50_ms": 9.84, "p95_ms": 12.61},
        },
        "comparison": {"performed": True},
        "data": [
            {
                "role": "train",
                "path": "data/green_tripdata_2023-01.parquet",
                "rows_raw": 20_000,
                "rows": 19_236,
                "digest": "b41f07c2",
            },
            {
                "role": "validation",
                "path": "data/green_tripdata_2023-02.parquet",
                "rows_raw": 20_000,
                "rows": 19_198,
                "digest": "77e0d915",
            },
        ],
        "timings_s": {
            "load": 0.61,
            "fit": 2.94,
            "log_model": 1.72,
            "evaluate": 0.88,
            "compare": 1.35,
            "total": 7.9,
        },
        "lineage": {
            "git_commit": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
            "branch": "lower-alpha",
            "dirty": False,
            "lock_hash": "sha256:4f1d2c3b9a8e",
            "pr_number": pr,
            "head_sha": HEAD,
            "workflow_run_url": RUN,
        },
        "links": {
            "run": f"{UI}/#/experiments/1/runs/5e0c9a1b7d3f42e6a8b1c0d2e4f60718",
            "model_version": f"{UI}/#/models/mlgate/versions/{version}",
            "workflow_run": RUN,
        },
    }


def _gate(passed: bool, reasons: list[str], baseline: str = "champion") -> dict[str, Any]:
    return {
        "metric": "root_mean_squared_error",
        "greater_is_better": False,
        "relative_tolerance": 0.0,
        "bounds": {"root_mean_squared_error": {"max": 12.0}},
        "passed": passed,
        "baseline": baseline,
        "reasons": reasons,
    }


def _champion(metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "version": "3",
        "run_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "estimator": LASSO,
        "params": {"estimator": LASSO, "regressor__alpha": "0.01", "regressor__max_iter": "5000"},
        "comparable": True,
        "metrics": metrics,
        "recorded_metrics": {"root_mean_squared_error": 5.921},
        "data_digests": {"train": "b41f07c2", "validation": "77e0d915"},
        "model_size_bytes": 409_118,
        "latency": {"batch_size": 1000, "p50_ms": 9.51, "p95_ms": 12.02},
    }


HISTORY = [
    {"version": "1", "value": 6.412, "label": "v1"},
    {"version": "2", "value": 6.087, "label": "v2"},
    {"version": "3", "value": 5.903, "label": "v3"},
]


def first_model() -> Report:
    data = _base(1, "1", dict(CANDIDATE_METRICS))
    data["gate"] = _gate(True, ["pass: RMSE (min) 5.674 \u2264 bound 12"], "bounds-only")
    return Report.model_validate(data)


def better() -> Report:
    data = _base(42, "4", dict(CANDIDATE_METRICS))
    data["champion"] = _champion(dict(CHAMPION_METRICS))
    data["deltas"] = _deltas(CANDIDATE_METRICS, CHAMPION_METRICS)
    data["history"] = HISTORY
    data["gate"] = _gate(
        True,
        [
            "pass: RMSE (min) 5.674 is 3.9% better than champion v3 (5.903); tolerance 0.0% worse",
            "pass: RMSE (min) 5.674 \u2264 bound 12",
        ],
    )
    data["serving"] = {
        "passed": True,
        "checks": [
            {"name": "one raw record", "passed": True, "detail": "200, 1 prediction"},
            {"name": "batch of 500", "passed": True, "detail": "200, 500 predictions"},
            {"name": "missing column", "passed": True, "detail": "400 naming trip_distance"},
        ],
        "latency_one": {"batch_size": 1, "p50_ms": 6.2, "p95_ms": 8.9},
        "latency_batch": {"batch_size": 500, "p50_ms": 24.7, "p95_ms": 31.3},
        "champion_latency_one": {"batch_size": 1, "p50_ms": 6.0, "p95_ms": 8.4},
        "champion_latency_batch": {"batch_size": 500, "p50_ms": 24.1, "p95_ms": 30.2},
        "requirements_checked": True,
        "model_size_bytes": 412_337,
        "champion_model_size_bytes": 409_118,
    }
    return Report.model_validate(data)


def worse() -> Report:
    metrics = {**CANDIDATE_METRICS, "root_mean_squared_error": 6.218, "r2_score": 0.641}
    data = _base(43, "5", metrics)
    data["candidate"]["params"] = {**data["candidate"]["params"], "regressor__alpha": 0.5}
    data["champion"] = _champion(dict(CHAMPION_METRICS))
    data["deltas"] = _deltas(metrics, CHAMPION_METRICS)
    data["history"] = HISTORY
    data["gate"] = _gate(
        False,
        [
            "FAIL: RMSE (min) 6.218 is 5.3% worse than champion v3 (5.903); tolerance 0.0% worse",
            "pass: RMSE (min) 6.218 \u2264 bound 12",
        ],
    )
    return Report.model_validate(data)


def failed_run() -> Report:
    return Report.model_validate(
        {
            "generated_at": "2026-11-30T09:41:07+00:00",
            "model": MODEL,
            "status": {"outcome": "failure", "failed_step": "tests"},
            "lineage": {"pr_number": 44, "head_sha": HEAD, "workflow_run_url": RUN},
            "links": {"workflow_run": RUN},
        }
    )


def tuning_pr() -> Report:
    report = better().model_dump()
    report["lineage"]["pr_number"] = 45
    report["serving"] = None
    history: list[dict[str, Any]] = []
    for number in range(30):
        alpha = round(0.5 / (number + 1), 4)
        params = {"regressor__alpha": alpha, "regressor__max_iter": 1000 * (1 + number % 5)}
        if number in (4, 11, 17):
            history.append({"number": number, "state": "pruned", "params": params})
        elif number == 8:
            reason = "ConvergenceWarning: Objective did not converge (max_iter=1000)"
            history.append({"number": number, "state": "fail", "params": params, "reason": reason})
        else:
            value = 5.69 + 0.6 * math.exp(-number / 6) + (number * 37 % 11) / 100
            history.append({"number": number, "state": "complete", "value": round(value, 3)})
            history[-1]["params"] = params
    completed = [t for t in history if t["state"] == "complete"]
    winner = min(completed, key=lambda t: (t["value"], t["number"]))
    report["candidate"]["params"].update(winner["params"])
    report["tuning"] = {
        "sampler": "tpe",
        "seed": 42,
        "n_trials": 30,
        "timeout_s": 600,
        "completed": len(completed),
        "pruned": 3,
        "failed": 1,
        "wall_time_s": 96.4,
        "metric": "root_mean_squared_error",
        "cv_folds": 3,
        "cv": "kfold",
        "best_params": winner["params"],
        "best_cv_score": winner["value"],
        "validation_score": report["candidate"]["metrics"]["root_mean_squared_error"],
        "importances": {"regressor__alpha": 0.81, "regressor__max_iter": 0.19},
        "history": history,
    }
    return Report.model_validate(report)


def truncated() -> Report:
    """A run over 600 daily files: the data table alone is past GitHub's size limit."""
    report = better().model_dump()
    report["lineage"]["pr_number"] = 46
    report["serving"] = None
    days = [
        {
            "role": "train",
            "path": f"data/daily/green_tripdata_2023-{1 + i // 28:02d}-{1 + i % 28:02d}.parquet",
            "rows_raw": 2_300 + i,
            "rows": 2_210 + i,
            "digest": f"{(i * 2654435761) % 2**32:08x}",
        }
        for i in range(600)
    ]
    report["data"] = [*days, report["data"][1]]
    return Report.model_validate(report)


CLASSIFIER = "lightgbm.LGBMClassifier"


def _breakdown(seed: int, skill: float) -> dict[str, Any]:
    """A binary model's breakdown on 2,000 generated rows (a quarter positive), computed by the
    binary task as training computes it; `skill` separates the classes."""
    import numpy as np
    import pandas as pd

    from mlgate import tasks

    rng = np.random.default_rng(seed)
    truth = rng.random(2_000) < 0.25
    logit = rng.normal(size=truth.size) + np.where(truth, skill, -skill)
    positive = 1 / (1 + np.exp(-logit))
    record = {"task": "binary", "classes": ["no", "yes"], "decision_threshold": 0.4}
    target = pd.Series(np.where(truth, "yes", "no"))
    proba = np.column_stack([1 - positive, positive])
    return tasks.adapter("binary").breakdown(target, proba, record) or {}


def classifier() -> Report:
    """A binary LightGBM candidate against a weaker champion: the classes section."""
    mine = {"roc_auc": 0.912, "average_precision": 0.803, "log_loss": 0.318,
            "brier_score": 0.094, "f1_score": 0.741, "precision_score": 0.702,
            "recall_score": 0.785, "accuracy_score": 0.862, "train_log_loss": 0.287}  # fmt: skip
    theirs = {"roc_auc": 0.874, "average_precision": 0.731, "log_loss": 0.366,
              "brier_score": 0.109, "f1_score": 0.688, "precision_score": 0.671,
              "recall_score": 0.706, "accuracy_score": 0.838}  # fmt: skip
    data = _base(47, "6", mine)
    data["model"] = {"title": "Churn model", "target": "churned", "target_label": "Churned"}
    data["candidate"]["estimator"] = CLASSIFIER
    data["candidate"]["params"] = {"estimator": CLASSIFIER, "classifier__n_estimators": 300}
    data["candidate"]["breakdown"] = _breakdown(7, 1.4)
    data["champion"] = {
        **_champion(theirs),
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"estimator": "sklearn.linear_model.LogisticRegression"},
        "recorded_metrics": {"roc_auc": 0.869},
        "breakdown": _breakdown(7, 1.1),
    }
    data["deltas"] = {
        key: {
            "candidate": mine[key],
            "champion": theirs[key],
            "absolute": mine[key] - theirs[key],
            "relative": (mine[key] - theirs[key]) / theirs[key],
            "better": (mine[key] > theirs[key]) == (key not in ("log_loss", "brier_score")),
        }
        for key in theirs
    }
    data["data"] = [
        {**d, "path": f"data/accounts-{d['role']}.parquet", "rows_raw": 2_000, "rows": 2_000}
        for d in data["data"]
    ]
    data["gate"] = {
        "metric": "roc_auc",
        "greater_is_better": True,
        "relative_tolerance": 0.0,
        "bounds": {"roc_auc": {"min": 0.8}},
        "passed": True,
        "baseline": "champion",
        "reasons": [
            "pass: ROC AUC 0.912 is 4.3% better than champion v3 (0.874; higher is better); "
            "tolerance 0.0% worse",
            "pass: ROC AUC 0.912 \u2265 bound 0.8",
        ],
    }
    return Report.model_validate(data)


EXAMPLES: dict[str, Callable[[], Report]] = {
    "first-model": first_model,
    "better": better,
    "worse": worse,
    "failed": failed_run,
    "tuning": tuning_pr,
    "truncated": truncated,
    "classifier": classifier,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNG images")
    parser.add_argument("--only", choices=sorted(EXAMPLES), action="append", help="(repeatable)")
    parser.add_argument(
        "--keep-html", action="store_true", help="also write each page and its final DOM"
    )
    args = parser.parse_args(argv)
    check_tools()
    for name in args.only or EXAMPLES:
        markdown = render_markdown(EXAMPLES[name](), max_chars=GITHUB_COMMENT_LIMIT)
        png = args.out / f"comment-{name}.png"
        progress.say(f"rendering {name} ({len(markdown):,} characters)\u2026")
        result = render(markdown, png, keep_html=png if args.keep_html else None)
        if result.status.get("errors"):
            print(f"{name}: Mermaid failed: {result.status['errors']}", file=sys.stderr)
            return 1
        print(f"{png} ({result.status['rendered']} chart(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
