"""A new sqlite tracking store, created in a side process while the job does its first work.

MLflow creates a sqlite store by running every schema migration, one commit each: 1.5-2 s,
most of a small training job. When the configured store does not exist yet, `train` starts
this module as a child process at once; the child runs MLflow's own migrations on an
in-memory database (no fsync per migration) and copies the result to a hidden partial file
beside the store, then links it into place. Linking never overwrites, so a store that another
process created meanwhile wins, and the store appears whole or not at all: a partial file is
removed on every exit, SIGTERM included.

The parent waits for the child (bounded, saying what it waits for) only when it is about to
connect. If the child fails or is too slow, it is stopped and MLflow creates the store in the
parent as it always does, so any error is reported there, in the usual one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from mlgate import progress

WAIT_S = 60.0
STOP_WAIT_S = 10.0


def new_sqlite_path(uri: str) -> Path | None:
    """The file a plain `sqlite:///PATH` URI names, if it does not exist yet; else None."""
    if not uri.startswith("sqlite:///"):
        return None
    target = uri.removeprefix("sqlite:///")
    if not target or "?" in target or target.startswith(("file:", ":memory:")):
        return None
    path = Path(target).absolute()
    if path.exists() or not path.parent.is_dir():
        return None
    return path


class Creation:
    """`with Creation.start(uri) as creation: …; creation.wait()`: stopped if left early."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._process: subprocess.Popen[bytes] | None = None
        self._log = None
        if path is not None:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
            self._process = subprocess.Popen(
                command(path),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pending(self) -> bool:
        return self._process is not None

    @classmethod
    def start(cls, uri: str) -> Creation:
        return cls(new_sqlite_path(uri))

    def __enter__(self) -> Creation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait(self, timeout_s: float = WAIT_S) -> bool:
        """Wait for the store to be in place; False (and the child stopped) if it is not."""
        process = self._process
        if process is None:
            return False
        progress.say(f"waiting for the new tracking store {self.path} to be created")
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            progress.say(f"the store was not created within {timeout_s:g} s; creating it here")
            return False
        self._process = None
        if code != 0:
            progress.say(f"the side process could not create the store ({self._last_line()})")
        self._close_log()
        return code == 0

    def stop(self) -> None:
        """Stop the child (it removes its partial file) and wait for it, bounded."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_WAIT_S)
        self._close_log()

    def _last_line(self) -> str:
        if self._log is None:
            return "no output"
        self._log.seek(0)
        lines = [ln.strip() for ln in self._log.read().decode("utf-8", "replace").splitlines()]
        return ([ln for ln in lines if ln] or ["no output"])[-1][:300]

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def command(path: Path) -> list[str]:
    return [sys.executable, "-m", __name__, str(path)]


def create(path: Path) -> bool:
    """Create the store at `path` with MLflow's migrations; False if another process won."""
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables
    from sqlalchemy.pool import StaticPool

    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        engine = sqlalchemy.create_engine("sqlite://", poolclass=StaticPool)
        _initialize_tables(engine)
        source = engine.raw_connection()
        try:
            with contextlib.closing(sqlite3.connect(partial)) as target:
                source.driver_connection.backup(target)
        finally:
            source.close()
            engine.dispose()
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        return True
    finally:
        partial.unlink(missing_ok=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if len(argv) != 1:
        print("usage: python -m mlgate.tracking.newstore PATH", file=sys.stderr)
        return 2
    create(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
