"""The clean-environment check: the logged requirements install into a fresh uv environment
(from PyPI) and the model predicts there; a module shipped neither as a requirement nor in
the code paths fails it."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from mlgate.serving.check import download, requirements_check
from support.stores import sqlite_store

pytestmark = pytest.mark.slow

ALL = ["mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"]


@pytest.fixture(scope="module")
def log_model(tmp_path_factory: pytest.TempPathFactory):
    import mlflow

    mlflow.set_tracking_uri(sqlite_store(tmp_path_factory, "requirements-store"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    model = LinearRegression().fit(frame, frame["a"] + frame["b"])

    def log(requirements: list[str], fitted=model):
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                fitted,
                name="model",
                input_example=frame.head(3),
                pip_requirements=requirements,
                serialization_format="cloudpickle",
            )
        return download(info.model_uri), frame.head(3)

    return log


def test_complete_requirements_install_and_predict(log_model) -> None:
    model_dir, rows = log_model(ALL)
    check = requirements_check(model_dir, rows)
    assert check.passed, check.detail
    assert "clean uv environment" in check.detail


def test_a_module_shipped_nowhere_fails_the_check(
    log_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "unshipped_steps.py").write_text(
        textwrap.dedent(
            """
            from sklearn.base import BaseEstimator, TransformerMixin

            class Passthrough(TransformerMixin, BaseEstimator):
                def fit(self, X, y=None):
                    return self

                def transform(self, X):
                    return X
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    steps = importlib.import_module("unshipped_steps")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    model = Pipeline([("keep", steps.Passthrough()), ("fit", LinearRegression())])
    model_dir, rows = log_model(ALL, fitted=model.fit(frame, frame["a"]))
    sys.modules.pop("unshipped_steps", None)
    check = requirements_check(model_dir, rows)
    assert not check.passed
    assert check.detail.startswith("predict in a clean uv environment failed")
    assert "unshipped_steps" in check.detail
