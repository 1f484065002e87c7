"""Connecting to MLflow: the standard MLFLOW_TRACKING_URI, or the embedded sqlite store.

MLflow retries HTTP calls for minutes by default; a CI job talking to a server that is down
should instead fail after a few bounded attempts with a message that names the server.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from trip_duration import progress
from trip_duration.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

DEFAULT_URI = "sqlite:///mlflow.db"
T = TypeVar("T")


class TrackingUnavailableError(UserError):
    """The tracking server did not answer after bounded retries."""


def resolve_uri(env: Mapping[str, str] = os.environ) -> str:
    return env.get("MLFLOW_TRACKING_URI", "").strip() or DEFAULT_URI


def display_uri(uri: str) -> str:
    """The URI without credentials, safe for logs, reports and PR comments."""
    return re.sub(r"(?<=://)[^/@]*@", "", uri)


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "databricks"))


def connect(uri: str, retries: int, *, sleep: Callable[[float], None] = time.sleep) -> MlflowClient:
    """Point MLflow at `uri` and check it answers, with `retries` bounded retries."""
    for name, value in (
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(retries)),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "30"),
    ):
        os.environ.setdefault(name, value)
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    if is_remote(uri):
        with_retries(
            lambda: client.search_experiments(max_results=1),
            what=f"tracking server {display_uri(uri)}",
            retries=retries,
            sleep=sleep,
        )
    return client


def with_retries(
    call: Callable[[], T], *, what: str, retries: int, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `call`, retrying connection failures; afterwards a one-line error naming `what`."""
    from mlflow.exceptions import MlflowException
    from requests.exceptions import RequestException

    for attempt in range(retries + 1):
        try:
            return call()
        except (MlflowException, RequestException, OSError) as exc:
            if not _is_connection_problem(exc) or attempt == retries:
                if _is_connection_problem(exc):
                    raise TrackingUnavailableError(
                        f"{what} is unreachable after {attempt + 1} attempt(s): {_short(exc)}"
                    ) from None
                raise
            wait = min(2.0**attempt, 10.0)
            progress.say(f"{what} did not answer; retry {attempt + 1}/{retries} in {wait:.0f} s…")
            sleep(wait)
    raise AssertionError("unreachable")


def _is_connection_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        word in text
        for word in ("connection", "max retries", "timed out", "refused", "unreachable", "503")
    )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    match = re.search(r"(Connection refused|Name or service not known|timed out)", text)
    return match.group(1) if match else text[:200]
