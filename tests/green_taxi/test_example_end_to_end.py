"""The example plug-in through the whole lifecycle: its own transformers are trusted by the
model saver and shipped with the model, for a sparse-input and a dense-input estimator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from green_taxi.plugin import GreenTaxi, TaxiOptions
from mlgate.cli import main
from mlgate.report.document import load_report

pytestmark = pytest.mark.slow

CONFIG = """\
[data]
train = "data/green_tripdata_2023-01.parquet"
validation = "data/green_tripdata_2023-02.parquet"
[model]
plugin = "green_taxi.plugin:GreenTaxi"
estimator = "{estimator}"
params = {params}
[gate]
bounds = {{ root_mean_squared_error = {{ max = 12.0 }} }}
[tracking]
experiment = "taxi-{slug}"
registered_model = "taxi-{slug}"
[report]
latency_batch = 16
latency_repeats = 2
"""


@pytest.mark.parametrize(
    ("estimator", "params", "step"),
    [
        ("sklearn.linear_model.Lasso", "{ alpha = 0.01 }", "ZonePairDistance"),
        ("sklearn.ensemble.HistGradientBoostingRegressor", "{ max_iter = 40 }", "ZonesAndDistance"),
    ],
    ids=["sparse-lasso", "dense-boosting"],
)
def test_example_trains_registers_and_serves_raw_records(
    tmp_path: Path,
    tlc_month: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    estimator: str,
    params: str,
    step: str,
) -> None:
    import mlflow

    tlc_month(rows=600, seed=1)
    validation = tlc_month(rows=600, seed=2)
    slug = estimator.rsplit(".", 1)[1].lower()
    config = tmp_path / "mlgate.toml"
    config.write_text(CONFIG.format(estimator=estimator, params=params, slug=slug))
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)

    assert main(["--config", str(config), "train"]) == 0
    assert main(["--config", str(config), "promote", "--version", "latest"]) == 0

    report = load_report(tmp_path / "reports" / "report.json")
    assert report.model.unit == "min"
    assert report.gate.passed, report.gate.reasons
    champion = mlflow.pyfunc.load_model(f"models:/taxi-{slug}@champion")
    assert type(champion.get_raw_model()["features"]).__name__ == step
    data = GreenTaxi(TaxiOptions()).load(validation)
    predictions = champion.predict(data.features)
    assert np.isfinite(predictions).all()
    rmse = float(np.sqrt(np.mean((predictions - data.target.to_numpy()) ** 2)))
    assert rmse == pytest.approx(report.candidate.metrics["root_mean_squared_error"], rel=1e-9)
