"""Two classifier plug-ins on data scikit-learn ships: breast-cancer diagnosis (binary, string
labels) and wine cultivar (multiclass, integer labels).

The lifecycle's classification tests run on these, as the regression ones run on
`support.diabetes`. `write_months` shuffles the bundled rows with a fixed seed (the wine rows
come sorted by class) and writes a training and a validation parquet file, the way a team's
own data would arrive; `project` writes a configuration around them.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mlgate.contract import Dataset, ModelPlugin, Target, TaskName, WatchedFeature
from mlgate.errors import UserError

if TYPE_CHECKING:
    from support.project import Project

SEED = 20
TRAIN_SHARE = 0.7


class _Table(ModelPlugin):
    """Numeric feature columns and one label column, read as they are."""

    features: ClassVar[tuple[str, ...]]

    def load(self, path: Path) -> Dataset:
        if not path.is_file():
            raise UserError(f"{path}: data file not found")
        try:
            frame = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise UserError(f"{path}: not a readable parquet file ({exc})") from None
        label = self.target.name
        missing = [c for c in (*self.features, label) if c not in frame.columns]
        if missing:
            raise UserError(f"{path}: missing required column(s) {', '.join(missing)}")
        return Dataset(
            path=path,
            features=frame.loc[:, list(self.features)],
            target=frame[label],
            rows_raw=len(frame),
        )

    def feature_steps(self) -> list[tuple[str, Any]]:
        from sklearn.preprocessing import StandardScaler

        return [("scale", StandardScaler())]


def _column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class _FeatureColumns:
    """A table's feature names, read from its data on first use: importing scikit-learn's
    datasets costs most of a second, which every test worker would pay at collection."""

    def __init__(self, table: Callable[[], pd.DataFrame], label: str) -> None:
        self.table, self.label = table, label

    def __get__(self, instance: object, owner: type) -> tuple[str, ...]:
        return tuple(c for c in self.table().columns if c != self.label)


@functools.cache
def _cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.rename(columns=_column)
    names = np.asarray(bunch.target_names)
    return frame.assign(diagnosis=names[bunch.target.to_numpy()])


@functools.cache
def _wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    return bunch.data.rename(columns=_column).assign(cultivar=bunch.target.to_numpy())


class BreastCancer(_Table):
    name: ClassVar[str] = "breast-cancer"
    title: ClassVar[str] = "Diagnosis model report"
    task: ClassVar[TaskName] = "binary"
    target: ClassVar[Target] = Target(name="diagnosis", unit="", label="Diagnosis")
    features: ClassVar[tuple[str, ...]] = _FeatureColumns(_cancer, "diagnosis")
    watched: ClassVar[tuple[WatchedFeature, ...]] = (
        WatchedFeature("mean_radius", "numeric", low=0.0),
        WatchedFeature("mean_texture", "numeric", low=0.0),
    )


class Wine(_Table):
    name: ClassVar[str] = "wine"
    title: ClassVar[str] = "Cultivar model report"
    task: ClassVar[TaskName] = "multiclass"
    target: ClassVar[Target] = Target(name="cultivar", unit="", label="Cultivar")
    features: ClassVar[tuple[str, ...]] = _FeatureColumns(_wine, "cultivar")
    watched: ClassVar[tuple[WatchedFeature, ...]] = (
        WatchedFeature("alcohol", "numeric", low=0.0),
        WatchedFeature("color_intensity", "numeric", low=0.0),
    )


PLUGINS: dict[str, type[_Table]] = {"binary": BreastCancer, "multiclass": Wine}
REFERENCES = {
    "binary": "support.classifiers:BreastCancer",
    "multiclass": "support.classifiers:Wine",
}
FRAMES = {"binary": _cancer, "multiclass": _wine}


def frame(task: str) -> pd.DataFrame:
    """The bundled rows of the task's data set, shuffled with a fixed seed."""
    data = FRAMES[task]()
    order = np.random.default_rng(SEED).permutation(len(data))
    return data.iloc[order].reset_index(drop=True)


def write_months(
    folder: Path, task: str, *, validation: pd.DataFrame | None = None
) -> tuple[Path, Path]:
    """`train.parquet` and `validation.parquet`; `validation` replaces the held-out rows."""
    folder.mkdir(parents=True, exist_ok=True)
    data = frame(task)
    cut = int(len(data) * TRAIN_SHARE)
    parts = {"train": data.iloc[:cut], "validation": data.iloc[cut:]}
    if validation is not None:
        parts["validation"] = validation
    paths = []
    for name, part in parts.items():
        path = folder / f"{name}.parquet"
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), path)
        paths.append(path)
    return paths[0], paths[1]


def held_out(task: str) -> pd.DataFrame:
    """The rows `write_months` validates on."""
    data = frame(task)
    return data.iloc[int(len(data) * TRAIN_SHARE) :].reset_index(drop=True)


def project(
    root: Path,
    uri: str,
    task: str,
    *,
    estimator: str = "sklearn.linear_model.LogisticRegression",
    params: str = "{ max_iter = 2000 }",
    gate: str | None = None,
    model_extra: str = "",
    extra: str = "",
    validation: pd.DataFrame | None = None,
    name: str | None = None,
) -> Project:
    """A project folder for a classifier plug-in; its names unique unless `name` is given."""
    from support.project import Project  # the tests' helper; the plug-in itself needs no pytest

    made = Project(root, uri, name or f"models-{uuid.uuid4().hex[:8]}")
    root.mkdir(parents=True, exist_ok=True)
    write_months(root / "data", task, validation=validation)
    first = "roc_auc" if task == "binary" else "accuracy_score"
    made.config.write_text(
        '[data]\ntrain = "data/train.parquet"\nvalidation = "data/validation.parquet"\n'
        f'[model]\nplugin = "{REFERENCES[task]}"\nestimator = "{estimator}"\n'
        f"params = {params}\n{model_extra}"
        f"[gate]\n{gate if gate is not None else f'metric = {first!r}'}\n"
        f'[tracking]\nexperiment = "{made.name}"\nregistered_model = "{made.name}"\n'
        f"[report]\nlatency_batch = 16\nlatency_repeats = 2\n{extra}",
        encoding="utf-8",
    )
    return made
