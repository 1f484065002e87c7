"""Synthetic TLC green-taxi months and trip records, for the example plug-in's tests.

Everything is generated here (seeded numpy, a few hundred rows), so no test reads data from
outside its temporary folder. The simulated duration is

    10 + 2.4 * trip_distance + pair_effect(PULocationID, DOLocationID) + noise   (minutes)

where the zone-pair effect is fixed (it does not depend on the seed), so a model fitted on one
seed generalises to another and the zone pair carries signal beyond distance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

TLC_SCHEMA = pa.schema(
    [
        ("VendorID", pa.int64()),
        ("lpep_pickup_datetime", pa.timestamp("us")),
        ("lpep_dropoff_datetime", pa.timestamp("us")),
        ("store_and_fwd_flag", pa.string()),
        ("RatecodeID", pa.float64()),
        ("PULocationID", pa.int64()),
        ("DOLocationID", pa.int64()),
        ("passenger_count", pa.float64()),
        ("trip_distance", pa.float64()),
        ("fare_amount", pa.float64()),
        ("extra", pa.float64()),
        ("mta_tax", pa.float64()),
        ("tip_amount", pa.float64()),
        ("tolls_amount", pa.float64()),
        ("ehail_fee", pa.null()),
        ("improvement_surcharge", pa.float64()),
        ("total_amount", pa.float64()),
        ("payment_type", pa.float64()),
        ("trip_type", pa.float64()),
        ("congestion_surcharge", pa.float64()),
    ]
)
"""The January 2023 green-taxi schema, column order included."""

ID_COLUMNS = ("PULocationID", "DOLocationID")
ID_TYPE = pa.int64()
ZONES = (7, 42, 74, 129, 236)
"""Zones the simulated rides use: 25 pairs, each seen often enough for a model to learn it."""

MONTH_START = np.datetime64("2023-01-01T00:00:00", "us")

DIRTY_ROWS: tuple[dict[str, Any], ...] = (
    {"minutes": -4.0},
    {"minutes": 0.0},
    {"minutes": 0.5},
    {"minutes": 61.0},
    {"minutes": 300.0},
    {"trip_distance": 0.0},
    {"trip_distance": -1.5},
    {"trip_distance": 150.0},
    {"trip_distance": np.nan},
    {"PULocationID": None},
    {"DOLocationID": None},
    {"lpep_pickup_datetime": None},
    {"lpep_dropoff_datetime": None},
)
"""Implausible rides appended by `dirty=True`, one row each; cleaning must drop all of them.

`minutes` sets the dropoff that many minutes after the pickup; other keys set a column."""


def pair_effect(pickup: np.ndarray, dropoff: np.ndarray) -> np.ndarray:
    """Minutes a zone pair adds to a ride, between -9 and +9; the same for every seed."""
    pickup = np.asarray(pickup, dtype=np.int64)
    dropoff = np.asarray(dropoff, dtype=np.int64)
    return ((pickup * 31 + dropoff * 17) % 19 - 9).astype(np.float64)


def make_trip_records(
    rows: int = 500, seed: int = 0, *, zones: Sequence[int] = ZONES
) -> pd.DataFrame:
    """Plausible rides as the model sees them: the three inputs plus `duration` in minutes.

    These are exactly the rows (and values) that cleaning keeps from `make_tlc_frame` with the
    same arguments.
    """
    rng = np.random.default_rng(seed)
    pickup_zone = rng.choice(np.asarray(zones, dtype=np.int64), rows)
    dropoff_zone = rng.choice(np.asarray(zones, dtype=np.int64), rows)
    distance = np.round(np.clip(rng.gamma(2.0, 1.6, rows), 0.1, 15.0), 2)
    minutes = 10.0 + 2.4 * distance + pair_effect(pickup_zone, dropoff_zone)
    minutes += rng.normal(0.0, 1.0, rows)
    seconds = np.round(np.clip(minutes, 1.5, 58.5) * 60.0)
    return pd.DataFrame(
        {
            "PULocationID": pickup_zone,
            "DOLocationID": dropoff_zone,
            "trip_distance": distance,
            "duration": seconds / 60.0,
        }
    )


def make_tlc_frame(
    rows: int = 200, seed: int = 0, *, dirty: bool = True, zones: Sequence[int] = ZONES
) -> pd.DataFrame:
    """Raw TLC records with the 20 green-taxi columns: `rows` plausible rides, then (when
    `dirty`) one implausible ride per entry of `DIRTY_ROWS`.

    Ids are pandas nullable `Int64` and timestamps `datetime64[us]`, so a test can blank any
    cell with `None` before writing the frame with `tlc_month(records=...)`.
    """
    trips = make_trip_records(rows, seed, zones=zones)
    if dirty:
        extra = make_trip_records(len(DIRTY_ROWS), seed + 10_000, zones=zones)
        trips = pd.concat([trips, extra], ignore_index=True)
    n = len(trips)
    rng = np.random.default_rng([seed, 1])
    pickup = MONTH_START + rng.integers(0, 28 * 86_400, n).astype("timedelta64[s]")
    dropoff = pickup + np.round(trips["duration"].to_numpy() * 60.0).astype("timedelta64[s]")
    distance = trips["trip_distance"].to_numpy()
    fare = np.round(3.0 + 2.5 * distance + 0.5 * trips["duration"].to_numpy(), 2)
    tip = np.round(fare * rng.choice([0.0, 0.15, 0.2], n), 2)
    congestion = rng.choice([0.0, 2.75], n)
    frame = pd.DataFrame(
        {
            "VendorID": rng.choice([1, 2], n),
            "lpep_pickup_datetime": pd.Series(pickup, dtype="datetime64[us]"),
            "lpep_dropoff_datetime": pd.Series(dropoff, dtype="datetime64[us]"),
            "store_and_fwd_flag": np.where(rng.random(n) < 0.02, "Y", "N").astype(object),
            "RatecodeID": np.ones(n),
            "PULocationID": pd.array(trips["PULocationID"], dtype="Int64"),
            "DOLocationID": pd.array(trips["DOLocationID"], dtype="Int64"),
            "passenger_count": rng.choice([1.0, 1.0, 2.0, 3.0], n),
            "trip_distance": distance.copy(),
            "fare_amount": fare,
            "extra": rng.choice([0.0, 0.5, 1.0], n),
            "mta_tax": np.full(n, 0.5),
            "tip_amount": tip,
            "tolls_amount": np.zeros(n),
            "ehail_fee": np.full(n, np.nan),
            "improvement_surcharge": np.ones(n),
            "total_amount": np.round(fare + tip + 0.5 + 1.0 + congestion, 2),
            "payment_type": rng.choice([1.0, 2.0], n),
            "trip_type": np.ones(n),
            "congestion_surcharge": congestion,
        }
    )
    if dirty:
        for offset, change in enumerate(DIRTY_ROWS):
            set_ride(frame, rows + offset, **change)
    return frame


def set_ride(
    frame: pd.DataFrame, row: int, *, minutes: float | None = None, **columns: Any
) -> None:
    """Change one ride in a TLC frame in place: `minutes` moves its dropoff relative to its
    pickup; other keywords set columns (`None` blanks a cell)."""
    position = frame.index[row]
    for name, value in columns.items():
        frame.loc[position, name] = pd.NA if value is None and name in ID_COLUMNS else value
    if minutes is not None:
        pickup = frame.loc[position, "lpep_pickup_datetime"]
        frame.loc[position, "lpep_dropoff_datetime"] = pickup + pd.Timedelta(minutes=minutes)


def _arrow_column(values: pd.Series, kind: pa.DataType) -> pa.Array:
    if pa.types.is_null(kind):
        return pa.nulls(len(values))
    array = pa.array(values, from_pandas=True)
    if pa.types.is_null(array.type):
        return pa.nulls(len(values), kind)
    return array.cast(kind)


def write_tlc_month(
    frame: pd.DataFrame,
    path: Path,
    *,
    types: Mapping[str, pa.DataType] | None = None,
    extra_columns: Sequence[str] = (),
    drop_columns: Sequence[str] = (),
    column_order: Sequence[str] | None = None,
) -> Path:
    """Write a TLC frame as parquet in `TLC_SCHEMA`, with the given drift applied."""
    types = dict(types or {})
    fields = [
        (name, types.pop(name, kind))
        for name, kind in zip(TLC_SCHEMA.names, TLC_SCHEMA.types, strict=True)
    ]
    fields += [(name, types.pop(name, pa.float64())) for name in extra_columns]
    if types:
        raise ValueError(f"types for unknown columns: {sorted(types)}")
    columns: dict[str, pa.Array] = {}
    for name, kind in fields:
        if name in drop_columns:
            continue
        values = frame[name] if name in frame else pd.Series(np.full(len(frame), 0.75))
        columns[name] = _arrow_column(values, kind)
    names = list(column_order) if column_order is not None else list(columns)
    table = pa.table({name: columns[name] for name in names})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


TlcMonth = Callable[..., Path]


@pytest.fixture
def tlc_month(tmp_path: Path) -> TlcMonth:
    """Factory writing a small TLC green parquet month and returning its path.

    `tlc_month(rows=200, seed=0, *, path=None, id_type=pa.int64(), ehail_null=True,
    extra_columns=(), drop_columns=(), dirty=True, types=None, column_order=None,
    records=None, zones=ZONES)`

    - `rows` plausible rides (all kept by the default cleaning), plus `len(DIRTY_ROWS)`
      implausible ones when `dirty`; `records` writes a given `tlc_frame` instead.
    - Default paths are `tmp_path/data/green_tripdata_2023-01.parquet`, then `-02`, ..., the
      default `[tool.mlgate.data]` locations under a project rooted at `tmp_path`.
    - Drift: `id_type` for both id columns, `ehail_null=False` stores `ehail_fee` as an
      all-null double, `extra_columns` appends doubles (0.75), `drop_columns` removes columns,
      `types` overrides any column's Arrow type, `column_order` reorders the written columns.
    """
    months = count(1)

    def make(
        rows: int = 200,
        seed: int = 0,
        *,
        path: Path | None = None,
        id_type: pa.DataType = ID_TYPE,
        ehail_null: bool = True,
        extra_columns: Sequence[str] = (),
        drop_columns: Sequence[str] = (),
        dirty: bool = True,
        types: Mapping[str, pa.DataType] | None = None,
        column_order: Sequence[str] | None = None,
        records: pd.DataFrame | None = None,
        zones: Sequence[int] = ZONES,
    ) -> Path:
        if path is None:
            path = tmp_path / "data" / f"green_tripdata_2023-{next(months):02d}.parquet"
        frame = (
            records if records is not None else make_tlc_frame(rows, seed, dirty=dirty, zones=zones)
        )
        drift: dict[str, pa.DataType] = dict.fromkeys(ID_COLUMNS, id_type)
        if not ehail_null:
            drift["ehail_fee"] = pa.float64()
        drift.update(types or {})
        return write_tlc_month(
            frame,
            path,
            types=drift,
            extra_columns=extra_columns,
            drop_columns=drop_columns,
            column_order=column_order,
        )

    return make


@pytest.fixture
def tlc_frame() -> Callable[..., pd.DataFrame]:
    """Factory for raw TLC records as a DataFrame: `tlc_frame(rows=200, seed=0, *, dirty=True,
    zones=ZONES)` (see `make_tlc_frame`); edit it with `set_ride` (the `set_ride` fixture)."""
    return make_tlc_frame


@pytest.fixture(name="set_ride")
def set_ride_fixture() -> Callable[..., None]:
    """`set_ride(frame, row, *, minutes=None, **columns)`: edit one ride of a `tlc_frame`."""
    return set_ride


@pytest.fixture
def trip_records() -> Callable[..., pd.DataFrame]:
    """Factory for clean model inputs plus target: `trip_records(rows=500, seed=0, *,
    zones=ZONES)` -> PULocationID, DOLocationID (int64), trip_distance, duration (minutes)."""
    return make_trip_records


@pytest.fixture
def tlc_schema() -> pa.Schema:
    """The green-taxi schema the `tlc_month` files use by default."""
    return TLC_SCHEMA
