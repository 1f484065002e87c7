"""Connecting to MLflow: the standard MLFLOW_TRACKING_URI, or the embedded sqlite store.

MLflow retries each HTTP call for minutes by default (7 retries, 120 s timeout). A CI job
talking to a server that is down, or to a listener that never answers, should instead fail
within a bound that is written down, with a message that names the server:

- the connection check makes `connect_retries + 1` attempts (default 4) of at most
  `PROBE_TIMEOUT_S` (10 s) each, reply body included (a reply trickling in a byte at a time
  ends there too), with 1, 2, 4 … s between them (capped at 10 s): about 50 s in all with the
  defaults, under a minute. A database store (postgresql, mysql, mssql) gets the same check,
  one connection of at most `PROBE_TIMEOUT_S` per attempt, instead of MLflow's own ~100 s of
  silent retries;
- once connected, MLflow's own calls get `HTTP_DEFAULTS` (15 s timeout, 2 retries), so one call
  to a server that died mid-job fails within about 50 s.

These are defaults only: MLFLOW_HTTP_REQUEST_TIMEOUT, MLFLOW_HTTP_REQUEST_MAX_RETRIES and the
backoff variables set by the user win, for both.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from mlgate import progress
from mlgate.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

DEFAULT_URI = "sqlite:///mlflow.db"
PROBE_TIMEOUT_S = 10
PROBE_ENDPOINT = "/api/2.0/mlflow/experiments/search"
IDENTITY_ENDPOINT = "/api/2.0/mlflow/experiments/get-by-name"
DATABRICKS_VALUES = frozenset({"databricks", "databricks-uc"})  # MLflow's bare forms
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    # MLflow prints "View run at <tracking URI>…", credentials included: the report links runs.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
SCHEMES = frozenset(
    {"http", "https", "sqlite", "postgresql", "mysql", "mssql", "file"}
    | {"databricks", "databricks-uc", "uc"}
)
T = TypeVar("T")


class TrackingUnavailableError(UserError):
    """The tracking server did not answer (as MLflow) after bounded retries."""


def resolve_uri(env: Mapping[str, str] = os.environ) -> str:
    return env.get("MLFLOW_TRACKING_URI", "").strip() or DEFAULT_URI


def display_uri(uri: str) -> str:
    """The URI without credentials, safe for logs, reports and PR comments.

    The user information ends at the authority's LAST '@' (a password may hold an '@'), as
    in RFC 3986 parsers and `urllib`; the authority ends at the first '/', '?' or '#'.
    """
    return re.sub(r"(?<=://)[^/?#\s]*@", "", uri)


def _uri_secrets(env: Mapping[str, str]) -> list[str]:
    """The password in MLFLOW_TRACKING_URI, as written and percent-decoded."""
    try:
        authority = urlsplit(env.get("MLFLOW_TRACKING_URI", "").strip()).netloc
    except ValueError:  # unparseable: the error line shows it through display_uri
        return []
    userinfo = authority.rpartition("@")[0]
    password = userinfo.partition(":")[2]
    return [password, unquote(password)] if password else []


def redact(text: str, env: Mapping[str, str] = os.environ) -> str:
    """`text` with URL credentials and MLflow's secret values removed, for any output line."""
    text = display_uri(text)
    secrets = [env.get(name, "") for name in ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")]
    for secret in sorted(secrets + _uri_secrets(env), key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, "***")
    return text


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "databricks"))


def check_uri(uri: str, env: Mapping[str, str] = os.environ) -> None:
    """A one-line error for a tracking URI MLflow would reject with a traceback (or misread)."""
    shown = f"MLFLOW_TRACKING_URI {display_uri(uri)!r}"
    hint = "expected e.g. http://host:5000, https://host or sqlite:///mlflow.db"
    if uri in DATABRICKS_VALUES:
        return
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (parsing the port validates it)
    except ValueError as exc:
        raise UserError(f"{shown}: not a valid URI ({exc}); {hint}") from None
    scheme = parts.scheme.lower().split("+")[0]
    if not parts.scheme or len(parts.scheme) == 1:  # no scheme, or a Windows drive letter
        if env.get("MLFLOW_ALLOW_FILE_STORE", "").lower() in ("1", "true"):
            return
        raise UserError(f"{shown}: not a URI (no scheme); {hint}")
    if scheme not in SCHEMES:
        raise UserError(
            f"{shown}: unsupported scheme {parts.scheme!r} (MLflow supports "
            f"{', '.join(sorted(SCHEMES))}); {hint}"
        )
    if scheme in ("http", "https") and not parts.hostname:
        raise UserError(f"{shown}: no host; {hint}")
    from mlgate.tracking import database

    if scheme in database.DATABASES:
        database.check_driver(uri)


_SET_BY_US: dict[str, str] = {}


def bound_http() -> None:
    """Give MLflow's HTTP calls the bounded defaults above, unless the user set their own."""
    for name, value in HTTP_DEFAULTS.items():
        if name not in os.environ:
            os.environ[name] = _SET_BY_US[name] = value


def connect(uri: str, retries: int, *, sleep: Callable[[float], None] = time.sleep) -> MlflowClient:
    """Point MLflow at `uri` and check it answers as MLflow, within the bound above."""
    from mlgate.tracking import database

    check_uri(uri)
    database.check_sqlite(uri)
    database.watch_sqlite_locks(uri)
    bound_http()
    timeout = PROBE_TIMEOUT_S
    if _SET_BY_US.get("MLFLOW_HTTP_REQUEST_TIMEOUT") != os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"]:
        timeout = int(os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"])  # the user's own choice
    import mlflow

    what = f"tracking server {display_uri(uri)}"
    # Probed before the client exists: MLflow's client opens a database store as it is built,
    # retrying an unreachable one silently for about 100 s.
    http = uri.startswith(("http://", "https://"))
    is_database = urlsplit(uri).scheme.lower().split("+")[0] in database.DATABASES
    if http:
        with_retries(lambda: _probe(uri, timeout), what=what, retries=retries, sleep=sleep)
    elif is_database:
        database.wait_until_reachable(uri, retries, sleep)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    if is_remote(uri) and not (http or is_database):
        probe = lambda: client.search_experiments(max_results=1)  # noqa: E731
        with_retries(probe, what=what, retries=retries, sleep=sleep)
    return client


def _get(uri: str, endpoint: str, params: dict[str, object], timeout: int):
    """One GET with no retries, its body read by `timeout` seconds after it was sent."""
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    from mlgate.deadline import read_body

    deadline = time.monotonic() + timeout
    response = http_request(
        get_default_host_creds(uri),
        endpoint,
        "GET",
        params=params,
        max_retries=0,
        timeout=timeout,
        raise_on_status=False,
        stream=True,
    )
    return read_body(response, deadline)


def _probe(uri: str, timeout: int) -> None:
    """Bounded requests MLflow's server answers as MLflow; anything else says what it is."""
    response = _get(uri, PROBE_ENDPOINT, {"max_results": 1}, timeout)
    status = response.status_code
    if status in (401, 403):
        raise UserError(
            f"tracking server {display_uri(uri)} refused the credentials ({status}): check "
            "MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN"
        )
    if status in (429, 500, 502, 503, 504):
        raise ConnectionError(f"server answered {status}")
    kind = response.headers.get("content-type", "?").split(";")[0]
    try:
        body = response.json()
    except ValueError:
        body = None
    not_mlflow = (
        f"tracking server {display_uri(uri)} answers HTTP but not as an MLflow tracking server"
    )
    if status != 200 or not isinstance(body, dict):
        raise NotMlflowError(
            f"{not_mlflow} (GET {PROBE_ENDPOINT}: {status}, {kind}); check MLFLOW_TRACKING_URI"
        )
    if isinstance(body.get("experiments"), list) and body["experiments"]:
        return
    # No experiment listed (a new server, or one answering `{}` to everything): MLflow answers
    # a lookup of an experiment that cannot exist with its error JSON, never with a success.
    name = f"mlgate-probe-{uuid.uuid4().hex}"
    reply = _get(uri, IDENTITY_ENDPOINT, {"experiment_name": name}, timeout)
    try:
        error = reply.json()
    except ValueError:
        error = None
    if reply.status_code >= 500:
        raise ConnectionError(f"server answered {reply.status_code}")
    if reply.status_code < 400 or not isinstance(error, dict) or "error_code" not in error:
        raise NotMlflowError(
            f"{not_mlflow} (it lists no experiments, and GET {IDENTITY_ENDPOINT} for a "
            f"missing one answered {reply.status_code}, not MLflow's error); check "
            "MLFLOW_TRACKING_URI"
        )


class NotMlflowError(TrackingUnavailableError):
    """Something answers at the URI, but it is not an MLflow tracking server."""


def with_retries(
    call: Callable[[], T], *, what: str, retries: int, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `call`, retrying connection failures; afterwards a one-line error naming `what`."""
    from mlflow.exceptions import MlflowException
    from requests.exceptions import RequestException

    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            progress.say(f"{what}: attempt {attempt}/{attempts}")
        try:
            return call()
        except (MlflowException, RequestException, OSError) as exc:
            if not _is_connection_problem(exc):
                raise
            if attempt == attempts:
                raise TrackingUnavailableError(
                    f"{what} is unreachable after {attempt} attempt(s): {short_reason(exc)}"
                ) from None
            delay = min(2.0 ** (attempt - 1), 10.0)
            progress.say(f"{what}: {short_reason(exc)}; retrying in {delay:.0f} s")
            sleep(delay)
    raise AssertionError("unreachable")


def _is_connection_problem(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    text = str(exc).lower()
    return any(
        word in text
        for word in (
            "connection",
            "max retries",
            "timed out",
            "timeout",
            "refused",
            "unreachable",
            "503",
            "name or service not known",
            "database is locked",  # another process holds a sqlite store's lock: it passes
        )
    )


def short_reason(exc: BaseException) -> str:
    text = " ".join(redact(str(exc)).split())
    match = re.search(
        r"(Connection refused|Name or service not known|timed out|Read timed out|"
        r"Remote end closed connection[^)'\"]*|Connection reset by peer|server answered \d+|"
        r"database is locked)",
        text,
    )
    return match.group(1) if match else progress.shorten(text, 200)


def describe_failure(exc: BaseException) -> str | None:
    """One line for an MLflow, store or network failure escaping a command; None otherwise.

    MLflow's exceptions carry whole response bodies, and network errors a chain of causes;
    the person running the command needs which store failed and the reason.
    """
    import sys

    kinds: list[type[BaseException]] = []
    if "mlflow" in sys.modules:
        from mlflow.exceptions import MlflowException

        kinds.append(MlflowException)
    if "requests" in sys.modules:
        from requests.exceptions import RequestException

        kinds.append(RequestException)
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import SQLAlchemyError

        kinds.append(SQLAlchemyError)
    if not isinstance(exc, tuple(kinds)):
        return None
    where = f"tracking store {display_uri(resolve_uri())}"
    if _is_connection_problem(exc):
        return f"{where} failed mid-command: {short_reason(exc)}"
    text = " ".join(redact(str(exc)).split())
    text = re.sub(r"\s*\[SQL: .*", "", text)
    text = re.sub(r"\s*\(Background on this error at: .*", "", text)
    return f"{where}: {progress.shorten(text, 300)}"
