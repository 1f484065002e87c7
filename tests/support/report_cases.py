"""Report documents for the comment's tests (champion, first model, skipped, not comparable,
failed) and helpers that read the rendered Markdown back."""

from __future__ import annotations

import copy
import re
from typing import Any

from mlgate.report.document import GREATER_IS_BETTER, METRIC_LABELS, Report

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


def deltas_of(candidate: dict[str, float], champion: dict[str, float]) -> dict[str, Any]:
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
        "deltas": deltas_of(CANDIDATE_METRICS, CHAMPION_METRICS),
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


HOSTILE = "x|y\n<script>alert(1)</script> `code` **bold** [a](https://evil) @octocat $x$"


def assert_inert(md: str) -> None:
    assert "<script>" not in md
    assert "**bold**" not in md
    assert "[a](https://evil)" not in md
    assert "`code`" not in md
    assert "@octocat" not in md
