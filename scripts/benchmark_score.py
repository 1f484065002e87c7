"""Scoring-child benchmark: promotion's isolated scoring process against a bare MLflow one.

Why: every promotion scores the candidate and the champion in a child process that holds no
credential (`python -m mlgate.registry.score`), and that child's start-up is most of what the
promote job spends of its own. The project's model is trained on its configured data into a
throwaway sqlite store and downloaded; the features are the plug-in's cleaned validation
rows, as promotion passes them. Then, alternating, --repeats times each, as whole processes:

- the child as promotion runs it, scoring two models (the same one twice: candidate and
  champion);
- a bare process that imports MLflow, loads the same model twice with
  `mlflow.pyfunc.load_model` and predicts the same features.

Prints the median wall and CPU seconds of each, and their ratio (below 1: the child is the
cheaper of the two).

Usage:
    uv run python scripts/benchmark_score.py --repeats 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark_predict import ROOT, registered_model, store_env

TIMEOUT_S = 600

BARE = """
import sys
import mlflow, pandas as pd
features = pd.read_parquet(sys.argv[1])
for model in sys.argv[2:]:
    mlflow.pyfunc.load_model(model).predict(features)
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    from mlgate.config import load_settings
    from mlgate.datafile import load_data

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = store_env(folder)
        _, model = registered_model(folder, env)
        settings = load_settings(ROOT / "pyproject.toml")
        features = folder / "features.parquet"
        data = load_data(settings.plugin(), settings.data_path("validation"))
        data.features.to_parquet(features, index=False)
        out = folder / "out"
        out.mkdir()
        child = [sys.executable, "-m", "mlgate.registry.score", str(features), str(out)]
        commands = {
            "child": [*child, str(model), str(model)],
            "bare": [sys.executable, "-c", BARE, str(features), str(model), str(model)],
        }
        env = {**env, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, command in commands.items():
                figures[name].append(timed(command, env))

    print(f"whole processes, {data.rows:,} rows, two models each, median of {args.repeats}")
    medians = {}
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        medians[name] = (wall, cpu)
        print(f"{name:>6}: wall {wall:6.2f} s, cpu {cpu:6.2f} s")
    wall_ratio = medians["child"][0] / medians["bare"][0]
    cpu_ratio = medians["child"][1] / medians["bare"][1]
    print(f" ratio: child / bare wall {wall_ratio:.2f}, cpu {cpu_ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
