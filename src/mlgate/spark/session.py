"""A Spark session for one command: started quietly and within a bound, stopped on every exit.

Local mode (`local[*]`) needs only PySpark and a Java runtime; `--spark-master` names any
cluster's master, and `SPARK_REMOTE` (Spark Connect) is honoured as PySpark honours it. A
session the caller already runs (a notebook's, a test session's) is used and left running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import progress
from mlgate.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

START_TIMEOUT_S = 180.0
INSTALL_HINT = "uv sync --extra spark (or pip install 'mlgate[spark]')"
QUIET = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "WARN",
    "spark.sql.session.timeZone": "UTC",
    # Columns brought to the driver (monitor's performance check) travel as Arrow batches.
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def pyspark_session_class() -> type[SparkSession]:
    """PySpark's `SparkSession`; one line naming the extra when PySpark is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError(
            f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}"
        ) from None
    return SparkSession


def java_runtime() -> str:
    """The `java` Spark's local mode and classic clusters' drivers start; one line if none."""
    home = os.environ.get("JAVA_HOME", "").strip()
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise UserError(
            "--engine spark needs a Java runtime (17 or later) to start Spark: none in "
            "JAVA_HOME or on PATH (install one, e.g. apt-get install openjdk-17-jre-headless)"
        )
    return found


@contextlib.contextmanager
def spark_session(
    master: str | None, *, app: str = "mlgate", start_timeout_s: float = START_TIMEOUT_S
) -> Iterator[SparkSession]:
    """A running session: the caller's active one, else a new one stopped when done."""
    session_class = pyspark_session_class()
    active = session_class.getActiveSession()
    if active is not None:
        yield active
        return
    remote = os.environ.get("SPARK_REMOTE", "").strip()
    if not remote:
        java_runtime()
        # Local mode's Python workers run this interpreter (it has the model's libraries).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = session_class.builder.appName(app)
    for key, value in QUIET.items():
        builder = builder.config(key, value)
    if master:
        builder = builder.master(master)
    elif not remote:
        builder = builder.master("local[*]")
    where = master or (f"Spark Connect at {remote}" if remote else "local[*]")
    progress.say(f"starting a Spark session ({where})")
    spark = _bounded(builder.getOrCreate, start_timeout_s, f"a Spark session ({where})")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
            yield spark
    finally:
        spark.stop()


def _bounded(start: Any, timeout_s: float, what: str) -> Any:
    """`start()` within `timeout_s`, or one line saying what did not start."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcome["value"] = start()
        except Exception as exc:  # reported below, in one line
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="spark-start", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise UserError(f"{what} did not start within {timeout_s:g} s")
    if "error" in outcome:
        raise UserError(f"{what} did not start: {one_line(outcome['error'])}")
    return outcome["value"]


def one_line(exc: BaseException) -> str:
    """The telling line of a Spark error: the last non-empty line naming an error, short."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return ((errors or lines or [type(exc).__name__])[-1])[:300]
