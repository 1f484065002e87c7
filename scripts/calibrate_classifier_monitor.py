"""How often monitoring's default thresholds flag a shifted month of a classifier, and how often
they raise a false alarm on an unshifted one.

Why: the drift checks of a classifier watch its predicted class (chi-square) and its class
probabilities (PSI and KS); this measures them on the two data sets scikit-learn ships
(breast-cancer diagnosis for binary, wine cultivar for multiclass). A logistic regression is
fitted in this process on 70% of the rows, whose rows are the reference. Each month resamples
ROWS rows of them with its own seed, then shifts it:

- unshifted: as drawn (any alarm is a false one);
- prior: a share of the rows replaced by rows of the rarest class (a shifted class prior);
- feature: one watched feature scaled (the model's inputs move).

The checks are the ones `mlgate monitor` runs (`mlgate.monitoring.checks.run_all`), with the
defaults of `[tool.mlgate.monitoring]`.

Usage:
    uv run python scripts/calibrate_classifier_monitor.py               # 20 seeds per case
    uv run python scripts/calibrate_classifier_monitor.py --seeds 3 --task binary
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from mlgate.config import MonitoringConfig
from mlgate.contract import Dataset, WatchedFeature
from mlgate.monitoring import checks
from mlgate.monitoring.document import ChampionRef
from mlgate.tasks import adapter

DATA = {
    # task: (loader, gate metric, watched features; the first is the one the feature case scales)
    "binary": ("load_breast_cancer", "roc_auc", ("mean texture", "mean radius")),
    "multiclass": ("load_wine", "accuracy_score", ("color_intensity", "alcohol")),
}
TRAIN_SHARE = 0.7
SEED = 20


def _frame(task: str) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn import datasets

    bunch = getattr(datasets, DATA[task][0])(as_frame=True)
    order = np.random.default_rng(SEED).permutation(len(bunch.frame))
    return bunch.data.iloc[order].reset_index(drop=True), bunch.target.iloc[order].reset_index(
        drop=True
    )


def _dataset(name: str, features: pd.DataFrame, target: pd.Series) -> Dataset:
    return Dataset(
        Path(name), features.reset_index(drop=True), target.reset_index(drop=True), len(features)
    )


def _month(
    train: Dataset, rows: int, seed: int, case: str, prior: float, scale: float, feature: str
) -> Dataset:
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, train.rows, rows)
    if case == "prior":
        rare = np.flatnonzero(train.target.to_numpy() == train.target.value_counts().idxmin())
        swap = rng.random(rows) < prior
        picked[swap] = rare[rng.integers(0, len(rare), int(swap.sum()))]
    features = train.features.iloc[picked].copy()
    if case == "feature":
        features[feature] = features[feature] * scale
    return _dataset(f"{case}-{seed}", features, train.target.iloc[picked])


def calibrate(task: str, seeds: int, rows: int, prior: float, scale: float) -> list[str]:
    """One Markdown table row per case: months flagged, and the checks that failed most."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = _frame(task)
    cut = int(len(features) * TRAIN_SHARE)
    train = _dataset("train", features.iloc[:cut], target.iloc[:cut])
    validation = _dataset("validation", features.iloc[cut:], target.iloc[cut:])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train.features, train.target)
    runner = adapter(task)
    description = {"task": task, "classes": model.classes_.tolist(), "decision_threshold": 0.5}
    _, metric, names = DATA[task]
    recorded = runner.score(
        validation.target, model.predict_proba(validation.features), description
    )
    champion = ChampionRef(
        version="1", model_uri="in-process", metric=metric, recorded=recorded[metric]
    )
    watched = tuple(WatchedFeature(name, "numeric") for name in names)
    reference = model.predict_proba(train.features)
    shown = {
        "unshifted": "unshifted months (false alarms)",
        "prior": f"rarest class on {prior:.0%} of rows",
        "feature": f"`{names[0]}` \u00d7{scale:g}",
    }
    lines = []
    for case in ("unshifted", "prior", "feature"):
        flagged, failing = 0, Counter()
        for seed in range(seeds):
            month = _month(train, rows, 1000 + seed, case, prior, scale, names[0])
            outputs = checks.Outputs(
                runner, description, reference, model.predict_proba(month.features)
            )
            found, _ = checks.run_all(train, month, watched, outputs, champion, MonitoringConfig())
            failed = [f"{c.subject} {c.test}" for c in found if not c.passed]
            flagged += bool(failed)
            failing.update(failed)
        top = ", ".join(f"{name} ({n})" for name, n in failing.most_common(3)) or "none"
        lines.append(f"| {task} | {shown[case]} | {flagged} of {seeds} | {top} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=[*DATA, "both"], default="both")
    parser.add_argument("--seeds", type=int, default=20, help="months per case (default 20)")
    parser.add_argument("--rows", type=int, default=600, help="rows per month (default 600)")
    parser.add_argument("--prior", type=float, default=0.3, help="share given to the rarest class")
    parser.add_argument("--feature-scale", type=float, default=1.3, help="factor on one feature")
    args = parser.parse_args(argv)
    if not (1 <= args.seeds <= 1000 and 50 <= args.rows <= 1_000_000 and 0 < args.prior < 1):
        print("error: --seeds 1..1000, --rows 50..1,000,000, --prior in (0, 1)", file=sys.stderr)
        return 2
    print("| Task | Month | Flagged | Checks that fail most (months) |")
    print("|---|---|---|---|")
    for task in DATA if args.task == "both" else [args.task]:
        for line in calibrate(task, args.seeds, args.rows, args.prior, args.feature_scale):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
