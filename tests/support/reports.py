"""Small valid report documents for tests that need no training (comment, status, links)."""

from __future__ import annotations

from typing import Any

from mlgate.report.document import Report

RMSE = "root_mean_squared_error"


def report_data(
    *, passed: bool = True, version: str | None = "3", **sections: Any
) -> dict[str, Any]:
    """A successful run's report as JSON data; `sections` replace top-level fields."""
    reasons = [f"PASS {RMSE} 6.000 <= 12.000"] if passed else [f"FAIL {RMSE} 13.000 > 12.000"]
    data: dict[str, Any] = {
        "generated_at": "2026-01-05T10:00:00Z",
        "registered_model": "trips",
        "candidate": {
            "run_id": "0123456789abcdef",
            "model_uri": "models:/m-0123",
            "version": version,
            "estimator": "sklearn.linear_model.Lasso",
            "params": {"alpha": 0.1},
            "metrics": {RMSE: 6.0 if passed else 13.0},
        },
        "gate": {
            "metric": RMSE,
            "greater_is_better": False,
            "relative_tolerance": 0.0,
            "bounds": {RMSE: {"max": 12.0}},
            "passed": passed,
            "baseline": "bounds-only",
            "reasons": reasons,
        },
    }
    data.update(sections)
    return data


def make_report(**kwargs: Any) -> Report:
    return Report.model_validate(report_data(**kwargs))
