"""`--engine spark` opens files with Spark's own filesystems, so a bucket URI is refused in one
line before anything runs (no Spark session, no model, no output)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.spark.command import require_local
from mlgate.storage import location

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (["s3://bucket/current.parquet", None], "s3://bucket/current.parquet"),
        (
            ["data/current.parquet", "gs://bucket/reference.parquet"],
            "gs://bucket/reference.parquet",
        ),
    ],
)
def test_a_bucket_uri_is_refused_naming_it(values: list[str | None], named: str) -> None:
    with pytest.raises(UsageError) as refused:
        require_local(*(None if v is None else location(v) for v in values))
    assert str(refused.value).startswith(f"{named}: --engine spark")
    assert "\n" not in str(refused.value)


def test_local_paths_pass() -> None:
    require_local(location("data/current.parquet"), None, location("file:///tmp/out.parquet"))


@pytest.mark.parametrize("flag", ["--data", "--out"])
def test_predict_on_spark_refuses_a_bucket_before_anything_runs(tmp_path: Path, flag: str) -> None:
    paths = {"--data": str(tmp_path / "in.parquet"), "--out": str(tmp_path / "out.parquet")}
    paths[flag] = "s3://bucket/scores.parquet"
    done = subprocess.run(
        [
            sys.executable, "-m", "mlgate.cli", "--config", str(ROOT / "pyproject.toml"),
            "predict", "--model", "1", "--engine", "spark",
            *(part for item in paths.items() for part in item),
        ],
        cwd=tmp_path,
        env={**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: s3://bucket/scores.parquet: --engine spark reads and writes through Spark's own "
        "filesystems: give local paths (or run it where the cluster mounts the bucket); see "
        "docs/scale.md"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
