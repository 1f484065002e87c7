"""Benchmark: this project's pipeline against the course's reference pipeline, same process.

Both pipelines train on one synthetic month and score the next, at two sizes (a full month,
~70k rows, and 2M rows). Each step is timed the same way: load (read + clean) → featurize +
fit → evaluate (featurize + predict + RMSE). The reference is the classic course code
(pandas read of every column, `to_dict` records, DictVectorizer, Lasso(alpha=0.1)), with the
two changes it needs to run and to be fair: its sparse matrix is cast to 32-bit indices
(current scipy/scikit-learn refuse int64 indices in Lasso), and it drops the same implausible
distances as this project, so both score exactly the same validation rows and their RMSEs
are comparable. Peak memory is traced per pipeline (Python and NumPy allocations via
tracemalloc, plus Arrow's memory pool).

Usage: uv run python scripts/benchmark.py [--sizes 70000 2000000] [--repeats 3]
       uv run python scripts/benchmark.py --tuning [--trials 30]   (see benchmark_tuning.py)
Prints a table; ratios (reference / ours) are the figures to quote.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Lasso

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_sample
from trip_duration.config import DataConfig, ModelConfig
from green_taxi.data import load_trips
from green_taxi.plugin import build_pipeline

Result = dict[str, float]


def ours(train_path: Path, val_path: Path, config: DataConfig) -> Result:
    """This project's path: column-pruned read, vectorised cleaning, the CSR pipeline."""
    times: Result = {}
    start = time.perf_counter()
    train = load_trips(train_path, config)
    val = load_trips(val_path, config)
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    pipeline = build_pipeline(ModelConfig()).fit(train.features, train.target)
    times["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    predictions = pipeline.predict(val.features)
    times["rmse"] = float(np.sqrt(np.mean((val.target.to_numpy() - predictions) ** 2)))
    times["evaluate"] = time.perf_counter() - start
    times["rows"] = len(val.frame)
    return times


def _course_frame(path: Path, config: DataConfig) -> pd.DataFrame:
    df = pd.read_parquet(path)
    df["duration"] = (df.lpep_dropoff_datetime - df.lpep_pickup_datetime).dt.total_seconds() / 60
    df = df[(df.duration >= config.min_minutes) & (df.duration <= config.max_minutes)]
    df = df[(df.trip_distance > 0) & (df.trip_distance <= config.max_distance_miles)]
    df = df.dropna(subset=["PULocationID", "DOLocationID"])
    df[["PULocationID", "DOLocationID"]] = df[["PULocationID", "DOLocationID"]].astype(str)
    df["PU_DO"] = df.PULocationID + "_" + df.DOLocationID
    return df


def _int32(matrix):
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix


def reference(train_path: Path, val_path: Path, config: DataConfig) -> Result:
    """The course's pipeline, made to run on current releases (see the module docstring)."""
    times: Result = {}
    start = time.perf_counter()
    train = _course_frame(train_path, config)
    val = _course_frame(val_path, config)
    times["load"] = time.perf_counter() - start
    columns = ["PU_DO", "trip_distance"]
    start = time.perf_counter()
    vectorizer = DictVectorizer()
    x_train = _int32(vectorizer.fit_transform(train[columns].to_dict(orient="records")))
    model = Lasso(alpha=0.1).fit(x_train, train.duration.to_numpy())
    times["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    x_val = _int32(vectorizer.transform(val[columns].to_dict(orient="records")))
    predictions = model.predict(x_val)
    times["rmse"] = float(np.sqrt(np.mean((val.duration.to_numpy() - predictions) ** 2)))
    times["evaluate"] = time.perf_counter() - start
    times["rows"] = len(val)
    return times


def measure(run: Callable[..., Result], *args: object) -> Result:
    """One run with its total time and peak traced memory."""
    gc.collect()
    pool = pa.default_memory_pool()
    arrow_before = pool.max_memory() or 0
    tracemalloc.start()
    start = time.perf_counter()
    result = run(*args)
    result["total"] = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result["peak_mb"] = (peak + max((pool.max_memory() or 0) - arrow_before, 0)) / 2**20
    return result


def make_months(folder: Path, rows: int) -> tuple[Path, Path]:
    train = make_sample.write_month(folder / f"train-{rows}.parquet", "2023-01", rows, seed=11)
    val = make_sample.write_month(folder / f"val-{rows}.parquet", "2023-02", rows, seed=12)
    return train, val


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[70_000, 2_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median kept)")
    parser.add_argument(
        "--tuning",
        action="store_true",
        help="instead, the tuning benchmark (scripts/benchmark_tuning.py): 30 trials of PR time, "
        "and tracking overhead against Optuna alone",
    )
    args, rest = parser.parse_known_args(argv)
    if args.tuning:
        import benchmark_tuning

        return benchmark_tuning.main(rest)
    config = DataConfig()
    print(
        f"{'rows':>10} {'pipeline':>10} {'load s':>8} {'fit s':>8} {'eval s':>8} "
        f"{'total s':>8} {'peak MB':>8} {'RMSE':>8}"
    )
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.sizes:
            paths = make_months(Path(tmp), rows)
            runs: dict[str, list[Result]] = {"reference": [], "ours": []}
            repeats = args.repeats if rows <= 200_000 else 1
            for _ in range(repeats):
                runs["reference"].append(measure(reference, *paths, config))
                runs["ours"].append(measure(ours, *paths, config))
            medians = {
                name: {key: statistics.median(r[key] for r in results) for key in results[0]}
                for name, results in runs.items()
            }
            for name, m in medians.items():
                print(
                    f"{rows:>10,} {name:>10} {m['load']:>8.3f} {m['fit']:>8.3f} "
                    f"{m['evaluate']:>8.3f} {m['total']:>8.3f} {m['peak_mb']:>8.0f} "
                    f"{m['rmse']:>8.4f}"
                )
            ref, our = medians["reference"], medians["ours"]
            summary.append((rows, ref, our))
    print("\nreference / ours (higher is better for ours):")
    for rows, ref, our in summary:
        print(
            f"{rows:>10,} rows: time {ref['total'] / our['total']:.1f}x faster, "
            f"peak memory {ref['peak_mb'] / our['peak_mb']:.1f}x smaller, "
            f"RMSE {our['rmse']:.4f} vs {ref['rmse']:.4f} "
            f"(difference {our['rmse'] - ref['rmse']:+.2e})"
        )
    if len(summary) > 1:
        (small, _, first), (large, _, last) = summary[0], summary[-1]
        growth = (last["total"] / first["total"]) / (large / small)
        print(
            f"ours, {small:,} → {large:,} rows: time grows {last['total'] / first['total']:.1f}x "
            f"for {large / small:.1f}x the rows ({growth:.2f} of linear)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
