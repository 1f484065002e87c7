"""Fixtures for the tuning tests: the tests' tiny plug-in, its data, and settings to tune."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate.config import Settings
from mlgate.contract import Dataset, NoOptions
from support.tuning_plugin import TinyPlugin, dataset, make_frame


@pytest.fixture
def tiny_plugin() -> TinyPlugin:
    return TinyPlugin(NoOptions())


@pytest.fixture
def tiny_data() -> Dataset:
    """300 simulated rides in memory."""
    return dataset(make_frame(rows=300, seed=3))


@pytest.fixture
def tuning_settings() -> Callable[..., Settings]:
    """`tuning_settings(space, **tuning)`: settings whose model is Lasso, tuned over `space`
    on RMSE (as `tune` resolves the metric from the gate's default)."""

    def make(space: dict[str, Any], **tuning: Any) -> Settings:
        return Settings.model_validate(
            {
                "model": {"estimator": "sklearn.linear_model.Lasso", "params": {"max_iter": 5000}},
                "tuning": {
                    "n_trials": 8,
                    "seed": 1,
                    "metric": "root_mean_squared_error",
                    **tuning,
                    "space": space,
                },
            }
        )

    return make


@pytest.fixture(scope="session")
def empty_study_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Optuna sqlite storage with its schema and no study: making the schema takes about
    half a second, copying the file a millisecond."""
    import optuna

    path = tmp_path_factory.mktemp("optuna-template") / "study.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    storage.remove_session()
    storage.engine.dispose()
    return path


@pytest.fixture
def study_url(tmp_path: Path, empty_study_db: Path) -> str:
    """The URL of a fresh Optuna sqlite storage, `tmp_path/study.db`, with no study yet."""
    path = tmp_path / "study.db"
    shutil.copyfile(empty_study_db, path)
    return f"sqlite:///{path}"
