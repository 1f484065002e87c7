"""MLflow's own scoring app, served from a subprocess (`serving.host`) on 127.0.0.1.

A subprocess, not the app in this process: the check must fail when the model needs a module
that only this process can import (a class defined in a test or a notebook, a package missing
from the model's code paths). The process can be spawned early (`spawn`), so that it imports
MLflow while the model is still being fitted, and given the model's folder later (`start`).
Every wait is bounded and names what it waits for; the server's whole process group is
stopped on exit, so no uvicorn worker outlives the check.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from mlgate import progress

JSON = "application/json"
# The scoring server needs none of the tracking credentials: the model is served from disk.
_SCRUBBED_PREFIXES = ("MLFLOW_TRACKING_", "MLFLOW_REGISTRY_", "GITHUB_TOKEN")


class ServerFailedError(Exception):
    """The scoring server did not come up; the message is its own last words."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self, limit: int = 200) -> str:
        """The response in one line: MLflow's error message when there is one."""
        try:
            payload = self.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "message" in payload:
            text = str(payload["message"])
            if "Error: " in text:
                text = text.rsplit("Error: ", 1)[1]
        else:
            text = self.body.decode("utf-8", "replace")
        return " ".join(text.split())[:limit]


class ScoringServer:
    """`with ScoringServer(model_dir) as server: server.post(body)` on 127.0.0.1."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        startup_timeout_s: float = 180.0,
        request_timeout_s: float = 60.0,
    ) -> None:
        self.model_dir = model_dir
        self.startup_timeout_s = startup_timeout_s
        self.request_timeout_s = request_timeout_s
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self._connection: http.client.HTTPConnection | None = None
        self._previous_sigterm: Any = None

    def __enter__(self) -> ScoringServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def spawn(self) -> ScoringServer:
        """Start the host process; it imports MLflow and waits for a model folder on stdin."""
        if self._process is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "mlgate.serving.host", str(self.port)],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE,
                env=scrubbed_env(),
                cwd=tempfile.gettempdir(),
                start_new_session=True,
            )
        return self

    def start(self, model_dir: Path | None = None) -> None:
        """Serve `model_dir` (or the folder given at construction) and wait until it answers."""
        self.model_dir = model_dir or self.model_dir
        if self.model_dir is None:
            raise ValueError("no model folder to serve")
        self._hold_sigterm()
        process = self.spawn()._process
        if process is None or process.stdin is None:
            raise ServerFailedError("the scoring server process could not be started")
        try:
            process.stdin.write(f"{self.model_dir}\n".encode())
            process.stdin.flush()
        except BrokenPipeError:
            raise ServerFailedError(f"the scoring server exited: {self.last_words()}") from None
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        progress.say(f"waiting for the scoring server on 127.0.0.1:{self.port} (/ping)")
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ServerFailedError(f"the scoring server exited: {self.last_words()}")
            try:
                if self.get("/ping", timeout=2.0).status == 200:
                    return
            except OSError:
                self._drop_connection()
            time.sleep(0.25)
        raise ServerFailedError(
            f"the scoring server did not answer /ping within {self.startup_timeout_s:g} s "
            f"({self.last_words()})"
        )

    def alive(self) -> bool:
        """The process runs and answers /ping."""
        if self._process is None or self._process.poll() is not None:
            return False
        try:
            return self.get("/ping", timeout=10.0).status == 200
        except OSError:
            self._drop_connection()
            return False

    def last_words(self) -> str:
        """The most telling line of the server's output: its last error, else its last line."""
        self._log.seek(0)
        lines = [ln.strip() for ln in self._log.read().decode("utf-8", "replace").splitlines()]
        lines = [ln for ln in lines if ln]
        errors = [ln for ln in lines if "Error" in ln or "error" in ln]
        chosen = (errors or lines or ["no output"])[-1]
        return chosen[:300]

    def post(self, body: bytes, content_type: str = JSON) -> Response:
        return self._request("POST", "/invocations", body, content_type, self.request_timeout_s)

    def get(self, path: str, timeout: float) -> Response:
        return self._request("GET", path, None, None, timeout)

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        timeout: float,
    ) -> Response:
        """One request over a kept-alive connection (reopened once if the server closed it)."""
        headers = {"Content-Type": content_type} if content_type else {}
        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port)
            self._connection.timeout = timeout
            if self._connection.sock is not None:
                self._connection.sock.settimeout(timeout)
            try:
                self._connection.request(method, path, body=body, headers=headers)
                answer = self._connection.getresponse()
                return Response(answer.status, answer.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop_connection()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _hold_sigterm(self) -> None:
        """The server runs in a session of its own (so a terminal's Ctrl-C reaches only us), so
        a SIGTERM to this process (a cancelled CI job) must unwind through `stop` too."""
        self._previous_sigterm = None
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)

    def stop(self) -> None:
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None
        self._drop_connection()
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            _signal_group(process, signal.SIGTERM)
            if not _group_gone(process, timeout_s=15):
                _signal_group(process, signal.SIGKILL)
                _group_gone(process, timeout_s=15)
        self._log.close()


def scrubbed_env() -> dict[str, str]:
    """This environment without tracking credentials, with this interpreter's `bin` first on
    PATH (MLflow starts uvicorn and uv through a shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _group_gone(process: subprocess.Popen[bytes], *, timeout_s: float) -> bool:
    """Wait (bounded) until every process of the server's group has exited: `mlflow models
    serve` starts uvicorn's workers as children, which hold the port after their parent."""
    deadline = time.monotonic() + timeout_s
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        time.sleep(0.1)
    return False


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
