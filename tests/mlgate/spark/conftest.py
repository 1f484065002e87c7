"""One local Spark session for the whole test session: starting the JVM costs seconds, so every
Spark test shares it (the commands use a running session and leave it running)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from support.project import TESTS_DIR


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A `local[2]` session, quiet and without a UI, stopped at the end of the session."""
    from mlgate.spark.session import spark_session

    # Python workers import the tests' plug-ins as a team's installed package would be.
    path = [str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(path)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    with spark_session("local[2]", app="mlgate tests") as session:
        yield session
