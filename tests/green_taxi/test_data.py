"""Reading and cleaning TLC months: implausible rides go, drifted schemas load, and every
problem is a one-line error naming the file and the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from green_taxi.data import REQUIRED, DataError, clean, read_month
from green_taxi.plugin import GreenTaxi, TaxiOptions
from mlgate.contract import Dataset
from mlgate.errors import UserError


def load_trips(path: Path, options: TaxiOptions) -> Dataset:
    return GreenTaxi(options).load(path)


PICKUP = "lpep_pickup_datetime"
DROPOFF = "lpep_dropoff_datetime"
OUTPUT_DTYPES = {
    "PULocationID": "int64",
    "DOLocationID": "int64",
    "trip_distance": "float64",
    "duration": "float64",
}
ROWS = 40


def _expected_minutes(frame: pd.DataFrame) -> pd.Series:
    return (frame[DROPOFF] - frame[PICKUP]).dt.total_seconds() / 60.0


def _assert_user_error(error: pytest.ExceptionInfo[DataError], path: Path, *words: str) -> str:
    """The error is a DataError (a UserError), one line, naming the file and each word."""
    message = str(error.value)
    assert isinstance(error.value, UserError)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def test_clean_month_loads_exactly_the_generated_rides(tlc_month, trip_records) -> None:
    path = tlc_month(rows=300, seed=4)
    trips = load_trips(path, TaxiOptions())
    assert isinstance(trips, Dataset)
    assert trips.path == path
    assert trips.rows == 300
    assert trips.rows_raw == pq.read_metadata(path).num_rows
    pd.testing.assert_frame_equal(trips.frame, trip_records(300, seed=4))


def test_output_columns_dtypes_and_minutes(tlc_month, tlc_frame) -> None:
    frame = tlc_frame(ROWS, seed=2, dirty=False)
    trips = load_trips(tlc_month(records=frame), TaxiOptions())
    assert {k: str(v) for k, v in trips.frame.dtypes.items()} == OUTPUT_DTYPES
    assert list(trips.features.columns) == ["PULocationID", "DOLocationID", "trip_distance"]
    assert trips.target.name == "duration"
    assert isinstance(trips.frame.index, pd.RangeIndex)
    np.testing.assert_allclose(trips.target, _expected_minutes(frame), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(trips.frame["PULocationID"], frame["PULocationID"].astype(int))
    np.testing.assert_array_equal(trips.frame["trip_distance"], frame["trip_distance"])


def test_fixture_dirty_rows_are_all_dropped(tlc_month, tlc_frame) -> None:
    frame = tlc_frame(ROWS, seed=3, dirty=True)
    trips = load_trips(tlc_month(records=frame), TaxiOptions())
    assert trips.rows_raw == len(frame) > ROWS
    assert trips.rows == ROWS
    np.testing.assert_allclose(trips.target, _expected_minutes(frame.head(ROWS)), atol=1e-9)


ROW_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("negative-duration", {"minutes": -3.0}, False),
    ("zero-duration", {"minutes": 0.0}, False),
    ("half-minute", {"minutes": 0.5}, False),
    ("just-under-1-minute", {"minutes": 59 / 60}, False),
    ("exactly-1-minute", {"minutes": 1.0}, True),
    ("exactly-60-minutes", {"minutes": 60.0}, True),
    ("61-minutes", {"minutes": 61.0}, False),
    ("multi-hour", {"minutes": 5 * 60.0}, False),
    ("multi-day", {"minutes": 3 * 24 * 60.0}, False),
    ("zero-distance", {"trip_distance": 0.0}, False),
    ("negative-distance", {"trip_distance": -2.5}, False),
    ("tiny-distance", {"trip_distance": 0.01}, True),
    ("exactly-100-miles", {"trip_distance": 100.0}, True),
    ("huge-distance", {"trip_distance": 100.01}, False),
    ("nan-distance", {"trip_distance": np.nan}, False),
    ("null-pickup-zone", {"PULocationID": None}, False),
    ("null-dropoff-zone", {"DOLocationID": None}, False),
    ("null-pickup-time", {PICKUP: None}, False),
    ("null-dropoff-time", {DROPOFF: None}, False),
    ("dropoff-year-2300", {DROPOFF: pd.Timestamp("2300-01-01")}, False),
    ("pickup-year-1600", {PICKUP: pd.Timestamp("1600-01-01")}, False),
]


@pytest.mark.parametrize(
    ("change", "kept"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES]
)
def test_one_implausible_ride_is_dropped(
    tlc_month, tlc_frame, set_ride, change: dict[str, Any], kept: bool
) -> None:
    frame = tlc_frame(ROWS, seed=5, dirty=False)
    set_ride(frame, 7, **change)
    trips = load_trips(tlc_month(records=frame), TaxiOptions())
    assert trips.rows_raw == ROWS
    assert trips.rows == (ROWS if kept else ROWS - 1)
    survivors = frame if kept else frame.drop(index=7)
    np.testing.assert_array_equal(trips.frame["trip_distance"], survivors["trip_distance"])
    np.testing.assert_allclose(trips.target, _expected_minutes(survivors), atol=1e-9)


def test_nan_zone_in_a_double_id_column_is_dropped(tlc_month, tlc_frame) -> None:
    frame = tlc_frame(ROWS, seed=6, dirty=False)
    frame["PULocationID"] = frame["PULocationID"].astype("float64")
    frame.loc[3, "PULocationID"] = np.nan
    path = tlc_month(records=frame, id_type=pa.float64())
    assert load_trips(path, TaxiOptions()).rows == ROWS - 1


DRIFT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("int32-ids", {"id_type": pa.int32()}),
    ("int16-ids", {"id_type": pa.int16()}),
    ("double-ids", {"id_type": pa.float64()}),
    ("timestamp-ns", {"types": {PICKUP: pa.timestamp("ns"), DROPOFF: pa.timestamp("ns")}}),
    ("timestamp-ms", {"types": {PICKUP: pa.timestamp("ms"), DROPOFF: pa.timestamp("ms")}}),
    (
        "timestamp-tz-aware",
        {"types": {PICKUP: pa.timestamp("us", "UTC"), DROPOFF: pa.timestamp("us", "UTC")}},
    ),
    (
        "timestamp-ns-new-york",
        {
            "types": {
                PICKUP: pa.timestamp("ns", "America/New_York"),
                DROPOFF: pa.timestamp("ns", "America/New_York"),
            }
        },
    ),
    ("mixed-timestamp-units", {"types": {PICKUP: pa.timestamp("ns"), DROPOFF: pa.timestamp("s")}}),
    ("ehail-null-type", {"ehail_null": True}),
    ("ehail-all-null-double", {"ehail_null": False}),
    ("distance-float32", {"types": {"trip_distance": pa.float32()}}),
    ("extra-cbd-congestion-fee", {"extra_columns": ["cbd_congestion_fee"]}),
    ("dropped-unused-columns", {"drop_columns": ["ehail_fee", "VendorID", "total_amount"]}),
]


@pytest.mark.parametrize("drift", [c[1] for c in DRIFT_CASES], ids=[c[0] for c in DRIFT_CASES])
def test_schema_drift_loads_the_same_rides(tlc_month, trip_records, drift: dict[str, Any]) -> None:
    drifted = load_trips(tlc_month(rows=ROWS, seed=8, **drift), TaxiOptions())
    assert {k: str(v) for k, v in drifted.frame.dtypes.items()} == OUTPUT_DTYPES
    assert drifted.rows == ROWS
    pd.testing.assert_frame_equal(drifted.frame, trip_records(ROWS, seed=8), rtol=1e-6)


def test_columns_in_another_order_load_the_same_rides(tlc_month, tlc_schema) -> None:
    reference = load_trips(tlc_month(rows=ROWS, seed=8), TaxiOptions())
    reordered = tlc_month(rows=ROWS, seed=8, column_order=tlc_schema.names[::-1])
    assert pq.read_schema(reordered).names[0] == "congestion_surcharge"
    pd.testing.assert_frame_equal(load_trips(reordered, TaxiOptions()).frame, reference.frame)


def test_read_month_reads_only_required_columns(tlc_month) -> None:
    table = read_month(tlc_month(rows=ROWS, extra_columns=["cbd_congestion_fee"]))
    assert table.column_names == list(REQUIRED)


def test_custom_bounds_are_honoured(tlc_month, tlc_frame) -> None:
    frame = tlc_frame(300, seed=9, dirty=True)
    config = TaxiOptions(min_minutes=10, max_minutes=25, max_distance_miles=4)
    trips = load_trips(tlc_month(records=frame), config)
    minutes = _expected_minutes(frame)
    expected = frame[
        minutes.between(10, 25)
        & (frame["trip_distance"] > 0)
        & (frame["trip_distance"] <= 4)
        & frame["PULocationID"].notna()
        & frame["DOLocationID"].notna()
    ]
    assert 0 < trips.rows == len(expected) < 300
    assert trips.target.between(10, 25).all()
    assert trips.frame["trip_distance"].between(0, 4, inclusive="right").all()
    np.testing.assert_array_equal(trips.frame["trip_distance"], expected["trip_distance"])


def test_clean_accepts_an_in_memory_table(tlc_frame) -> None:
    frame = tlc_frame(ROWS, seed=1, dirty=True)
    table = pa.Table.from_pandas(frame[list(REQUIRED)], preserve_index=False)
    cleaned = clean(table, TaxiOptions(), source=Path("memory.parquet"))
    assert len(cleaned) == ROWS


def _random_bytes(path: Path, good: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _truncated(path: Path, good: Path) -> None:
    content = good.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _empty(path: Path, good: Path) -> None:
    path.write_bytes(b"")


def _magic_only(path: Path, good: Path) -> None:
    path.write_bytes(b"PAR1")


def _csv(path: Path, good: Path) -> None:
    path.write_text("PULocationID,DOLocationID\n1,2\n", encoding="utf-8")


CORRUPTIONS: list[tuple[str, Callable[[Path, Path], None]]] = [
    ("random-bytes", _random_bytes),
    ("truncated-parquet", _truncated),
    ("empty-file", _empty),
    ("magic-only", _magic_only),
    ("csv-named-parquet", _csv),
]


@pytest.mark.parametrize("corrupt", [c[1] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_file_is_a_one_line_error(tlc_month, tmp_path: Path, corrupt) -> None:
    good = tlc_month(rows=ROWS)
    path = tmp_path / "green_tripdata_2023-03.parquet"
    corrupt(path, good)
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, "parquet")


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_file_is_a_one_line_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "green_tripdata_2099-01.parquet"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, "not found")


@pytest.mark.parametrize(
    "drop",
    [(name,) for name in REQUIRED] + [("PULocationID", "trip_distance")],
    ids=[*REQUIRED, "two-columns"],
)
def test_missing_required_column_is_named(tlc_month, drop: tuple[str, ...]) -> None:
    path = tlc_month(rows=ROWS, drop_columns=drop)
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, "missing", *drop)


WRONG_TYPES: list[tuple[str, pa.DataType]] = [
    (PICKUP, pa.string()),
    (DROPOFF, pa.int64()),
    (PICKUP, pa.date32()),
    ("trip_distance", pa.bool_()),
    ("PULocationID", pa.timestamp("ms")),
    ("DOLocationID", pa.bool_()),
]


@pytest.mark.parametrize(
    ("column", "kind"), WRONG_TYPES, ids=[f"{c}-as-{k}" for c, k in WRONG_TYPES]
)
def test_required_column_of_wrong_type_is_named(tlc_month, column: str, kind: pa.DataType) -> None:
    path = tlc_month(rows=ROWS, dirty=False, types={column: kind})
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, column, str(kind))


TEXT_TYPES = {
    "string": pa.string(),
    "large-string": pa.large_string(),
    "dictionary": pa.dictionary(pa.int32(), pa.string()),
}


@pytest.mark.parametrize("kind", TEXT_TYPES.values(), ids=TEXT_TYPES.keys())
@pytest.mark.parametrize(
    "columns", [("PULocationID", "DOLocationID"), ("trip_distance",)], ids=["ids", "distance"]
)
def test_numbers_stored_as_text_load_the_same_rides(
    tlc_month, tlc_frame, kind: pa.DataType, columns: tuple[str, ...]
) -> None:
    """Months saved after the classic `read_dataframe` hold the zone ids as strings."""
    frame = tlc_frame(ROWS, seed=6, dirty=True)
    expected = load_trips(tlc_month(records=frame), TaxiOptions())
    text = frame.copy()
    for name in columns:
        text[name] = [None if pd.isna(v) else f" {v} " for v in frame[name]]
    got = load_trips(tlc_month(records=text, types=dict.fromkeys(columns, kind)), TaxiOptions())
    pd.testing.assert_frame_equal(got.frame, expected.frame)


BAD_TEXT = {
    "word": ("PULocationID", "Manhattan"),
    "id-with-unit": ("DOLocationID", "74 zone"),
    "distance-with-unit": ("trip_distance", "2.5mi"),
}


@pytest.mark.parametrize(("column", "value"), BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_text_that_is_not_a_number_names_column_and_value(
    tlc_month, tlc_frame, column: str, value: str
) -> None:
    frame = tlc_frame(ROWS, seed=7, dirty=False)
    text = [str(v) for v in frame[column]]
    text[5] = value
    frame[column] = text
    path = tlc_month(records=frame, types={column: pa.string()})
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    message = _assert_user_error(error, path, column, repr(value), "1 row")
    assert "not a number" in message


@pytest.mark.parametrize("column", REQUIRED)
def test_entirely_null_required_column_is_named(tlc_month, tlc_frame, column: str) -> None:
    frame = tlc_frame(ROWS, dirty=False)
    frame[column] = pd.Series([None] * ROWS, dtype=frame[column].dtype)
    path = tlc_month(records=frame)
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, column, "null")


@pytest.mark.parametrize("column", ["PULocationID", "trip_distance"])
def test_required_column_typed_null_is_named(tlc_month, column: str) -> None:
    path = tlc_month(rows=ROWS, types={column: pa.null()})
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, column, "null")


@pytest.mark.parametrize("rows", [0, ROWS], ids=["empty-month", "all-rides-implausible"])
def test_no_rows_left_is_a_one_line_error(tlc_month, tlc_frame, rows: int) -> None:
    frame = tlc_frame(rows, dirty=False)
    frame[DROPOFF] = frame[PICKUP]
    path = tlc_month(records=frame)
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, "no rows left", f"{rows} read")


def test_no_rows_left_message_shows_the_custom_bounds(tlc_month) -> None:
    path = tlc_month(rows=ROWS, dirty=False)
    config = TaxiOptions(min_minutes=70, max_minutes=80, max_distance_miles=2.5)
    with pytest.raises(DataError) as error:
        load_trips(path, config)
    _assert_user_error(error, path, "70-80 minutes", "2.5 miles")


def _duplicated(table: pa.Table, column: str) -> pa.Table:
    return pa.table([*table.columns, table.column(column)], names=[*table.column_names, column])


def _huge_integer(table: pa.Table, column: str) -> pa.Table:
    values = pa.array([2**62] * table.num_rows, pa.int64())
    return table.set_column(table.schema.get_field_index(column), column, values)


HOSTILE_COLUMNS = {
    "duplicated-PULocationID": (_duplicated, "PULocationID", "more than once"),
    "duplicated-pickup": (_duplicated, PICKUP, "more than once"),
    "id-of-2**62": (_huge_integer, "DOLocationID", "DOLocationID"),
    "distance-of-2**62": (_huge_integer, "trip_distance", "trip_distance"),
}


@pytest.mark.parametrize(
    ("change", "column", "word"), HOSTILE_COLUMNS.values(), ids=HOSTILE_COLUMNS.keys()
)
def test_hostile_column_is_a_one_line_error_naming_it(
    tlc_month, tmp_path: Path, change, column: str, word: str
) -> None:
    path = tmp_path / "hostile.parquet"
    pq.write_table(change(pq.read_table(tlc_month(rows=ROWS, dirty=False)), column), path)
    with pytest.raises(DataError) as error:
        load_trips(path, TaxiOptions())
    _assert_user_error(error, path, column, word)
