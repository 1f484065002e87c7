"""The serving contract against MLflow's own scoring server (`mlflow models serve`, a real
subprocess): a servable model passes with latency through HTTP, and an unservable one fails
with the request or the start-up error that shows why."""

from __future__ import annotations

import importlib
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from mlgate.serving.check import Options, download, load_example, serve_check
from mlgate.serving.requests import bad_requests, good_requests, records_body
from mlgate.serving.server import ScoringServer
from support.stores import sqlite_store

pytestmark = pytest.mark.slow

REQUIREMENTS = ["mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"]
GOOD_NAMES = {"dataframe_split", "dataframe_records"}
BAD_NAMES = {"missing column", "wrong type", "empty body", "not JSON"}
FAST = Options(batch=200, repeats=5, startup_timeout_s=240)


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=rows), "b": rng.integers(0, 50, rows)})


def _log(model: object, frame: pd.DataFrame, *, signature_frame: pd.DataFrame | None = None):
    import mlflow

    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=mlflow.models.infer_signature(
                frame if signature_frame is None else signature_frame, model.predict(frame)
            ),
            input_example=frame.head(5),
            pip_requirements=REQUIREMENTS,
            serialization_format="cloudpickle",
        )
    return info.model_uri


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    import mlflow

    uri = sqlite_store(tmp_path_factory, "serving-store")
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture(scope="module")
def good_model(store: str) -> str:
    frame = _frame(300)
    target = 3 * frame["a"] - 0.5 * frame["b"] + 1
    return _log(LinearRegression().fit(frame, target), frame)


@pytest.fixture(scope="module")
def served(good_model: str):
    model_dir = download(good_model)
    with ScoringServer(model_dir, startup_timeout_s=240) as server:
        yield server, model_dir


def test_served_predictions_equal_in_process_predict(served) -> None:
    import mlflow

    server, model_dir = served
    rows = _frame(37, seed=5)
    answer = server.post(records_body(rows))
    assert answer.status == 200
    got = np.asarray(answer.json()["predictions"], dtype=float)
    expected = mlflow.pyfunc.load_model(str(model_dir)).predict(rows)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_good_requests_compare_against_the_in_process_predictions(served) -> None:
    server, model_dir = served
    example = load_example(model_dir)
    assert all(c.passed for c in good_requests(server, example))
    checks = good_requests(server, replace(example, expected=example.expected + 1e-6))
    assert [c.passed for c in checks] == [False, False]
    assert all("differ from in-process predict" in c.detail for c in checks)


def test_malformed_requests_get_4xx_and_the_server_keeps_serving(served) -> None:
    server, model_dir = served
    example = load_example(model_dir)
    checks = bad_requests(server, example)
    assert {c.name for c in checks} == BAD_NAMES
    for check in checks:
        assert check.passed, check.detail
        assert " → 4" in check.detail
        assert "server still serving" in check.detail
    assert server.post(example.split_body).status == 200


def test_a_servable_model_passes_with_latency_beside_the_champions(good_model: str) -> None:
    serving = serve_check(good_model, champion_uri=good_model, options=FAST)
    assert serving.passed, serving.failed_request
    assert {c.name for c in serving.checks} == GOOD_NAMES | BAD_NAMES
    assert serving.failed_request is None
    for latency, rows in (
        (serving.latency_one, 1),
        (serving.latency_batch, FAST.batch),
        (serving.champion_latency_one, 1),
        (serving.champion_latency_batch, FAST.batch),
    ):
        assert latency is not None
        assert latency.batch_size == rows
        assert 0 < latency.p50_ms <= latency.p95_ms
    assert serving.model_size_bytes == serving.champion_model_size_bytes > 0
    assert serving.requirements_checked is None


def test_a_model_needing_an_unshipped_module_fails_at_start(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class lives in a module only this process can import, as a notebook's would."""
    (tmp_path / "local_steps.py").write_text(
        textwrap.dedent(
            """
            from sklearn.base import BaseEstimator, TransformerMixin

            class Doubler(TransformerMixin, BaseEstimator):
                def fit(self, X, y=None):
                    return self

                def transform(self, X):
                    return X * 2
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    steps = importlib.import_module("local_steps")
    frame = _frame(100)
    model = Pipeline([("double", steps.Doubler()), ("fit", LinearRegression())])
    uri = _log(model.fit(frame, frame["a"]), frame)
    sys.modules.pop("local_steps", None)
    serving = serve_check(uri, champion_uri=None, options=FAST)
    assert not serving.passed
    assert serving.checks[-1].name == "server start"
    assert "local_steps" in serving.failed_request
    assert serving.latency_one is None


def test_a_signature_that_rejects_the_example_fails_with_the_request(store: str) -> None:
    frame = _frame(100)
    model = LinearRegression().fit(frame, frame["a"])
    uri = _log(model, frame, signature_frame=frame.assign(c=1.5))
    serving = serve_check(uri, champion_uri=None, options=FAST)
    assert not serving.passed
    failed = [c for c in serving.checks if not c.passed]
    assert {c.name for c in failed} >= GOOD_NAMES
    assert serving.failed_request.startswith("dataframe_split: ")
    assert " → 400" in serving.failed_request
    assert "missing inputs ['c']" in serving.failed_request


_HOLD = """
import sys, time
from pathlib import Path
from mlgate.serving.server import ScoringServer
with ScoringServer(Path(sys.argv[1]), startup_timeout_s=240) as server:
    print(server.port, flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize(
    ("signum", "status"),
    [("SIGTERM", 143), ("SIGKILL", -9)],
    ids=["sigterm-unwinds", "sigkill-no-cleanup-runs"],
)
def test_a_stopped_check_takes_its_scoring_server_along(
    good_model: str, signum: str, status: int
) -> None:
    """A cancelled CI job sends SIGTERM, and the check unwinds through `stop`; even a SIGKILL,
    where nothing of ours runs, must not leave the server (in a session of its own) running:
    it exits when its stdin closes."""
    import signal
    import socket
    import subprocess
    import time

    model_dir = download(good_model)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(model_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(holder.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        holder.send_signal(getattr(signal, signum))
        assert holder.wait(timeout=60) == status
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            except ConnectionRefusedError:
                break
            time.sleep(0.2)
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=5),
        ):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_the_requirements_option_adds_the_clean_environment_check(good_model: str) -> None:
    serving = serve_check(good_model, champion_uri=None, options=replace(FAST, requirements=True))
    assert serving.passed, serving.failed_request
    assert serving.checks[-1].name == "requirements"
    assert serving.requirements_checked is True


@pytest.fixture(scope="module")
def mlflow_models_serve(served):
    """`mlflow models serve --env-manager local` on the same model folder, for comparison."""
    import os
    import signal
    import subprocess
    import time

    from mlgate.serving.server import scrubbed_env

    _, model_dir = served
    probe = ScoringServer(model_dir)
    serve = ["models", "serve", "-m", str(model_dir), "--env-manager", "local"]
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", *serve, "-h", "127.0.0.1", "-p", str(probe.port)],
        env=scrubbed_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    print("waiting (≤240 s) for `mlflow models serve` to answer /ping")
    try:
        while not probe_answers(probe):
            assert process.poll() is None, "mlflow models serve exited"
            assert time.monotonic() < deadline, "mlflow models serve did not answer /ping"
            time.sleep(0.25)
        yield probe
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def probe_answers(probe: ScoringServer) -> bool:
    try:
        return probe.get("/ping", timeout=2.0).status == 200
    except OSError:
        probe._drop_connection()
        return False


def test_the_host_answers_every_request_as_mlflow_models_serve_does(
    served, mlflow_models_serve
) -> None:
    """The early-started host runs MLflow's own scoring app: same status, same body, for the
    good requests and for each malformed one."""
    server, model_dir = served
    example = load_example(model_dir)
    frame = example.frame.astype(object)
    frame[example.numeric_columns[0]] = "not-a-number"
    bodies = {
        "split": example.split_body,
        "records": records_body(example.frame),
        "missing column": records_body(example.frame.drop(columns=example.frame.columns[0])),
        "wrong type": records_body(frame),
        "empty": b"",
        "not JSON": b"{this is not json",
    }
    for name, body in bodies.items():
        ours, theirs = server.post(body), mlflow_models_serve.post(body)
        assert (name, ours.status) == (name, theirs.status)
        assert ours.json() == theirs.json(), name
