"""Reading and cleaning TLC green-taxi months (part of the example model).

Only the columns the model needs are read, so a month whose other columns drifted (an Arrow
`null` column, an extra fee column) loads unchanged; the id columns are normalised to int64
because their type changes between months. Numeric columns stored as text (files saved after
the classic `read_dataframe`, which casts the zone ids to strings) are parsed as numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlgate.errors import UserError

if TYPE_CHECKING:
    from green_taxi.plugin import TaxiOptions

PICKUP = "lpep_pickup_datetime"
DROPOFF = "lpep_dropoff_datetime"
FEATURES = ("PULocationID", "DOLocationID", "trip_distance")
TARGET = "duration"
REQUIRED = (PICKUP, DROPOFF, *FEATURES)


class DataError(UserError):
    """A data file the model cannot use; the message names the file and the problem."""


def read_month(path: Path) -> pa.Table:
    """Read the required columns of one month, failing with the file's name on any problem."""
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable parquet file ({_first_line(exc)})") from None
    missing = [name for name in REQUIRED if name not in schema.names]
    if missing:
        raise DataError(f"{path}: missing required column(s) {', '.join(missing)}")
    repeated = [name for name in REQUIRED if schema.names.count(name) > 1]
    if repeated:
        raise DataError(f"{path}: column {repeated[0]} appears more than once")
    for name in (PICKUP, DROPOFF):
        if not pa.types.is_timestamp(schema.field(name).type):
            raise DataError(
                f"{path}: column {name} has type {schema.field(name).type}, expected a timestamp"
            )
    for name in FEATURES:
        kind = schema.field(name).type
        if not (_is_number(kind) or _is_text(kind)):
            raise DataError(f"{path}: column {name} has type {kind}, expected a number")
    try:
        table = pq.read_table(path, columns=list(REQUIRED))
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot read columns ({_first_line(exc)})") from None
    for name in FEATURES:
        if _is_text(table.schema.field(name).type):
            index = table.schema.get_field_index(name)
            table = table.set_column(index, name, _parse_numbers(table.column(name), path, name))
    return table


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _parse_numbers(column: pa.ChunkedArray, path: Path, name: str) -> pa.Array:
    """Text such as "74" or " 1.5 " as float64 (blank is missing); anything else is an error
    that quotes the first offending value."""
    text = pd.Series(column.cast(pa.large_string()).to_pandas(), dtype=object)
    stripped = text.str.strip()
    blank = stripped.isna() | (stripped == "")
    numbers = pd.to_numeric(stripped.where(~blank), errors="coerce")
    bad = numbers.isna() & ~blank
    if bad.any():
        example = _first_line_of(str(stripped[bad].iloc[0]))
        raise DataError(
            f"{path}: column {name} holds text that is not a number (e.g. {example!r} in "
            f"{int(bad.sum())} row(s))"
        )
    return pa.array(numbers.to_numpy(dtype=np.float64), type=pa.float64(), from_pandas=True)


def clean(table: pa.Table, config: TaxiOptions, *, source: Path) -> pd.DataFrame:
    """Keep plausible rides and derive `duration`; ids become int64 whatever the month used."""
    for name in REQUIRED:
        if table.column(name).null_count == table.num_rows and table.num_rows:
            raise DataError(f"{source}: column {name} is entirely null")
    elapsed = pc.subtract(_to_us(table.column(DROPOFF)), _to_us(table.column(PICKUP)))
    duration = _nullable(elapsed) / 60e6
    distance = _to_float(table, "trip_distance", source)
    pu = _to_float(table, "PULocationID", source)
    do = _to_float(table, "DOLocationID", source)
    with np.errstate(invalid="ignore"):
        keep = (
            (duration >= config.min_minutes)
            & (duration <= config.max_minutes)
            & (distance > 0)
            & (distance <= config.max_distance_miles)
            & np.isfinite(pu)
            & np.isfinite(do)
        )
    if not keep.any():
        raise DataError(
            f"{source}: no rows left after cleaning ({table.num_rows} read; kept rides of "
            f"{config.min_minutes:g}-{config.max_minutes:g} minutes and 0-"
            f"{config.max_distance_miles:g} miles)"
        )
    return pd.DataFrame(
        {
            "PULocationID": pu[keep].astype(np.int64),
            "DOLocationID": do[keep].astype(np.int64),
            "trip_distance": distance[keep],
            TARGET: duration[keep],
        }
    )


def load_trips(path: Path, config: TaxiOptions) -> pd.DataFrame:
    """The cleaned month; `attrs["rows_raw"]` keeps how many rows the file had."""
    table = read_month(path)
    frame = clean(table, config, source=path)
    frame.attrs["rows_raw"] = table.num_rows
    return frame


def _to_us(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as int64 microseconds, whatever the unit or time zone the month used.

    Microseconds cover any year a clock can get wrong; nanoseconds overflow outside 1677-2262.
    """
    target = pa.timestamp("us", tz=column.type.tz)
    return column.cast(target, safe=False).cast(pa.int64())


def _to_float(table: pa.Table, name: str, source: Path) -> np.ndarray:
    """A numeric column as float64; an integer a float cannot hold exactly (an id of 2**62)
    is an error naming the column, not a silently rounded value."""
    column = table.column(name)
    if pa.types.is_null(column.type):
        return np.full(len(column), np.nan)
    try:
        return _nullable(column.cast(pa.float64()))
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{source}: column {name} holds a value a number cannot represent exactly "
            f"({_first_line(exc)})"
        ) from None


def _nullable(column: pa.ChunkedArray) -> np.ndarray:
    floats = column.cast(pa.float64(), safe=False)
    return floats.fill_null(np.nan).to_numpy(zero_copy_only=False)


def _first_line_of(text: str, limit: int = 40) -> str:
    line = text.splitlines()[0] if text.splitlines() else text
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
