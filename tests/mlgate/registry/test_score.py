"""Scoring in a child process without credentials: what the promotion job relies on.

The probe model reports, as its prediction, whether the process scoring it can see any
credential; the parent has all of them set.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from mlgate.registry.score import Scored, child_env, predict_isolated
from mlgate.train.evaluation import NotComparableError

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Add type hints")]

SECRETS = {
    "MLFLOW_TRACKING_URI": "http://mlflow.example.com",
    "MLFLOW_TRACKING_USERNAME": "ci-promote",
    "MLFLOW_TRACKING_PASSWORD": "promote-password-123",
    "MLFLOW_TRACKING_TOKEN": "tok-123",
    "GITHUB_TOKEN": "ghs_secret",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
}

PROBE = """
import os
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

SEEN = {names!r}


class Probe(PythonModel):
    def predict(self, context, model_input, params=None):
        if "boom" in model_input.columns:
            raise ValueError("the probe refuses a boom column")
        seen = sum(name in os.environ for name in SEEN)
        return pd.Series([float(seen)] * len(model_input)) + model_input["x"]


set_model(Probe())
"""


@pytest.fixture
def probe_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import mlflow

    code = tmp_path / "probe.py"
    code.write_text(textwrap.dedent(PROBE.format(names=sorted(SECRETS))))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    monkeypatch.chdir(tmp_path)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="probe", python_model=str(code))
    return info.model_uri


def test_the_child_sees_no_credential_and_scores_the_data(
    probe_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{Path.cwd() / 'mlflow.db'}")
    for name, value in SECRETS.items():
        if name != "MLFLOW_TRACKING_URI":
            monkeypatch.setenv(name, value)
    features = pd.DataFrame({"x": [1.0, 2.5, -3.0]})

    [scored] = predict_isolated([probe_uri], features)

    assert isinstance(scored, Scored)
    assert scored.outputs.tolist() == [1.0, 2.5, -3.0], "0 credentials seen, plus x"
    assert scored.record == {"task": "regression"}, "a model with no task record is a regressor"


def test_a_model_that_cannot_score_is_reported_not_raised(probe_uri: str) -> None:
    features = pd.DataFrame({"x": [1.0], "boom": [1.0]})

    [result] = predict_isolated([probe_uri], features)

    assert isinstance(result, NotComparableError)
    assert "boom" in str(result)


def test_the_child_environment_keeps_paths_and_drops_secrets() -> None:
    env = child_env({**SECRETS, "PATH": "/usr/bin", "HOME": "/home/ci", "LANG": "C.UTF-8"})
    assert env["PATH"] == "/usr/bin"
    assert env["HOME"] == "/home/ci"
    assert not set(SECRETS) & set(env)
