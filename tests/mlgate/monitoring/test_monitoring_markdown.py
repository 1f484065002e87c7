"""The monitoring document and its Markdown: verdict first, each drifted feature with its
statistic and threshold, charts, and one-line errors for unreadable documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgate.config import MonitoringConfig
from mlgate.contract import Dataset, WatchedFeature
from mlgate.errors import UserError
from mlgate.monitoring import checks
from mlgate.monitoring.document import (
    ChampionRef,
    DataRef,
    MonitoringReport,
    load_monitoring,
)
from mlgate.monitoring.markdown import MARKER, render_monitoring, verdict_line
from mlgate.tasks.regression import Regression


@pytest.fixture
def report(
    dataset: Callable[..., Dataset], watched: tuple[WatchedFeature, ...], predictor: Callable
) -> Callable[..., MonitoringReport]:
    def make(current_path: str = "data/current.parquet", **change) -> MonitoringReport:
        reference, current = dataset(seed=1), dataset(seed=2, **change)
        found, distributions = checks.run_all(
            reference,
            current,
            watched,
            checks.Outputs(
                Regression(), {"task": "regression"}, predictor(reference), predictor(current)
            ),
            ChampionRef(version="1", model_uri="models:/m/1", recorded=1.0),
            MonitoringConfig(),
        )

        def ref(role: str, data: Dataset, path: str, origin: str) -> DataRef:
            return DataRef(
                role=role, path=path, digest=f"{role[:3]}12345", rows=data.rows,
                rows_raw=data.rows_raw, origin=origin,
            )  # fmt: skip

        return MonitoringReport(
            generated_at="2026-01-01T00:00:00Z",
            registered_model="trips",
            title="Trip duration model monitoring",
            champion=ChampionRef(version="7", run_id="r1", model_uri="models:/trips/7"),
            reference=ref("reference", reference, "data/train.parquet", "champion training data"),
            current=ref("current", current, current_path, "current"),
            checks=found,
            distributions=distributions,
        )

    return make


def test_no_drift_says_so_first(report: Callable[..., MonitoringReport]) -> None:
    document = report()
    text = render_monitoring(document)
    assert text.startswith(MARKER)
    first_heading = next(line for line in text.splitlines() if line.startswith("### "))
    assert "No drift" in first_heading
    assert "v7" in text
    assert verdict_line(document).startswith("no drift")


def test_drift_names_each_feature_with_statistic_and_threshold(
    report: Callable[..., MonitoringReport],
) -> None:
    document = report(scale=1.5, zone_weights=__import__("numpy").ones(40))
    assert document.drift
    text = render_monitoring(document)
    first_heading = next(line for line in text.splitlines() if line.startswith("### "))
    assert "Drift detected" in first_heading
    for subject in ("distance", "zone", "prediction"):
        assert f"`{subject}`" in first_heading
    for check in document.failed:
        stat = f"{check.statistic:.4g}"
        limit = f"{check.threshold:.4g}"
        assert f"{check.subject}: {check.test} {stat} ≥ {limit}" in text
    assert text.index("Drift detected") < text.index("### Checks") < text.index("```mermaid")
    assert text.count("```mermaid") == 3  # distance, zone, prediction


def test_table_has_one_row_per_check(report: Callable[..., MonitoringReport]) -> None:
    document = report(scale=1.5)
    text = render_monitoring(document)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    checks_rows = [row for row in rows if row.split("|")[1].strip() in {
        "numeric", "categorical", "prediction", "quality", "performance"}]  # fmt: skip
    assert len(checks_rows) == len(document.checks)
    assert sum("❌ fail" in row for row in checks_rows) == len(document.failed)


def test_untrusted_text_cannot_break_the_table(report: Callable[..., MonitoringReport]) -> None:
    text = render_monitoring(report(current_path="evil|`name`\nnext.parquet"))
    data_row = next(line for line in text.splitlines() if line.startswith("| current"))
    assert "evil\\|'name' next.parquet" in data_row


def test_document_round_trips(report: Callable[..., MonitoringReport], tmp_path: Path) -> None:
    document = report(scale=1.5)
    path = tmp_path / "out" / "monitoring.json"
    document.write(path)
    assert load_monitoring(path) == document
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "monitoring report not found"),
        ("{not json", "not a readable JSON monitoring report"),
        (json.dumps({"generated_at": "x"}), "invalid monitoring report at registered_model"),
    ],
    ids=["missing", "corrupt", "invalid"],
)
def test_unreadable_documents_are_one_line_errors(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "monitoring.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message) as caught:
        load_monitoring(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_document_of_an_earlier_release_keeps_its_recorded_rmse() -> None:
    earlier = {"version": "3", "model_uri": "models:/m/3", "validation_rmse": 6.2}
    champion = ChampionRef.model_validate(earlier)
    assert (champion.metric, champion.recorded) == ("root_mean_squared_error", 6.2)
