"""The clean-environment check: the logged requirements install into a fresh uv environment
(from PyPI) and the model predicts there; a module shipped neither as a requirement nor in
the code paths fails it."""

from __future__ import annotations

import importlib
import os
import shlex
import shutil
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


def _recording_uv(folder: Path) -> Path:
    """A `uv` first on PATH that notes whether each call sees UV_COMPILE_BYTECODE, then runs
    the real uv."""
    real = shutil.which("uv")
    assert real, "uv is not on PATH"
    log = folder / "uv-calls"
    shim = folder / "bin" / "uv"
    shim.parent.mkdir()
    shim.write_text(
        f'#!/bin/sh\necho "$1 ${{UV_COMPILE_BYTECODE-unset}}" >> {shlex.quote(str(log))}\n'
        f'exec {shlex.quote(real)} "$@"\n'
    )
    shim.chmod(0o755)
    return log


def test_complete_requirements_install_and_predict(
    log_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI that exports UV_COMPILE_BYTECODE for its own install must not have the whole clean
    # environment compiled for one prediction (it nearly doubled the check's time).
    log = _recording_uv(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("UV_COMPILE_BYTECODE", "1")
    model_dir, rows = log_model(ALL)
    check = requirements_check(model_dir, rows)
    assert check.passed, check.detail
    assert "clean uv environment" in check.detail
    calls = log.read_text().splitlines()
    assert any(call.startswith("pip ") for call in calls), calls
    assert all(call.endswith(" unset") for call in calls), calls


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
