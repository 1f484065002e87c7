"""Tuning benchmark: the configured search on the committed sample, and what tracking costs.

1. PR time: `mlgate tune` as the PR workflow runs it (the search of
   `[tool.mlgate.tuning]` with its budget, then refit, logging, champion comparison,
   gate, registration and report), on `data/`, against a fresh local MLflow store.
2. Tracking overhead: the same seeded study twice in this process, once with Optuna alone and
   once with every trial logged as a nested MLflow run. The studies are identical (same seed,
   same trials, same pruning), so the difference is the tracking.

Usage: uv run python scripts/benchmark_tuning.py [--trials 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 120.0


def _settings():
    from mlgate.config import load_settings

    return load_settings(ROOT / "pyproject.toml")


def pr_time(trials: int, folder: Path) -> tuple[float, str]:
    """Seconds for the whole `tune` job, and its one-line outcome."""
    from mlgate.tuning.job import tune

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'pr.db'}"}
    env.pop("GITHUB_ACTIONS", None)
    start = time.perf_counter()
    outcome = tune(_settings(), trials=trials, study_name="benchmark-pr", env=env)
    seconds = time.perf_counter() - start
    tuning = outcome.report.tuning
    summary = (
        f"{tuning.completed} completed, {tuning.pruned} pruned, {tuning.failed} failed; "
        f"best CV RMSE {tuning.best_cv_score:.3f}, validation {tuning.validation_score:.3f}"
    )
    return seconds, summary


def search_time(trials: int, tracked_uri: str | None, name: str) -> tuple[float, float, int]:
    """(search seconds, seconds spent in tracking, trials) for one study."""
    from mlgate import tasks
    from mlgate.tracking import connection as tracking
    from mlgate.tuning import search
    from mlgate.tuning.job import effective, with_metric
    from mlgate.tuning.objective import Objective
    from mlgate.tuning.tracking import StudyRuns

    settings = _settings()
    plugin = settings.plugin()
    config = effective(settings.tuning, trials=trials)
    config = with_metric(config, settings.gate.metric, tasks.for_plugin(plugin))
    settings = settings.model_copy(update={"tuning": config})
    data = plugin.load(settings.data_path("train"))
    study = search.open_study(config, storage_url=None, name=name)
    spent = [0.0]
    hook = None
    if tracked_uri is not None:
        client = tracking.connect(tracked_uri, 0)
        experiment = client.create_experiment(name)
        runs = StudyRuns.start(
            client, experiment, study=name, config=config, budget=study.budget, storage=None,
            tags={},
        )  # fmt: skip

        def hook(frozen, seconds: float) -> None:
            start = time.perf_counter()
            runs.trial(frozen, seconds)
            spent[0] += time.perf_counter() - start

    start = time.perf_counter()
    ran = search.run(study, Objective(settings, plugin, data), on_trial=hook)
    return time.perf_counter() - start, spent[0], ran


def main(argv: list[str] | None = None) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="studies per variant (median)")
    args = parser.parse_args(argv)
    from mlgate import progress

    progress.configure(quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chdir(folder)  # MLflow writes nothing into the repository
        seconds, summary = pr_time(args.trials, folder)
        verdict = "within" if seconds < LIMIT_S else "OVER"
        print(
            f"PR time, `tune` with {args.trials} trials on the committed sample: {seconds:.1f} s "
            f"({verdict} the {LIMIT_S:.0f} s budget); {summary}"
        )
        plain, tracked, hooks = [], [], []
        for repeat in range(args.repeats):  # interleaved, so load on the machine hits both
            alone, _, ran = search_time(args.trials, None, f"alone-{repeat}")
            uri = f"sqlite:///{folder / f'tracked-{repeat}.db'}"
            with_runs, in_hook, _ = search_time(args.trials, uri, f"tracked-{repeat}")
            plain.append(alone)
            tracked.append(with_runs)
            hooks.append((in_hook, with_runs))
        per_trial = statistics.median(hook / ran for hook, _ in hooks)
        within = statistics.median(total / (total - hook) for hook, total in hooks)
        print(
            f"tracking, {ran} trials: {per_trial * 1000:.0f} ms per trial (median of "
            f"{args.repeats}); tracked study / the same study without its tracking calls: "
            f"{within:.3f}x"
        )
        print(
            f"separate studies (fastest of {args.repeats}): Optuna alone {min(plain):.2f} s, "
            f"with nested MLflow runs {min(tracked):.2f} s: {min(tracked) / min(plain):.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
