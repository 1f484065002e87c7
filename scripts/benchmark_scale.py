"""Scale benchmark: the single-process engine against Spark's local mode, as whole commands.

Why: a team choosing `--engine spark` wants to know where Spark starts to pay. The project's
configured model is trained on its configured data into a throwaway sqlite store and promoted;
the files are drawn (seeded, with replacement) from the configured validation file and written
to a temporary folder in 2M-row parts (nothing is committed). Each
command runs once as a whole process (start-up, imports, model load and, for Spark, the JVM
included), in this order:

- `mlgate predict` at each of --predict-rows, `--engine local` against `--engine spark
  --spark-master local[N]`;
- `mlgate monitor` with a --monitor-rows current file against a 2M-row reference file (drawn
  from the same rows: no drift), `--engine local` against `--engine spark`.

The ratio is Spark's seconds over the local engine's (below 1: Spark is faster).

Usage:
    uv run python scripts/benchmark_scale.py                 # predict 2M and 10M, monitor 10M
    uv run python scripts/benchmark_scale.py --predict-rows 200000 --monitor-rows 200000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmark_predict import ROOT, drawn, registered_model, store_env

REFERENCE_ROWS = 2_000_000
TIMEOUT_S = 3600
EXIT_DRIFT = 5


def timed(command: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predict-rows", type=int, nargs="+", default=[2_000_000, 10_000_000])
    parser.add_argument("--monitor-rows", type=int, default=10_000_000)
    parser.add_argument("--reference-rows", type=int, default=REFERENCE_ROWS)
    parser.add_argument("--spark-master", default="local[2]")
    args = parser.parse_args(argv)

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = store_env(folder)
        version, _ = registered_model(folder, env)
        config = str(ROOT / "pyproject.toml")
        cli = [sys.executable, "-m", "mlgate.cli", "--quiet", "--config", config]
        timed([*cli, "promote", "--version", version], env)
        spark = ["--engine", "spark", "--spark-master", args.spark_master]
        for rows in args.predict_rows:
            data = drawn(folder, "score", rows, 13)
            command = [*cli, "predict", "--model", version, "--data", str(data)]
            local = timed([*command, "--out", str(folder / "local.parquet")], env)
            spark_s = timed([*command, "--out", str(folder / "spark-out"), *spark], env)
            lines.append(("predict", rows, local, spark_s))
        reference = drawn(folder, "reference", args.reference_rows, 31)
        current = drawn(folder, "current", args.monitor_rows, 41)
        command = [*cli, "monitor", "--current", str(current), "--reference", str(reference)]
        drift_ok = (0, EXIT_DRIFT)
        local = timed([*command, "--out", str(folder / "mon-local")], env, drift_ok)
        spark_s = timed([*command, "--out", str(folder / "mon-spark"), *spark], env, drift_ok)
        lines.append(("monitor", args.monitor_rows, local, spark_s))
    print(f"whole processes, one run each; spark master {args.spark_master}")
    for what, rows, local, spark_s in lines:
        print(
            f"{what:>8} {rows:>12,} rows: local {local:7.1f} s, spark {spark_s:7.1f} s, "
            f"spark / local {spark_s / local:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
