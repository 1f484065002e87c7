"""The synthetic TLC generator: schema, determinism, realism, drift and the committed files."""

import hashlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

NAN_BLOCK_COLUMNS = [
    "store_and_fwd_flag",
    "RatecodeID",
    "passenger_count",
    "payment_type",
    "trip_type",
    "congestion_surcharge",
]
ROWS = 40_000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def month(make_sample: ModuleType) -> pd.DataFrame:
    return make_sample.generate_month("2023-01", ROWS, seed=7)


@pytest.fixture(scope="module")
def next_month(make_sample: ModuleType) -> pd.DataFrame:
    return make_sample.generate_month("2023-02", ROWS, seed=7)


def minutes(frame: pd.DataFrame) -> pd.Series:
    delta = frame["lpep_dropoff_datetime"] - frame["lpep_pickup_datetime"]
    return delta.dt.total_seconds() / 60


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """The filtering the model applies: 1..60 minutes and a plausible distance."""
    duration = minutes(frame)
    keep = duration.between(1, 60) & (frame["trip_distance"] > 0) & (frame["trip_distance"] <= 100)
    return frame.assign(duration=duration)[keep]


def test_schema_matches_tlc_green(
    make_sample: ModuleType, tmp_path: Path, tlc_schema: pa.Schema
) -> None:
    path = make_sample.write_month(tmp_path / "m.parquet", "2023-01", 500)
    schema = pq.read_schema(path)
    assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in tlc_schema]
    assert list(make_sample.COLUMNS) == tlc_schema.names
    assert pq.ParquetFile(path).metadata.num_rows == 500


def test_dataframe_reads_like_the_parquet(month: pd.DataFrame, tlc_schema: pa.Schema) -> None:
    assert list(month.columns) == tlc_schema.names
    assert len(month) == ROWS
    assert month["lpep_pickup_datetime"].dtype == "datetime64[us]"
    assert month["PULocationID"].dtype == "int64"
    assert month["ehail_fee"].isna().all()
    assert set(month["store_and_fwd_flag"].dropna()) == {"N", "Y"}


def test_same_seed_same_bytes_other_seed_differs(make_sample: ModuleType, tmp_path: Path) -> None:
    first = make_sample.write_month(tmp_path / "a.parquet", "2023-01", 3_000, seed=1)
    again = make_sample.write_month(tmp_path / "b.parquet", "2023-01", 3_000, seed=1)
    other_seed = make_sample.write_month(tmp_path / "c.parquet", "2023-01", 3_000, seed=2)
    other_month = make_sample.write_month(tmp_path / "d.parquet", "2023-02", 3_000, seed=1)
    assert sha256(first) == sha256(again)
    assert sha256(first) != sha256(other_seed)
    assert sha256(first) != sha256(other_month)
    a, c = pq.read_table(first), pq.read_table(other_seed)
    assert not a["trip_distance"].equals(c["trip_distance"])


def test_pickups_fall_in_the_month_except_a_few_strays(month: pd.DataFrame) -> None:
    pickup = month["lpep_pickup_datetime"]
    inside = pickup.between(pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01"), "left")
    strays = pickup[~inside]
    assert 1 <= len(strays) <= 10
    assert (strays < pd.Timestamp("2022-01-01")).any()  # years before the file's month
    assert (month["lpep_pickup_datetime"].dt.second != 0).mean() > 0.85


@pytest.mark.parametrize(
    ("name", "select", "low", "high"),
    [
        ("negative duration", lambda f, d: d < 0, 0.00002, 0.001),
        ("zero duration", lambda f, d: d == 0, 0.0003, 0.002),
        ("under a minute", lambda f, d: d < 1, 0.015, 0.035),
        ("over an hour", lambda f, d: d > 60, 0.005, 0.015),
        ("multi-hour", lambda f, d: d > 600, 0.001, 0.006),
        ("zero distance", lambda f, d: f["trip_distance"] == 0, 0.035, 0.065),
        ("absurd distance", lambda f, d: f["trip_distance"] > 100, 0.0002, 0.0012),
        ("negative fare", lambda f, d: f["fare_amount"] < 0, 0.001, 0.005),
        ("no passenger_count", lambda f, d: f["passenger_count"].isna(), 0.055, 0.072),
    ],
)
def test_dirty_rows_in_realistic_proportions(
    month: pd.DataFrame, name: str, select, low: float, high: float
) -> None:
    share = select(month, minutes(month)).mean()
    assert low <= share <= high, f"{name}: {share:.5f} not in [{low}, {high}]"


def test_missing_values_come_in_one_block(month: pd.DataFrame) -> None:
    missing = month[NAN_BLOCK_COLUMNS].isna()
    block = missing["passenger_count"]
    for column in NAN_BLOCK_COLUMNS:
        assert (missing[column] >= block).all(), column
    assert missing["trip_type"].sum() >= block.sum()
    assert month["trip_distance"].max() <= 120_100
    assert month.loc[block, "trip_distance"].max() > 1_000


def test_duration_follows_distance(month: pd.DataFrame) -> None:
    trips = clean(month)
    assert len(trips) > 0.9 * ROWS
    assert np.corrcoef(trips["trip_distance"], trips["duration"])[0, 1] > 0.65
    assert 11 < trips["duration"].mean() < 16
    assert 1.5 < trips["trip_distance"].median() < 2.3


def test_zone_pair_effects_carry_over_to_the_next_month(
    month: pd.DataFrame, next_month: pd.DataFrame
) -> None:
    """Per-pair corrections learnt on one month cut the error of a distance-only fit on the next."""
    train, valid = clean(month), clean(next_month)
    slope, intercept = np.polyfit(train["trip_distance"], train["duration"], 1)

    def pairs(frame: pd.DataFrame) -> pd.Series:
        return frame["PULocationID"] * 1000 + frame["DOLocationID"]

    residual = train["duration"] - (slope * train["trip_distance"] + intercept)
    by_pair = residual.groupby(pairs(train)).agg(["mean", "size"])
    correction = by_pair.loc[by_pair["size"] >= 20, "mean"]
    base = slope * valid["trip_distance"] + intercept
    with_pairs = base + pairs(valid).map(correction).fillna(0.0)
    rmse_base = np.sqrt(np.mean((valid["duration"] - base) ** 2))
    rmse_pairs = np.sqrt(np.mean((valid["duration"] - with_pairs) ** 2))
    assert rmse_pairs < 0.85 * rmse_base
    assert pairs(train).value_counts().iloc[0] > 0.01 * len(train)  # popular pairs repeat


@pytest.mark.parametrize(
    ("options", "id_type", "ehail_type"),
    [
        ([], pa.int64(), pa.null()),
        (["--drift"], pa.int32(), pa.float64()),
        (["--id-type", "int32"], pa.int32(), pa.null()),
        (["--drift", "--ehail-type", "null"], pa.int32(), pa.null()),
    ],
)
def test_cli_writes_drifted_schemas(
    make_sample: ModuleType,
    tmp_path: Path,
    options: list[str],
    id_type,
    ehail_type,
    tlc_schema: pa.Schema,
) -> None:
    out = tmp_path / "drift.parquet"
    argv = ["--month", "2023-03", "--rows", "300", "--seed", "3", "--out", str(out), *options]
    assert make_sample.main(argv) == 0
    table = pq.read_table(out)
    for name in ("VendorID", "PULocationID", "DOLocationID"):
        assert table.schema.field(name).type == id_type
    assert table.schema.field("ehail_fee").type == ehail_type
    assert table["ehail_fee"].null_count == 300
    assert table.column_names == tlc_schema.names


def test_timestamp_unit_drift(make_sample: ModuleType) -> None:
    table = make_sample.generate_table("2023-01", 100, timestamp_unit="ns")
    reference = make_sample.generate_table("2023-01", 100)
    assert table.schema.field("lpep_pickup_datetime").type == pa.timestamp("ns")
    assert (
        table["lpep_pickup_datetime"]
        .cast(pa.timestamp("us"))
        .equals(reference["lpep_pickup_datetime"])
    )


@pytest.mark.parametrize("rows", [0, 1, 25])
def test_tiny_months(make_sample: ModuleType, rows: int, tlc_schema: pa.Schema) -> None:
    table = make_sample.generate_table("2024-02", rows)
    assert table.num_rows == rows
    assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in tlc_schema]


@pytest.mark.parametrize(
    "argv",
    [
        ["--month", "2023-13", "--out", "x.parquet"],
        ["--month", "2023-1", "--out", "x.parquet"],
        ["--month", "2023-01"],
        ["--rows", "10"],
        ["--drift"],
        ["--month", "2023-01", "--out", "x.parquet", "--rows", "-1"],
    ],
)
def test_cli_rejects_bad_arguments(make_sample: ModuleType, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        make_sample.main(argv)
    assert exc.value.code == 2


def test_committed_files_are_small_and_match_the_generator(
    make_sample: ModuleType, tmp_path: Path
) -> None:
    data = Path(__file__).resolve().parents[2] / "data"
    committed = [make_sample.default_path(m, data) for m in make_sample.DEFAULT_FILES]
    assert all(path.is_file() for path in committed), "run: uv run python -m green_taxi.make_sample"
    assert sum(path.stat().st_size for path in committed) <= 1_000_000
    regenerated = make_sample.write_defaults(tmp_path)
    for path, fresh in zip(committed, regenerated, strict=True):
        assert pq.read_table(path).equals(pq.read_table(fresh)), path.name
        assert sha256(path) == sha256(fresh), (
            f"{path.name} differs from the generator's output; "
            "regenerate with: uv run python -m green_taxi.make_sample"
        )
        month = path.name.removeprefix("green_tripdata_").removesuffix(".parquet")
        assert pq.ParquetFile(path).metadata.num_rows == make_sample.DEFAULT_FILES[month]


@pytest.mark.parametrize(
    "module", ["make_sample", "download_tlc", "calibrate_monitor", "benchmark"]
)
def test_the_example_modules_run_with_python_m(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"green_taxi.{module}", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_python_m_writes_a_month(tmp_path: Path) -> None:
    out = tmp_path / "month.parquet"
    argv = ["--month", "2023-03", "--rows", "50", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "green_taxi.make_sample", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pq.ParquetFile(out).metadata.num_rows == 50
