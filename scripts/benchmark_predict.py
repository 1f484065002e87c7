"""Batch-scoring benchmark: `mlgate predict` against the bare model on the same rows.

Why: `predict` checks every batch against the model's signature before scoring it; this shows
what that costs, as rows per second at the margin. The project's configured model is trained
on its configured data into a throwaway sqlite store; files of SMALL and LARGE rows are drawn
(seeded, with replacement) from the configured validation file and written to a temporary
folder (nothing is committed). Figures:

- `mlgate predict`: whole processes at SMALL and LARGE rows, alternating, fastest of REPEATS
  (the run a shared machine disturbed least);
  the margin is (LARGE - SMALL) rows over the difference in seconds, so start-up, imports and
  model load cancel out;
- the bare pipeline: one process loads the same model's scikit-learn pipeline and times, on the
  same files, reading the plug-in's columns with pyarrow plus `pipeline.predict`; its margin is
  computed the same way.

The ratio is predict's margin over the bare margin.

Usage:
    uv run python scripts/benchmark_predict.py                       # 200,000 and 2,000,000 rows
    uv run python scripts/benchmark_predict.py --small 20000 --large 200000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 1800

_BARE = """
import json, sys, time
from pathlib import Path
import mlflow, pyarrow.parquet as pq
from mlgate.config import load_settings
plugin = load_settings(Path(sys.argv[1])).plugin()
pipeline = mlflow.pyfunc.load_model(sys.argv[2]).get_raw_model()
seconds = {}
for path in sys.argv[3:]:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        frame = pq.read_table(path, columns=plugin.raw_columns()).to_pandas()
        pipeline.predict(plugin.raw_features(frame))
        best = min(best, time.perf_counter() - start)
    seconds[path] = best
print(json.dumps(seconds))
"""
PART_ROWS = 2_000_000


def store_env(folder: Path) -> dict[str, str]:
    """This process's environment with a throwaway sqlite store in `folder`, outside CI."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "MLFLOW_LOGGING_LEVEL": "WARNING",
    }
    env.pop("GITHUB_ACTIONS", None)
    return env


def registered_model(folder: Path, env: dict[str, str]) -> tuple[str, Path]:
    """Train and register the project's model on the committed sample in a throwaway store."""
    from mlgate.config import load_settings
    from mlgate.serving.check import download
    from mlgate.train.job import train

    os.environ.update(env)
    os.chdir(folder)  # the store's artifacts land in the throwaway folder
    settings = load_settings(ROOT / "pyproject.toml", overrides={"serving": {"check": False}})
    report = train(settings, env=env)
    return report.candidate.version, download(report.candidate.model_uri)


def drawn(folder: Path, name: str, rows: int, seed: int) -> Path:
    """`rows` rows drawn with replacement from the configured validation file, written in
    parts of at most PART_ROWS (bounded memory)."""
    from mlgate.config import load_settings

    settings = load_settings(ROOT / "pyproject.toml")
    source = pq.read_table(settings.path(settings.data.validation))
    rng = np.random.default_rng(seed)
    out = folder / f"{name}-{rows}.parquet"
    with pq.ParquetWriter(out, source.schema) as writer:
        for start in range(0, rows, PART_ROWS):
            size = min(PART_ROWS, rows - start)
            writer.write_table(source.take(rng.integers(0, source.num_rows, size)))
    return out


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def margin(small: int, large: int, t_small: float, t_large: float) -> float:
    """Rows per second of the extra rows: fixed costs (start-up, model load) cancel out;
    infinite when the extra rows cost less than the runs' noise."""
    extra = t_large - t_small
    return (large - small) / extra if extra > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--large", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = store_env(folder)
        version, model_dir = registered_model(folder, env)
        sizes = (args.small, args.large)
        files = {rows: drawn(folder, "score", rows, 13) for rows in sizes}
        config = str(ROOT / "pyproject.toml")
        cli = [sys.executable, "-m", "mlgate.cli", "--quiet", "--config", config]
        seconds: dict[int, list[float]] = {rows: [] for rows in sizes}
        for _ in range(args.repeats):
            for rows in sizes:
                out = folder / f"out-{rows}.parquet"
                command = [*cli, "predict", "--model", version, "--data", str(files[rows])]
                seconds[rows].append(timed([*command, "--out", str(out)], env))
        done = subprocess.run(
            [sys.executable, "-c", _BARE, config, str(model_dir), *(str(files[r]) for r in sizes)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT_S,
        )
        if done.returncode:
            raise SystemExit(f"bare pipeline failed:\n{done.stderr[-2000:]}")
        bare = {rows: json.loads(done.stdout)[str(files[rows])] for rows in sizes}
    fastest = {rows: min(values) for rows, values in seconds.items()}
    ours = margin(args.small, args.large, fastest[args.small], fastest[args.large])
    theirs = margin(args.small, args.large, bare[args.small], bare[args.large])
    print(f"model v{version}; mlgate predict, whole process, fastest of {args.repeats}:")
    for rows in sizes:
        print(
            f"{rows:>12,} rows: predict {fastest[rows]:6.2f} s, "
            f"bare read+predict {bare[rows]:.3f} s"
        )
    print(
        f"margin: predict {ours:,.0f} rows/s, bare {theirs:,.0f} rows/s, ratio {ours / theirs:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
