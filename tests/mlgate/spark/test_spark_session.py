"""Without PySpark or without Java, `--engine spark` is one line saying what to install; the
spark modules import PySpark only when a session is asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.errors import UserError
from mlgate.spark import session


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(UserError) as error, session.spark_session(None):
        pass
    message = str(error.value)
    assert "\n" not in message
    assert "uv sync --extra spark" in message
    assert "mlgate[spark]" in message


@pytest.mark.parametrize("java_home", ["", "/nowhere/jdk"])
def test_missing_java_is_one_line(
    java_home: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", java_home)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError) as error:
        session.java_runtime()
    assert "\n" not in str(error.value)
    assert "Java runtime" in str(error.value)


def test_a_java_in_java_home_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    assert session.java_runtime() == str(java)


def test_a_start_that_hangs_is_bounded_and_says_what_it_waited_for() -> None:
    def hang() -> None:
        import time

        time.sleep(5)

    with pytest.raises(UserError, match=r"a Spark session \(local\[2\]\) did not start within"):
        session._bounded(hang, 0.05, "a Spark session (local[2])")


def test_a_start_that_fails_is_its_last_error_line() -> None:
    def fail() -> None:
        raise RuntimeError("launching\njava.net.BindException: Address already in use\n")

    with pytest.raises(UserError) as error:
        session._bounded(fail, 5, "a Spark session (local[2])")
    assert str(error.value).endswith(
        "did not start: java.net.BindException: Address already in use"
    )


@pytest.mark.slow  # a fresh interpreter
def test_the_cli_and_spark_modules_import_without_pyspark() -> None:
    code = (
        "import sys, mlgate.cli, mlgate.serving.command, mlgate.spark.command, "
        "mlgate.spark.session, mlgate.spark.predict, mlgate.spark.drift\n"
        "assert 'pyspark' not in sys.modules, 'pyspark imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
