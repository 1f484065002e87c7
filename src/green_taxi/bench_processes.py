"""Whole processes timed: `mlgate train` against the course's tracked cell, `mlgate predict`
against one whole-file read, and `mlgate monitor` against loading its two files."""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from green_taxi import make_sample
from green_taxi.bench_pipelines import ROOT, Result, make_months

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
