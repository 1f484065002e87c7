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
import importlib
import tempfile
from pathlib import Path

from green_taxi.bench_pipelines import make_months, pipeline_benchmark, real_data
from green_taxi.bench_processes import end_to_end, monitor_benchmark, predict_benchmark

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
DEFAULT_SIZES = [70_000, 2_000_000]
MONITOR_SIZES = [200_000, 1_000_000, 2_000_000]


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


if __name__ == "__main__":
    raise SystemExit(main())
