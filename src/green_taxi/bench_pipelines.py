"""This project's pipeline against the course's reference pipeline, in one process: load, fit
and evaluate timed and traced the same way, on synthetic months and on real rows."""

from __future__ import annotations

import copy
import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from green_taxi import make_sample

if TYPE_CHECKING:
    from green_taxi.plugin import GreenTaxi, TaxiOptions


Result = dict[str, float]
ROOT = Path.cwd()  # the repository's root, where it runs: its pyproject.toml and data/


def _pipeline(plugin: GreenTaxi):
    from mlgate.config import ModelConfig
    from mlgate.train import estimator

    return estimator.build(plugin, ModelConfig(params={"alpha": 0.1}))


def ours(train_path: Path, val_path: Path, config: TaxiOptions) -> Result:
    """This project's path: column-pruned read, vectorised cleaning, the CSR pipeline."""
    from green_taxi.plugin import GreenTaxi

    times: Result = {}
    plugin = GreenTaxi(config)
    start = time.perf_counter()
    train = plugin.load(train_path)
    val = plugin.load(val_path)
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    pipeline = _pipeline(plugin).fit(train.features, train.target)
    times["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    predictions = pipeline.predict(val.features)
    times["rmse"] = float(np.sqrt(np.mean((val.target.to_numpy() - predictions) ** 2)))
    times["evaluate"] = time.perf_counter() - start
    times["rows"] = len(val.frame)
    return times


def _course_frame(path: Path, config: TaxiOptions) -> pd.DataFrame:
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


def reference(train_path: Path, val_path: Path, config: TaxiOptions) -> Result:
    """The course's pipeline, made to run on current releases (see the module docstring)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Lasso

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


# --- real rows: every 1-60 minute validation ride, nothing else dropped -----------------------


def _real_rows(path: Path, config: TaxiOptions) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    minutes = (frame.lpep_dropoff_datetime - frame.lpep_pickup_datetime).dt.total_seconds() / 60
    frame["duration"] = minutes
    return frame[(minutes >= config.min_minutes) & (minutes <= config.max_minutes)]


def _course_fit_predict(train: pd.DataFrame, val: pd.DataFrame) -> np.ndarray:
    """The course's pipeline as written: string ids, PU_DO, DictVectorizer, Lasso(0.1)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Lasso

    def records(frame: pd.DataFrame) -> list[dict[str, object]]:
        ids = frame[["PULocationID", "DOLocationID"]].astype(str)
        table = pd.DataFrame(
            {
                "PU_DO": ids.PULocationID + "_" + ids.DOLocationID,
                "trip_distance": frame.trip_distance,
            }
        )
        return table.to_dict(orient="records")

    vectorizer = DictVectorizer()
    x_train = _int32(vectorizer.fit_transform(records(train)))
    model = Lasso(alpha=0.1).fit(x_train, train.duration.to_numpy())
    return model.predict(_int32(vectorizer.transform(records(val))))


def real_data(train_path: Path, val_path: Path) -> None:
    from green_taxi.plugin import GreenTaxi, TaxiOptions

    config = TaxiOptions()
    plugin = GreenTaxi(config)
    train = plugin.load(train_path)
    pipeline = _pipeline(plugin).fit(train.features, train.target)
    course_train = _real_rows(train_path, config)
    val = _real_rows(val_path, config)
    truth = val.duration.to_numpy()
    features = plugin.raw_features(val)
    ours_rmse = _rmse(truth, pipeline.predict(features))
    unbounded_rmse = _rmse(truth, _unbounded(pipeline).predict(features))
    course_rmse = _rmse(truth, _course_fit_predict(course_train, val))
    distance = val.trip_distance
    faults = int(((distance <= 0) | (distance > config.max_distance_miles) | distance.isna()).sum())
    print(
        f"\nreal rows: trained on {train.rows:,} cleaned rides of {train_path.name}; scored "
        f"{len(val):,} rides of 1-60 min in {val_path.name} ({faults:,} with a zero, negative, "
        f"missing or >{config.max_distance_miles:g}-mile distance)"
    )
    print(f"{'pipeline':>10} {'RMSE':>8}")
    print(f"{'ours':>10} {ours_rmse:>8.3f}")
    print(f"{'unbounded':>10} {unbounded_rmse:>8.3f}  (ours without the training-range bounds)")
    print(f"{'course':>10} {course_rmse:>8.3f}")
    print(f"ours - course: {ours_rmse - course_rmse:+.3f} min")


def _unbounded(pipeline):
    """The same fitted model with its range bounds lifted: distances and durations unclipped
    (what the bounds buy on real rows)."""
    from sklearn.pipeline import Pipeline

    features = copy.deepcopy(pipeline.named_steps["features"])
    features.distance_low_, features.distance_high_ = -np.inf, np.inf
    return Pipeline([("features", features), ("estimator", pipeline.named_steps["estimator"])])


def _rmse(truth: np.ndarray, predictions: np.ndarray) -> float:
    return float(np.sqrt(np.mean((truth - np.asarray(predictions, dtype=float)) ** 2)))


def pipeline_benchmark(sizes: list[int], repeats_small: int) -> None:
    from green_taxi.plugin import TaxiOptions

    config = TaxiOptions()
    print(
        f"{'rows':>10} {'pipeline':>10} {'load s':>8} {'fit s':>8} {'eval s':>8} "
        f"{'total s':>8} {'peak MB':>8} {'RMSE':>8}"
    )
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            paths = make_months(Path(tmp), rows)
            runs: dict[str, list[Result]] = {"reference": [], "ours": []}
            repeats = repeats_small if rows <= 200_000 else 1
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
