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

Two more sections, each against a baseline measured by the same command:
- `--predict`: `mlgate predict` (streamed by row group) against reading the whole file
  and predicting at once, with rows per second and the peak resident memory of each process;
- `--real-train PATH --real-val PATH`: on real TLC rows (split outside the repository), this
  model against the course's pipeline, both scored on every validation row whose duration is
  1-60 minutes with nothing else dropped (meter faults and zero distances included).

A second part times whole processes: `mlgate train` (track, log the model, score it as
served, compare, gate, register, report) against the course's tracked training cell (read both
months, DictVectorizer, Lasso(0.1), `log_param`, `log_metric`, `mlflow.sklearn.log_model`),
each into a new sqlite store, alternating, on the same two months (`--train-month`/`--val-month`,
for example a real month split in two; by default the synthetic 70k-row months).

Usage: uv run python -m green_taxi.benchmark [--sizes 70000 2000000] [--repeats 3]
       [--end-to-end 3] [--train-month P --val-month P] [--predict] [--no-pipeline]
       [--real-train PATH --real-val PATH]
Prints tables; ratios against the baseline of the same run are the figures to quote.

`--monitor` measures `mlgate monitor` instead: the real command, each run in its own
process (CPU time and peak resident memory of that process), against a champion trained on a
small month, on reference and current months of each size; the baseline is a process that only
loads the same two files through the plug-in.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import itertools
import json
import os
import statistics
import subprocess
import sys
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
# scikit-learn, the plug-in and the lifecycle's model code are imported where they are used,
# so `--help` and argument errors answer at once; `main` imports them before it measures
# anything, so no timing or peak memory includes an import.
MEASURED_MODULES = (
    "sklearn.feature_extraction",
    "sklearn.linear_model",
    "green_taxi.plugin",
    "mlgate.config",
    "mlgate.train.estimator",
)

Result = dict[str, float]
DEFAULT_SIZES = [70_000, 2_000_000]
MONITOR_SIZES = [200_000, 1_000_000, 2_000_000]
ROOT = Path.cwd()  # the repository's root, where it runs: its pyproject.toml and data/
COURSE_CELL = """
import sys, mlflow, numpy as np, pandas as pd
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Lasso

def read_dataframe(path):
    df = pd.read_parquet(path)
    df["duration"] = (df.lpep_dropoff_datetime - df.lpep_pickup_datetime).dt.total_seconds() / 60
    df = df[(df.duration >= 1) & (df.duration <= 60)].copy()
    df[["PULocationID", "DOLocationID"]] = df[["PULocationID", "DOLocationID"]].astype(str)
    df["PU_DO"] = df.PULocationID + "_" + df.DOLocationID
    return df

train, val = read_dataframe(sys.argv[1]), read_dataframe(sys.argv[2])
columns = ["PU_DO", "trip_distance"]
dv = DictVectorizer()
x_train = dv.fit_transform(train[columns].to_dict(orient="records"))
x_val = dv.transform(val[columns].to_dict(orient="records"))
for m in (x_train, x_val):
    m.indices, m.indptr = m.indices.astype(np.int32), m.indptr.astype(np.int32)
mlflow.set_tracking_uri(sys.argv[3])
mlflow.set_experiment("nyc-taxi-experiment")
with mlflow.start_run():
    alpha = 0.1
    mlflow.log_param("alpha", alpha)
    lr = Lasso(alpha).fit(x_train, train.duration.to_numpy())
    rmse = float(np.sqrt(np.mean((lr.predict(x_val) - val.duration.to_numpy()) ** 2)))
    mlflow.log_metric("rmse", rmse)
    mlflow.sklearn.log_model(lr, name="model")
"""


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


def _timed_process(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return elapsed


def end_to_end(train_path: Path, val_path: Path, repeats: int) -> None:
    """Whole processes, each into a fresh sqlite store, alternating so drift hits all alike.

    `train` runs as configured (with the serving contract: MLflow's scoring app served from a
    subprocess) and once more with `[serving] check = false`, to show what each part costs.
    """
    cli = Path(sys.executable).with_name("mlgate")
    env = {**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING"}
    env.pop("GITHUB_ACTIONS", None)
    names = ("course cell", "train (serving contract on)", "train (serving contract off)")
    samples: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        unchecked = Path(tmp) / "pyproject.toml"
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        unchecked.write_text(
            text.replace(
                "[tool.mlgate.serving]\ncheck = true",
                "[tool.mlgate.serving]\ncheck = false",
            ),
            encoding="utf-8",
        )
        for path in ("data",):
            (Path(tmp) / path).symlink_to(ROOT / path)
        for i in range(repeats):
            work = Path(tmp) / f"run-{i}"
            work.mkdir()
            store = f"sqlite:///{work / 'mlflow.db'}"
            cell = [sys.executable, "-c", COURSE_CELL, str(train_path), str(val_path), store]
            samples[names[0]].append(_timed_process(cell, env, work))
            for name, config in ((names[1], ROOT / "pyproject.toml"), (names[2], unchecked)):
                train = [str(cli), "--quiet", "--config", str(config), "train"]
                train += ["--train-data", str(train_path), "--val-data", str(val_path)]
                train += ["--report", str(work / f"report-{len(samples[name])}.json")]
                db = work / f"ours-{name.split()[-1].strip(')')}.db"
                run_env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{db}"}
                samples[name].append(_timed_process(train, run_env, work))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"\nwhole process, median of {repeats} ({train_path.name} -> {val_path.name}):")
    for name, value in medians.items():
        print(f"{name:>30}: {value:6.2f} s")
    for name in names[1:]:
        print(f"{name} / course cell: {medians[name] / medians[names[0]]:.2f}")


# --- batch scoring: `mlgate predict` against scoring the whole file at once ----------

_PEAK_RSS = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr[-2000:])
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""

_WHOLE_FILE = """
import sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
frame = pd.read_parquet(sys.argv[2])
features = frame[["PULocationID", "DOLocationID", "trip_distance"]]
out = pd.DataFrame({"row": range(len(frame)), "prediction": model.predict(features)})
out.to_parquet(sys.argv[3])
"""


def _peak(command: list[str], env: dict[str, str]) -> Result:
    """Wall time and peak resident memory of `command`, run as the only child of a fresh
    process (so the figure is that command's own peak)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=3600,
    )
    if done.returncode:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{done.stderr}")
    return json.loads(done.stdout)


def _registered_model(folder: Path, env: dict[str, str]) -> tuple[str, Path]:
    """Train and register the project's model on the committed sample in a throwaway store."""
    from mlgate.config import load_settings
    from mlgate.serving.check import download
    from mlgate.train.job import train

    os.environ.update(env)
    settings = load_settings(ROOT / "pyproject.toml", overrides={"serving": {"check": False}})
    report = train(settings, env=env)
    return report.candidate.version, download(report.candidate.model_uri)


def predict_benchmark(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
            "MLFLOW_LOGGING_LEVEL": "WARNING",
        }
        env.pop("GITHUB_ACTIONS", None)
        version, model_dir = _registered_model(folder, env)
        cli = [sys.executable, "-m", "mlgate.cli", "--config", str(ROOT / "pyproject.toml")]
        print(f"\nbatch scoring (model v{version}); peak = resident memory of the process")
        print(f"{'rows':>10} {'how':>22} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
        for rows in sizes:
            data = make_sample.write_month(folder / f"score-{rows}.parquet", "2023-03", rows, 13)
            streamed = _peak(
                [
                    *cli,
                    "predict",
                    "--model",
                    version,
                    "--data",
                    str(data),
                    "--out",
                    str(folder / "streamed.parquet"),
                ],
                env,
            )
            whole = _peak(
                [
                    sys.executable,
                    "-c",
                    _WHOLE_FILE,
                    str(model_dir),
                    str(data),
                    str(folder / "whole.parquet"),
                ],
                env,
            )
            for how, result in (("predict (streamed)", streamed), ("whole file at once", whole)):
                print(
                    f"{rows:>10,} {how:>22} {result['seconds']:>8.2f} "
                    f"{rows / result['seconds']:>10,.0f} {result['peak_mb']:>8.0f}"
                )
            memory = whole["peak_mb"] / streamed["peak_mb"]
            speed = whole["seconds"] / streamed["seconds"]
            print(
                f"{rows:>10,} rows: streamed peak memory {memory:.1f}x smaller, "
                f"{speed:.2f}x the speed"
            )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=DEFAULT_SIZES)
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median kept)")
    parser.add_argument("--end-to-end", type=int, default=3, metavar="N", help="process runs")
    parser.add_argument("--train-month", type=Path, help="end-to-end training month")
    parser.add_argument("--val-month", type=Path, help="end-to-end validation month")
    parser.add_argument("--monitor", action="store_true", help="benchmark `monitor` instead")
    parser.add_argument("--predict", action="store_true", help="also benchmark batch scoring")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the pipeline section")
    parser.add_argument("--real-train", type=Path, help="a real TLC file to train on")
    parser.add_argument("--real-val", type=Path, help="a real TLC file to score")
    args = parser.parse_args(argv)
    for module in MEASURED_MODULES:
        importlib.import_module(module)
    if args.monitor:
        sizes = args.sizes if args.sizes != DEFAULT_SIZES else MONITOR_SIZES
        return monitor_benchmark(sizes)
    if (args.real_train is None) != (args.real_val is None):
        parser.error("--real-train and --real-val go together")
    if not args.no_pipeline and args.sizes:
        pipeline_benchmark(args.sizes, args.repeats)
    if args.predict:
        predict_benchmark(args.sizes)
    if args.real_train is not None:
        real_data(args.real_train, args.real_val)
    if args.end_to_end:
        with tempfile.TemporaryDirectory() as tmp:
            if args.train_month and args.val_month:
                months = args.train_month.resolve(), args.val_month.resolve()
            else:
                months = make_months(Path(tmp), 70_000)
            end_to_end(*months, args.end_to_end)
    return 0


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


MONITOR_CONFIG = """[tracking]
experiment = "benchmark"
registered_model = "benchmark"
[model]
plugin = "green_taxi.plugin:GreenTaxi"
[report]
latency_batch = 100
latency_repeats = 2
"""
LOAD_ONLY = """
import sys
from pathlib import Path
from mlgate.config import load_settings
plugin = load_settings(Path(sys.argv[1])).plugin()
for path in sys.argv[2:]:
    plugin.load(Path(path))
"""


def _child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one process; its CPU time (user + system) in seconds and its peak resident memory
    in MB. CPU time, not wall time, so other work on a shared machine does not skew it."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = usage.ru_utime + usage.ru_stime
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 5):
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv[:3])} failed ({process.returncode}): {error[-500:]}")
    if process.stderr:
        process.stderr.close()
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def monitor_benchmark(sizes: list[int]) -> int:
    """`monitor` per size, in its own process; linear in rows, and under 1 GB at 2M rows."""
    exe = Path(sys.executable).parent / "mlgate"
    with tempfile.TemporaryDirectory(prefix="benchmark-monitor-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
        train, val = make_months(folder, 20_000)
        config = folder / "mlgate.toml"
        data = f'[data]\ntrain = "{train}"\nvalidation = "{val}"\n'
        config.write_text(MONITOR_CONFIG + data, encoding="utf-8")
        trained = [str(exe), "--config", str(config)]
        _child([*trained, "train"], env)
        _child([*trained, "promote", "--version", "1"], env)
        print(f"{'rows':>10} {'load cpu s':>10} {'load MB':>8} {'monitor cpu s':>13} "
              f"{'monitor MB':>10} {'s/M rows':>8}")  # fmt: skip
        results = []
        for rows in sizes:
            ref = make_sample.write_month(folder / f"ref-{rows}.parquet", "2023-01", rows, seed=21)
            cur = make_sample.write_month(folder / f"cur-{rows}.parquet", "2023-02", rows, seed=22)
            load = _child([sys.executable, "-c", LOAD_ONLY, str(config), str(ref), str(cur)], env)
            run = _child(
                [*trained, "monitor", "--current", str(cur), "--reference", str(ref),
                 "--out", str(folder / f"out-{rows}")],
                env,
            )  # fmt: skip
            results.append((rows, load, run))
            print(
                f"{rows:>10,} {load[0]:>10.2f} {load[1]:>8.0f} {run[0]:>13.2f} {run[1]:>10.0f} "
                f"{run[0] / rows * 1e6:>8.2f}"
            )
    print("\nmonitor / load-only baseline (same rows, separate processes):")
    for rows, load, run in results:
        print(
            f"{rows:>10,} rows: time {run[0] / load[0]:.1f}x, peak memory {run[1] / load[1]:.1f}x"
        )
    print("\nmarginal cost between sizes (constant when linear in rows):")
    for (small, _, first), (large, _, last) in itertools.pairwise(results):
        extra = (large - small) / 1e6
        print(
            f"{small:>10,} → {large:>9,} rows: {(last[0] - first[0]) / extra:6.2f} s and "
            f"{(last[1] - first[1]) / extra:5.0f} MB per extra million rows"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
