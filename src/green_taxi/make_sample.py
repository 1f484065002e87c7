"""Write synthetic NYC TLC green-taxi months as parquet in the exact TLC green schema.

Why: tests, CI and benchmarks need realistic trip records without network access, and the
repository must not ship real TLC rows. Every file this module writes is synthetic. It is part
of the example package, so it goes when the example is removed.

The constants in `sample_shape` were calibrated by hand on summary statistics of one real month
(green_tripdata_2023-01, 68,211 rows): Arrow types and timestamp unit, zone popularity,
trip-distance quantiles, duration by distance, NaN rates and the share of each kind of
dirty row. No real row is read, copied or shipped by this module.

Trip durations depend on distance and on the pickup/dropoff zone pair (a seeded table of 265
zones with borough clusters, bridge offsets, per-zone access time and congestion), plus noise.
Per-pair effects are deliberately about twice as strong as in the real month (spread of per-pair
mean log-duration residuals 0.33 vs 0.18), so a model on one-hot PU_DO + trip_distance visibly
beats distance alone. The zone table has a fixed seed and trips a per-month seed, so a model
trained on one month generalises to the next.

Usage:
    python -m green_taxi.make_sample   # rewrite the two committed files in ./data/
    python -m green_taxi.make_sample --month 2023-03 --rows 2000000 --out /tmp/big.parquet
    python -m green_taxi.make_sample --month 2023-03 --rows 1000 --out x.parquet --drift
    python -m green_taxi.make_sample --month 2023-03 --out x.parquet --distance-scale 1.3
    python -m green_taxi.make_sample --month 2023-03 --out x.parquet --zone-mix 0.5

`--drift` changes the schema (another month's column types); `--distance-scale` and
`--zone-mix` change the data itself, for calibrating the drift monitor: every trip is longer,
or a share of trips is redrawn from another city's zone popularity (the same streets, so
durations still follow distance and zone pair). They draw from a random stream of their own, so
without them the output is byte-for-byte what it always was.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from green_taxi.sample_shape import COLUMNS
from green_taxi.sample_trips import (
    NO_SHIFT,
    Shift,
    generate_columns,
    month_bounds,
)

DATA_DIR = Path("data")  # relative to where it runs: the repository's root

# Rows per committed month: small enough that both files together stay under 1 MB.
DEFAULT_FILES: dict[str, int] = {"2023-01": 20_000, "2023-02": 20_000}
DEFAULT_SEED = 42
ID_COLUMNS = ("VendorID", "PULocationID", "DOLocationID")
ID_TYPES = {"int64": pa.int64(), "int32": pa.int32()}
EHAIL_TYPES = {"null": pa.null(), "double": pa.float64()}
TIMESTAMP_UNITS = ("us", "ns", "ms")


def arrow_schema(
    id_type: str = "int64", ehail_type: str = "null", timestamp_unit: str = "us"
) -> pa.Schema:
    """The TLC green schema; defaults are the types of the calibration month."""
    fields = []
    for name in COLUMNS:
        if name in ID_COLUMNS:
            fields.append(pa.field(name, ID_TYPES[id_type]))
        elif name.startswith("lpep_"):
            fields.append(pa.field(name, pa.timestamp(timestamp_unit)))
        elif name == "store_and_fwd_flag":
            fields.append(pa.field(name, pa.string()))
        elif name == "ehail_fee":
            fields.append(pa.field(name, EHAIL_TYPES[ehail_type]))
        else:
            fields.append(pa.field(name, pa.float64()))
    return pa.schema(fields)


def generate_table(
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    shift: Shift = NO_SHIFT,
) -> pa.Table:
    """One synthetic month as an Arrow table with the requested (possibly drifted) types."""
    schema = arrow_schema(id_type, ehail_type, timestamp_unit)
    columns = generate_columns(month, rows, seed, shift)
    arrays = []
    for field in schema:
        if field.name == "ehail_fee":
            arrays.append(pa.nulls(rows, field.type))
            continue
        values = columns[field.name]
        if field.name == "store_and_fwd_flag":
            flags = pa.DictionaryArray.from_arrays(
                pa.array(values, mask=values < 0, type=pa.int8()), pa.array(["N", "Y"])
            )
            arrays.append(flags.cast(pa.string()))
        elif field.name.startswith("lpep_"):
            arrays.append(pa.array(values, pa.timestamp("us")).cast(field.type))
        elif pa.types.is_floating(field.type):
            arrays.append(pa.array(values, field.type, from_pandas=True))
        else:
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def generate_month(
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    shift: Shift = NO_SHIFT,
) -> pd.DataFrame:
    """One synthetic month as a DataFrame, as pandas.read_parquet would return it."""
    types = {"id_type": id_type, "ehail_type": ehail_type, "timestamp_unit": timestamp_unit}
    return generate_table(month, rows, seed, **types, shift=shift).to_pandas()


def write_table(table: pa.Table, out: Path | str, compression_level: int = 3) -> Path:
    """Write parquet with fixed settings, so identical tables give byte-identical files.

    Timestamps use delta encoding (sorted pickups shrink to a few bytes each); everything else
    is dictionary-encoded; zstd on top. Level 3 is quick for big benchmark months.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    timestamps = [c for c in table.column_names if c.startswith("lpep_")]
    pq.write_table(
        table,
        out,
        compression="zstd",
        compression_level=compression_level,
        write_statistics=True,
        use_dictionary=[c for c in table.column_names if c not in timestamps],
        column_encoding=dict.fromkeys(timestamps, "DELTA_BINARY_PACKED"),
    )
    return out


def write_month(
    out: Path | str,
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    compression_level: int = 3,
    shift: Shift = NO_SHIFT,
) -> Path:
    """Generate one month and write it to ``out`` as parquet."""
    types = {"id_type": id_type, "ehail_type": ehail_type, "timestamp_unit": timestamp_unit}
    table = generate_table(month, rows, seed, **types, shift=shift)
    return write_table(table, out, compression_level)


def default_path(month: str, directory: Path = DATA_DIR) -> Path:
    """TLC file name for a month, e.g. data/green_tripdata_2023-01.parquet."""
    return directory / f"green_tripdata_{month}.parquet"


def write_defaults(directory: Path = DATA_DIR) -> list[Path]:
    """Rewrite the committed training and validation months (max zstd: they live in git)."""
    return [
        write_month(default_path(month, directory), month, rows, compression_level=19)
        for month, rows in DEFAULT_FILES.items()
    ]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write synthetic TLC green-taxi months. Without --month: rewrite the "
        f"committed files in {DATA_DIR}/."
    )
    parser.add_argument("--month", help="month to generate, YYYY-MM")
    parser.add_argument("--out", type=Path, help="output parquet path (with --month)")
    parser.add_argument("--rows", type=int, help="number of trips (default 20000)")
    parser.add_argument("--seed", type=int, help=f"trip seed (default {DEFAULT_SEED})")
    parser.add_argument("--id-type", choices=sorted(ID_TYPES), help="default int64")
    parser.add_argument("--ehail-type", choices=sorted(EHAIL_TYPES), help="default null")
    parser.add_argument("--timestamp-unit", choices=TIMESTAMP_UNITS, help="default us")
    parser.add_argument(
        "--drift",
        action="store_true",
        help="mimic another month's schema: int32 ids and an all-null double ehail_fee",
    )
    parser.add_argument(
        "--distance-scale",
        type=float,
        help="data drift: multiply every trip's distance by this (default 1, no change)",
    )
    parser.add_argument(
        "--zone-mix",
        type=float,
        help="data drift: share of trips (0-1) drawn from another zone popularity (default 0)",
    )
    parser.add_argument("--compression-level", type=int, help="zstd level (default 3)")
    args = parser.parse_args(argv)
    options = (
        "rows",
        "seed",
        "id_type",
        "ehail_type",
        "timestamp_unit",
        "compression_level",
        "distance_scale",
        "zone_mix",
    )
    if args.month is None:
        if args.out is not None or args.drift or any(getattr(args, o) is not None for o in options):
            parser.error("--out, --rows, --seed and type options need --month")
        return args
    if args.out is None:
        parser.error("--month needs --out")
    try:
        month_bounds(args.month)
    except ValueError as exc:
        parser.error(str(exc))
    if args.drift:
        args.id_type = args.id_type or "int32"
        args.ehail_type = args.ehail_type or "double"
    if args.rows is not None and args.rows < 0:
        parser.error("--rows must be >= 0")
    try:
        args.shift = Shift(
            1.0 if args.distance_scale is None else args.distance_scale,
            0.0 if args.zone_mix is None else args.zone_mix,
        )
    except ValueError as exc:
        parser.error(f"--{str(exc).replace('_', '-')}")
    return args


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    args = _parse_args(argv)
    if args.month is None:
        paths = write_defaults()
    else:
        path = write_month(
            args.out,
            args.month,
            20_000 if args.rows is None else args.rows,
            DEFAULT_SEED if args.seed is None else args.seed,
            id_type=args.id_type or "int64",
            ehail_type=args.ehail_type or "null",
            timestamp_unit=args.timestamp_unit or "us",
            compression_level=3 if args.compression_level is None else args.compression_level,
            shift=args.shift,
        )
        paths = [path]
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
