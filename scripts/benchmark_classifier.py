"""Classifier benchmark: what the lifecycle costs around a LightGBM classifier.

Why: a team weighing the template against a bare training script wants the overhead as a
ratio, on a problem the size of theirs. A synthetic binary problem (numeric features, a
logistic signal, seeded) is written as parquet: a training file of ROWS rows, a validation
file of a fifth of that. Each side runs as a whole process of its own, alternating, and the
figures are medians:

- `train`: `mlgate train` (fit, log, evaluate, compare, gate, register, report) against a
  process that reads the same files with pyarrow, fits LightGBM's `LGBMClassifier` with the
  same parameters and calls `predict_proba` on the validation rows;
- `predict`: `mlgate predict` on the training file with the registered model against a process
  that loads the same model with `mlflow.sklearn.load_model`, reads the file and calls
  `predict_proba`.

Peak memory is each process's maximum resident set (`wait4`). The plug-in and the project live
in a temporary folder, with a sqlite MLflow store there.

Usage:
    uv run python scripts/benchmark_classifier.py                    # 1,000,000 rows, 3 runs
    uv run python scripts/benchmark_classifier.py --rows 50000 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

FEATURES = 10
PARAMS = {"n_estimators": 100, "num_leaves": 31}
TIMEOUT_S = 3600

PLUGIN = '''
"""The benchmark's synthetic binary problem: numeric features f0.., a 0/1 label."""

from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq

from mlgate.contract import Dataset, ModelPlugin, Target

FEATURES = tuple(f"f{{i}}" for i in range({features}))


class Synthetic(ModelPlugin):
    name: ClassVar[str] = "synthetic"
    title: ClassVar[str] = "Synthetic classifier report"
    task: ClassVar[str] = "binary"
    target: ClassVar[Target] = Target(name="label", unit="", label="Label")

    def load(self, path: Path) -> Dataset:
        frame = pq.read_table(path).to_pandas()
        return Dataset(path, frame.loc[:, list(FEATURES)], frame["label"], len(frame))

    def feature_steps(self) -> list:
        return []  # numeric columns as they are: trees need no scaling
'''

CONFIG = """
[tool.mlgate.data]
train = "train.parquet"
validation = "validation.parquet"

[tool.mlgate.model]
plugin = "bench_plugin:Synthetic"
estimator = "lightgbm.LGBMClassifier"
params = {params}

[tool.mlgate.gate]
metric = "roc_auc"

[tool.mlgate.report]
latency_batch = 1000
latency_repeats = 5
"""

BARE_TRAIN = """
import sys
import pyarrow.parquet as pq
from lightgbm import LGBMClassifier
train = pq.read_table(sys.argv[1]).to_pandas()
validation = pq.read_table(sys.argv[2]).to_pandas()
features = [c for c in train.columns if c != "label"]
model = LGBMClassifier(**{params}).fit(train[features], train["label"])
model.predict_proba(validation[features])
"""

BARE_PREDICT = """
import sys
import mlflow
import pyarrow.parquet as pq
model = mlflow.sklearn.load_model(sys.argv[1])
frame = pq.read_table(sys.argv[2]).to_pandas()
model.predict_proba(frame[[c for c in frame.columns if c != "label"]])
"""


def write_data(folder: Path, rows: int, seed: int = 7) -> None:
    """Training and validation files of a seeded logistic problem."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=FEATURES)
    for name, count in (("train", rows), ("validation", max(rows // 5, 1000))):
        x = rng.normal(size=(count, FEATURES))
        p = 1 / (1 + np.exp(-(x @ weights + 0.5 * np.sin(3 * x[:, 0]))))
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(FEATURES)])
        frame["label"] = (rng.random(count) < p).astype(np.int64)
        frame.to_parquet(folder / f"{name}.parquet", index=False)


LAUNCHER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print("peak-kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(done.returncode)
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one whole process; a failure stops the benchmark.

    The process runs under a launcher of its own, whose RUSAGE_CHILDREN is that process's
    (and its children's) maximum resident set alone.
    """
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"error: {' '.join(args[:5])} did not finish in {TIMEOUT_S} s") from None
    seconds = time.perf_counter() - start
    lines = done.stderr.strip().splitlines() or ["no output"]
    if done.returncode != 0:
        last = next((line for line in reversed(lines) if not line.startswith("peak-kib")), "")
        raise SystemExit(f"error: {' '.join(args[:5])} exited {done.returncode}: {last[:300]}")
    peak = next(line for line in reversed(lines) if line.startswith("peak-kib"))
    return seconds, int(peak.split()[1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="training rows")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side")
    args = parser.parse_args(argv)
    if not (1000 <= args.rows <= 20_000_000 and 1 <= args.repeats <= 20):
        print("error: --rows 1,000..20,000,000 and --repeats 1..20", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-") as tmp:
        folder = Path(tmp)
        write_data(folder, args.rows)
        (folder / "bench_plugin.py").write_text(textwrap.dedent(PLUGIN.format(features=FEATURES)))
        params = "{ " + ", ".join(f"{k} = {v}" for k, v in PARAMS.items()) + " }"
        config = folder / "pyproject.toml"
        config.write_text(CONFIG.format(params=params))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))},
            "PYTHONPATH": str(folder),
            "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        }
        python = sys.executable
        cli = [python, "-m", "mlgate.cli", "--quiet", "--config", str(config)]
        bare_train = [python, "-c", BARE_TRAIN.format(params=PARAMS), "train.parquet"]
        bare_train.append("validation.parquet")
        sides = {"train": ([*cli, "train"], bare_train)}
        results: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for step, (mine, bare) in sides.items():
            results[step] = {"mlgate": [], "bare": []}
            for _ in range(args.repeats):
                results[step]["mlgate"].append(run(mine, folder, env))
                results[step]["bare"].append(run(bare, folder, env))
        model = "models:/synthetic/1"
        predict = [*cli, "predict", "--model", "1", "--data", "train.parquet"]
        predict += ["--out", "scored.parquet"]
        bare_predict = [python, "-c", BARE_PREDICT, model, "train.parquet"]
        results["predict"] = {"mlgate": [], "bare": []}
        for _ in range(args.repeats):
            results["predict"]["mlgate"].append(run(predict, folder, env))
            results["predict"]["bare"].append(run(bare_predict, folder, env))
    print(f"| Step ({args.rows:,} rows, median of {args.repeats}) | mlgate | bare LightGBM "
          "| Time ratio | Peak memory (mlgate / bare) |")  # fmt: skip
    print("|---|--:|--:|--:|--:|")
    for step, sides_found in results.items():
        mine_s = statistics.median(s for s, _ in sides_found["mlgate"])
        bare_s = statistics.median(s for s, _ in sides_found["bare"])
        mine_m = statistics.median(m for _, m in sides_found["mlgate"])
        bare_m = statistics.median(m for _, m in sides_found["bare"])
        rate = (
            ""
            if step == "train"
            else f" ({args.rows / mine_s:,.0f} vs {args.rows / bare_s:,.0f} rows/s)"
        )
        print(
            f"| {step}{rate} | {mine_s:.1f} s | {bare_s:.1f} s | {mine_s / bare_s:.2f}x "
            f"| {mine_m:,.0f} / {bare_m:,.0f} MiB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
