"""The serving contract, run on a logged model before it may be registered.

The model is downloaded once and served from disk by MLflow's scoring server in a subprocess:
the example requests must come back equal to in-process `predict`, malformed requests must get
a 4xx while the server keeps serving, and latency is measured through HTTP. The champion, when
there is one, is served the same way so the two latencies are measured alike. Optionally the
logged requirements are installed into a clean environment (slow).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlgate import progress, tasks
from mlgate.errors import UserError
from mlgate.report.document import Latency, Serving, ServingCheck
from mlgate.serving.latency import batch_of, http_latency
from mlgate.serving.requests import (
    Example,
    as_frame,
    bad_requests,
    first_failure,
    good_requests,
    split_body,
)
from mlgate.serving.server import ScoringServer, ServerFailedError

NUMERIC_TYPES = frozenset({"integer", "long", "float", "double"})
PROGRESS_S = 10.0
"""A long child (the clean-environment install) gets a progress line at least this often."""


@dataclass(frozen=True)
class Options:
    """How hard to push: batch size and repeats for latency, and every wait's bound."""

    batch: int = 1000
    repeats: int = 20
    startup_timeout_s: float = 180.0
    request_timeout_s: float = 60.0
    requirements: bool = False


def download(model_uri: str) -> Path:
    """The model's local folder, its `MLmodel` file checked (see `check_mlmodel`)."""
    import mlflow

    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri))
    check_mlmodel(folder)
    return folder


def check_mlmodel(folder: Path) -> None:
    """A model folder whose `MLmodel` is missing or not a YAML mapping is one line naming the
    file, before MLflow parses it (its own errors are long tracebacks)."""
    import yaml

    path = folder / "MLmodel" if folder.is_dir() else folder
    if not path.is_file():
        raise UserError(f"{path}: not found; the model folder is not an MLflow model")
    try:
        with path.open(encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: not a valid MLmodel file ({_yaml_reason(exc)})") from None
    if not isinstance(content, dict) or not isinstance(content.get("flavors"), dict):
        raise UserError(f"{path}: not a valid MLmodel file (no `flavors` mapping)")


def size_of(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _yaml_reason(exc: Exception) -> str:
    """Where and what, without the file name YAML repeats in its message."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join(str(exc).split())[:200]


def load_example(model_dir: Path) -> Example | str:
    """The logged serving example and what the model predicts for it here; or why there is none."""
    import mlflow
    from mlflow.models import Model

    model = Model.load(str(model_dir))
    try:
        raw = model.load_input_example(str(model_dir))
    except Exception as exc:  # any unreadable example is a contract failure
        return f"the logged input example cannot be read ({_line(exc)})"
    if raw is None:
        return "the model was logged without an input example"
    try:
        task, record = tasks.of_model(model.metadata)
    except (UserError, ValueError) as exc:
        return str(exc)
    frame = as_frame(raw)
    serving_file = model_dir / "serving_input_example.json"
    body = serving_file.read_bytes() if serving_file.is_file() else split_body(frame)
    try:
        outputs = mlflow.pyfunc.load_model(str(model_dir)).predict(frame)
        expected = task.as_outputs(outputs, record)
    except Exception:  # the served answer is what the contract reports on
        expected = None
    return Example(frame, expected, _numeric_columns(model, frame), body, task, record)


def _numeric_columns(model: object, frame: pd.DataFrame) -> list[str]:
    inputs = getattr(getattr(model, "signature", None), "inputs", None)
    if inputs is not None and inputs.has_input_names():
        return [
            spec.name for spec in inputs.inputs if getattr(spec.type, "name", "") in NUMERIC_TYPES
        ]
    return [str(c) for c in frame.select_dtypes("number").columns]


def serve_check(
    model_uri: str,
    *,
    champion_uri: str | None,
    options: Options,
    candidate_server: ScoringServer | None = None,
    champion_server: ScoringServer | None = None,
) -> Serving:
    """The whole contract for `model_uri`, with the champion's latency alongside.

    `candidate_server`/`champion_server` are hosts already spawned (see `ScoringServer.spawn`)
    so that their start-up overlapped the caller's work; without them, new ones are started.
    """
    progress.say(f"serving check: downloading {model_uri}")
    model_dir = download(model_uri)
    example = load_example(model_dir)
    if isinstance(example, str):
        check = ServingCheck(name="input example", passed=False, detail=example)
        return Serving(passed=False, checks=[check], failed_request=f"{check.name}: {check.detail}")
    checks: list[ServingCheck] = []
    one = batch = None
    try:
        with _server(model_dir, options, candidate_server) as server:
            progress.say("serving check: example and malformed requests")
            checks += good_requests(server, example)
            checks += bad_requests(server, example)
            if all(c.passed for c in checks):
                progress.say("serving check: latency through HTTP")
                one, batch = _latencies(server, example.frame, options)
    except ServerFailedError as exc:
        checks.append(ServingCheck(name="server start", passed=False, detail=str(exc)))
    if options.requirements and all(c.passed for c in checks):
        checks.append(requirements_check(model_dir, example.frame))
    champion_one = champion_batch = champion_size = None
    if champion_uri is not None:
        champion_one, champion_batch, champion_size = _champion(
            champion_uri, example, options, champion_server
        )
    return Serving(
        passed=all(c.passed for c in checks),
        checks=checks,
        failed_request=first_failure(checks),
        latency_one=one,
        latency_batch=batch,
        champion_latency_one=champion_one,
        champion_latency_batch=champion_batch,
        requirements_checked=(
            next((c.passed for c in checks if c.name == "requirements"), None)
            if options.requirements
            else None
        ),
        model_size_bytes=size_of(model_dir),
        champion_model_size_bytes=champion_size,
    )


class WarmServers:
    """Hosts spawned ahead of the check, so their start-up overlaps training: the candidate's
    at once, the champion's once the store says there is one. Both are stopped on exit."""

    def __init__(self, options: Options, *, enabled: bool = True) -> None:
        self.options = options
        self.enabled = enabled
        self.candidate: ScoringServer | None = None
        self.champion: ScoringServer | None = None

    def __enter__(self) -> WarmServers:
        if self.enabled:
            self.candidate = new_server(self.options).spawn()
        return self

    def spawn_champion(self) -> None:
        if self.enabled and self.champion is None:
            self.champion = new_server(self.options).spawn()

    def __exit__(self, *exc_info: object) -> None:
        for server in (self.candidate, self.champion):
            if server is not None:
                server.stop()


def _server(model_dir: Path, options: Options, spawned: ScoringServer | None) -> ScoringServer:
    if spawned is not None:
        spawned.model_dir = model_dir
        return spawned
    return new_server(options, model_dir)


def new_server(options: Options, model_dir: Path | None = None) -> ScoringServer:
    return ScoringServer(
        model_dir,
        startup_timeout_s=options.startup_timeout_s,
        request_timeout_s=options.request_timeout_s,
    )


def _latencies(
    server: ScoringServer, frame: pd.DataFrame, options: Options
) -> tuple[Latency | None, Latency | None]:
    one = http_latency(server, frame.head(1), options.repeats)
    batch = http_latency(server, batch_of(frame, options.batch), max(3, options.repeats // 4))
    return one, batch


def _champion(
    champion_uri: str, example: Example, options: Options, spawned: ScoringServer | None
) -> tuple[Latency | None, Latency | None, int | None]:
    """The champion's latency on the candidate's requests; None where it cannot serve them."""
    progress.say(f"serving check: the champion ({champion_uri}) for comparison")
    try:
        model_dir = download(champion_uri)
    except Exception:  # a champion we cannot fetch only loses its comparison
        return None, None, None
    size = size_of(model_dir)
    try:
        with _server(model_dir, options, spawned) as server:
            one, batch = _latencies(server, example.frame, options)
    except ServerFailedError:
        return None, None, size
    return one, batch, size


_CLEAN_PREDICT = """
import sys
import mlflow
mlflow.models.predict(sys.argv[1], input_path=sys.argv[2], content_type="json", env_manager="uv")
"""


def requirements_check(
    model_dir: Path, frame: pd.DataFrame, *, timeout_s: float = 1800.0
) -> ServingCheck:
    """The logged requirements install into a fresh uv environment, and the model predicts there.

    `mlflow.models.predict` runs in a child process of its own so that its installer output
    can be kept, and the line that says why it failed can be quoted. uv reuses the interpreter
    that trained the model (no Python downloads) and installs the packages from PyPI (or the
    index `UV_INDEX_URL` names). It never byte-compiles the whole environment
    (`UV_COMPILE_BYTECODE`, which a CI may export for its own install): one prediction
    imports a small part of what it installs.
    """
    import sys
    import tempfile

    from mlgate.serving.server import scrubbed_env

    env = {k: v for k, v in scrubbed_env().items() if k != "UV_COMPILE_BYTECODE"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    progress.say("serving check: installing the logged requirements into a clean environment")
    with tempfile.TemporaryDirectory() as folder:
        request = Path(folder) / "input.json"
        request.write_bytes(split_body(frame))
        done = run_with_progress(
            [sys.executable, "-c", _CLEAN_PREDICT, str(model_dir), str(request)],
            env=env,
            timeout_s=timeout_s,
            what="installing the logged requirements into a clean environment",
        )
    if done is None:
        return ServingCheck(
            name="requirements",
            passed=False,
            detail=f"predict in a clean uv environment did not finish within {timeout_s:g} s",
        )
    if done.returncode != 0:
        return ServingCheck(
            name="requirements",
            passed=False,
            detail=f"predict in a clean uv environment failed: {_cause(done.stderr)}",
        )
    return ServingCheck(
        name="requirements",
        passed=True,
        detail=f"the logged requirements installed into a clean uv environment and the model "
        f"predicted {len(frame)} rows there",
    )


def run_with_progress(
    command: list[str], *, env: dict[str, str], timeout_s: float, what: str
) -> subprocess.CompletedProcess[str] | None:
    """Run a long child, saying every `PROGRESS_S` that it still runs; None past `timeout_s`
    (the child and what it started are killed)."""
    started = time.monotonic()
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its installers are killed with it
    ) as process:
        while True:
            left = timeout_s - (time.monotonic() - started)
            try:
                out, err = process.communicate(timeout=max(0.0, min(PROGRESS_S, left)))
                return subprocess.CompletedProcess(command, process.returncode, out, err)
            except subprocess.TimeoutExpired:
                if time.monotonic() - started >= timeout_s:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.communicate()
                    return None
                progress.say(f"serving check: {what} ({time.monotonic() - started:.0f} s)")


def _cause(output: str) -> str:
    """The telling line of a failed child: its last error line, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line and not line.startswith("Command:")]
    return ((errors or lines or ["no output"])[-1])[:300]


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text or type(exc).__name__)[:300]
