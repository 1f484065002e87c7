"""The zone-id range of the feature transformers: it sizes an array of (max_zone_id + 1)² while
fitting, so an out-of-range value is refused at once instead of allocating hundreds of GiB."""

from __future__ import annotations

import pandas as pd
import pytest

from green_taxi.features import MAX_ZONE_ID_LIMIT, ZonePairDistance, ZonesAndDistance

TRANSFORMERS = [ZonePairDistance, ZonesAndDistance]


def _rides() -> pd.DataFrame:
    return pd.DataFrame(
        {"PULocationID": [1, 7, 265], "DOLocationID": [7, 1, 42], "trip_distance": [1.0, 2.5, 3.0]}
    )


@pytest.mark.parametrize("transformer", TRANSFORMERS)
@pytest.mark.parametrize("value", [1_000_000, MAX_ZONE_ID_LIMIT + 1, 0, -5, 2.5, "265"])
def test_out_of_range_max_zone_id_is_refused_before_fitting(transformer, value) -> None:
    with pytest.raises((ValueError, TypeError), match="max_zone_id"):
        transformer(max_zone_id=value).fit(_rides())


@pytest.mark.parametrize("transformer", TRANSFORMERS)
@pytest.mark.parametrize("value", [1, 265, MAX_ZONE_ID_LIMIT])
def test_in_range_max_zone_id_fits(transformer, value) -> None:
    out = transformer(max_zone_id=value).fit(_rides()).transform(_rides())
    assert out.shape[0] == 3


@pytest.mark.parametrize("value", ["1000000", "-5", "0", "2.5"])
def test_out_of_range_zone_id_is_one_line_before_any_work(
    tmp_path, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: refused before data is read or the tracking server is contacted."""
    import time

    from mlgate.cli import main

    config = tmp_path / "mlgate.toml"
    config.write_text(
        '[data]\ntrain = "missing.parquet"\nvalidation = "missing.parquet"\n'
        '[model]\nplugin = "green_taxi.plugin:GreenTaxi"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    started = time.monotonic()
    argv = ["--quiet", "--config", str(config), "train", "--param"]
    assert main([*argv, f"features__max_zone_id={value}"]) == 1
    assert time.monotonic() - started < 10
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "model.params.features__max_zone_id" in errors[0]
    assert f"[1, {MAX_ZONE_ID_LIMIT}]" in errors[0], "the error says the allowed range"
