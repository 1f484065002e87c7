"""Calibrate the drift monitor: how often it flags shifted months, and how often unshifted ones.

Why: thresholds are only as good as their measured error rates. This generates synthetic months
with green_taxi.make_sample (the committed training month's generator) and runs the monitor's
own checks against a reference month, scoring both with a model fitted on the reference the
way `train` fits it (no MLflow needed, so it runs in seconds):

- distances x1.3 and a new zone mix: the share of months flagged (want: all);
- unshifted months from other seeds: false alarms (want: at most 1 in 20);
- optionally a real TLC month against its own other half (`--real PATH`): the file is split
  into its first and second half of rows in a temporary folder, never in the repository.

Thresholds come from `[tool.mlgate.monitoring]` in the pyproject.toml of the folder it runs in
(`--config` for another), whose plug-in must be the example's.

Usage: uv run python -m green_taxi.calibrate_monitor [--seeds 20] [--rows 20000] [--real FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from mlgate.config import load_settings
from mlgate.contract import Dataset

# The data, model and monitoring modules are imported where they are used, so `--help` and
# argument errors answer at once.


def _verdict(
    settings, plugin, model, reference: Dataset, path: Path, rmse: float
) -> tuple[list[str], tuple[float, str]]:
    """What the monitor would flag for `path` (empty when nothing drifted), and the drift
    check closest to its threshold (statistic / threshold, and which check)."""
    from mlgate import tasks
    from mlgate.monitoring.checks import Outputs, run_all
    from mlgate.monitoring.document import ChampionRef

    current = plugin.load(path)
    outputs = Outputs(
        tasks.adapter("regression"),
        {"task": "regression"},
        model.predict(reference.features),
        model.predict(current.features),
    )
    champion = ChampionRef(
        version="1", model_uri="in-process", metric="root_mean_squared_error", recorded=rmse
    )
    checks, _ = run_all(reference, current, plugin.watched, outputs, champion, settings.monitoring)
    ratios = [
        (c.statistic / c.threshold, f"{c.subject} {c.test} {c.statistic:.3f} vs {c.threshold:g}")
        for c in checks
        if c.kind in ("numeric", "categorical", "prediction") and c.statistic is not None
    ]
    return [f"{c.subject} {c.test}" for c in checks if not c.passed], max(ratios)


def _scenario(name: str, outcomes: list, want_flagged: bool) -> None:
    flagged = sum(bool(failed) for failed, _ in outcomes)
    causes = Counter(cause for failed, _ in outcomes for cause in failed)
    rate = f"{flagged}/{len(outcomes)} flagged"
    goal = "want all" if want_flagged else "want at most 1 in 20"
    top = ", ".join(f"{cause} x{n}" for cause, n in causes.most_common(4)) or "-"
    print(f"{name:<34} {rate:>14}   ({goal}; failing checks: {top})")
    if want_flagged:
        _, weakest = min(strongest for _, strongest in outcomes)
        print(f"{'':<49}   weakest month's strongest signal: {weakest}")
    else:
        _, closest = max(closest for _, closest in outcomes)
        print(f"{'':<49}   closest to an alarm: {closest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="months per scenario")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per synthetic month")
    parser.add_argument("--real", type=Path, help="a real TLC month to split into halves")
    parser.add_argument(
        "--config", type=Path, default=Path("pyproject.toml"), help="default ./pyproject.toml"
    )
    args = parser.parse_args(argv)
    from green_taxi import make_sample
    from mlgate.train import estimator, evaluation

    settings = load_settings(args.config)
    plugin = settings.plugin()
    with tempfile.TemporaryDirectory(prefix="calibrate-monitor-") as tmp:
        folder = Path(tmp)
        ref_path = make_sample.write_month(folder / "reference.parquet", "2023-01", args.rows)
        reference = plugin.load(ref_path)
        model = estimator.build(plugin, settings.model).fit(reference.features, reference.target)
        val_path = make_sample.write_month(folder / "validation.parquet", "2023-02", args.rows)
        validation = plugin.load(val_path)
        rmse = evaluation.rmse(validation.target, model.predict(validation.features))
        print(
            f"reference: synthetic 2023-01, {reference.rows:,} rows; validation RMSE {rmse:.3f}; "
            f"{args.seeds} months of {args.rows:,} rows per scenario (2023-02, seeds 1..)"
        )
        scenarios = (
            ("distances x1.3", make_sample.Shift(distance_scale=1.3), True),
            ("new zone mix (30% of trips)", make_sample.Shift(zone_mix=0.3), True),
            ("unshifted", make_sample.NO_SHIFT, False),
        )
        for name, shift, want in scenarios:
            outcomes = []
            for seed in range(1, args.seeds + 1):
                path = make_sample.write_month(
                    folder / f"m-{seed}.parquet", "2023-02", args.rows, seed, shift=shift
                )
                outcomes.append(_verdict(settings, plugin, model, reference, path, rmse))
            _scenario(name, outcomes, want)
        if args.real is not None:
            _real_halves(settings, plugin, args.real, folder)
    return 0


def _real_halves(settings, plugin, path: Path, folder: Path) -> None:
    """The real month's first half of rows as reference, its second half as current."""
    import pyarrow.parquet as pq

    from mlgate.train import estimator, evaluation

    table = pq.read_table(path)
    half = table.num_rows // 2
    first, second = folder / "first-half.parquet", folder / "second-half.parquet"
    pq.write_table(table.slice(0, half), first)
    pq.write_table(table.slice(half), second)
    reference = plugin.load(first)
    model = estimator.build(plugin, settings.model).fit(reference.features, reference.target)
    rmse = evaluation.rmse(reference.target, model.predict(reference.features))
    flagged, (_, closest) = _verdict(settings, plugin, model, reference, second, rmse)
    verdict = "flagged: " + ", ".join(flagged) if flagged else "not flagged"
    name = "real month, second half vs first"
    print(f"{name:<34} {verdict:>14}   ({path.name}; want not flagged)")
    print(f"{'':<49}   closest to an alarm: {closest}")


if __name__ == "__main__":
    raise SystemExit(main())
