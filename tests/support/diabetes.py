"""A second, tiny model plug-in: disease progression from scikit-learn's bundled diabetes data.

The lifecycle tests run on this plug-in, not on the taxi example, so a team that replaces the
example keeps them green without editing them. The data ships with scikit-learn (no download);
`write_months` turns it into two parquet files the way a team's own data would arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from mlgate.contract import Dataset, ModelPlugin, Target, WatchedFeature
from mlgate.errors import UserError

TARGET = "progression"
FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
REFERENCE = "support.diabetes:Diabetes"
TRAIN_ROWS = 300
"""The first rows train, the rest validate."""


class DiabetesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_progression: float = Field(default=400.0, gt=0)


class Diabetes(ModelPlugin):
    name: ClassVar[str] = "diabetes"
    title: ClassVar[str] = "Disease progression model report"
    target: ClassVar[Target] = Target(name=TARGET, unit="pts", label="Progression")
    Options: ClassVar[type[BaseModel]] = DiabetesOptions
    watched: ClassVar[tuple[WatchedFeature, ...]] = (
        WatchedFeature("bmi", "numeric"),
        WatchedFeature("sex", "categorical"),
    )
    options: DiabetesOptions

    def load(self, path: Path) -> Dataset:
        if not path.is_file():
            raise UserError(f"{path}: data file not found")
        try:
            frame = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise UserError(f"{path}: not a readable parquet file ({exc})") from None
        missing = [c for c in (*FEATURES, TARGET) if c not in frame.columns]
        if missing:
            raise UserError(f"{path}: missing required column(s) {', '.join(missing)}")
        rows_raw = len(frame)
        keep = frame[TARGET].between(0, self.options.max_progression)
        frame = frame[keep].reset_index(drop=True)
        if frame.empty:
            raise UserError(f"{path}: no rows left after cleaning ({rows_raw} read)")
        return Dataset(
            path=path,
            features=frame.loc[:, list(FEATURES)],
            target=frame[TARGET].astype(np.float64),
            rows_raw=rows_raw,
        )

    def feature_steps(self) -> list[tuple[str, Any]]:
        from sklearn.preprocessing import StandardScaler

        return [("scale", StandardScaler())]


def frame() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    data = load_diabetes(as_frame=True).frame
    return data.rename(columns={"target": TARGET})


def write_months(folder: Path, *, dirty_rows: int = 3) -> tuple[Path, Path]:
    """`train.parquet` and `validation.parquet`, each with a few implausible targets appended."""
    folder.mkdir(parents=True, exist_ok=True)
    data = frame()
    paths = []
    for name, part in (("train", data.iloc[:TRAIN_ROWS]), ("validation", data.iloc[TRAIN_ROWS:])):
        dirty = part.head(dirty_rows).assign(**{TARGET: -1.0})
        path = folder / f"{name}.parquet"
        pq.write_table(pa.Table.from_pandas(pd.concat([part, dirty]), preserve_index=False), path)
        paths.append(path)
    return paths[0], paths[1]
