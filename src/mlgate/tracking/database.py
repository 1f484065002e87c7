"""Database tracking stores: a sqlite file opens, a server database (postgresql, mysql,
mssql) has its driver installed and answers, all checked in bounded time before MLflow's own
~100 s of silent retries start."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mlgate import progress
from mlgate.errors import UserError
from mlgate.tracking.connection import (
    PROBE_TIMEOUT_S,
    _is_connection_problem,
    display_uri,
    redact,
    with_retries,
)

DATABASES = frozenset({"postgresql", "mysql", "mssql"})
DRIVER_PACKAGES = {  # the module a database dialect imports -> the package that provides it
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "pymysql": "pymysql",
    "MySQLdb": "mysqlclient",
    "mysql": "mysql-connector-python",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}
CONNECT_TIMEOUT_ARGS = {  # each driver's own name for a connection timeout
    "psycopg2": "connect_timeout",
    "psycopg": "connect_timeout",
    "pymysql": "connect_timeout",
    "mysqldb": "connect_timeout",
    "pyodbc": "timeout",
    "pymssql": "login_timeout",
}


def check_driver(uri: str) -> None:
    """One line naming the database driver to install, not MLflow's ModuleNotFoundError."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = f"MLFLOW_TRACKING_URI {display_uri(uri)!r}"
    try:
        make_url(uri).get_dialect().import_dbapi()
    except ModuleNotFoundError as exc:
        module = (exc.name or "").split(".")[0]
        package = DRIVER_PACKAGES.get(module, module)
        raise UserError(
            f"{shown}: the database driver {module!r} is not installed: add the package "
            f"{package!r} to the environment that runs mlgate (e.g. `uv add {package}`)"
        ) from None
    except (ArgumentError, NoSuchModuleError) as exc:
        raise UserError(f"{shown}: not a database URI SQLAlchemy can use ({exc})") from None


def check_sqlite(uri: str) -> None:
    """Open a sqlite store once, quickly: MLflow retries a store it cannot open for ~100 s."""
    if not uri.startswith("sqlite:///"):
        return
    target = uri.removeprefix("sqlite:///")
    as_uri = target.startswith("file:")
    path = target if as_uri else target.partition("?")[0]
    if path in ("", ":memory:"):
        return
    try:
        if not as_uri:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path, uri=as_uri, timeout=5)) as db:
            db.execute("pragma schema_version").fetchone()
    except (OSError, sqlite3.Error) as exc:
        raise UserError(
            f"tracking store {display_uri(uri)}: cannot open the sqlite database ({exc})"
        ) from None


def probe_engine(uri: str):
    """An engine whose connection attempt ends within PROBE_TIMEOUT_S, pooled nowhere."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    driver = make_url(uri).get_dialect().driver.lower()
    name = CONNECT_TIMEOUT_ARGS.get(driver)
    connect_args = {name: PROBE_TIMEOUT_S} if name else {}
    return create_engine(uri, poolclass=NullPool, connect_args=connect_args)


def probe_database(engine, uri: str) -> None:
    """One bounded connection: unreachable is retried, anything else is one line at once."""
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = " ".join(redact(str(exc.orig or exc)).split())
        if _is_connection_problem(exc):
            raise ConnectionError(reason[:200]) from None
        raise UserError(f"tracking store {display_uri(uri)}: {reason[:300]}") from None


def wait_until_reachable(
    uri: str, retries: int, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Connect once per attempt (each within PROBE_TIMEOUT_S), retrying an unreachable one."""
    engine = probe_engine(uri)
    try:
        probe = lambda: probe_database(engine, uri)  # noqa: E731
        with_retries(probe, what=f"tracking store {display_uri(uri)}", retries=retries, sleep=sleep)
    finally:
        engine.dispose()


LOCK_NOTICE_S = 3.0  # a statement this slow on sqlite is waiting for another process's lock
SQLITE_BUSY_S = 20  # MLflow's own `PRAGMA busy_timeout` for each sqlite statement
_watching: dict[str, bool] = {}


def watch_sqlite_locks(uri: str) -> None:
    """Say so when a statement on the sqlite store waits for a lock another process holds.

    sqlite waits silently (MLflow sets a 20 s busy timeout per statement); a line after
    LOCK_NOTICE_S tells the person at the log what the command is waiting for.
    """
    if not uri.startswith("sqlite:") or _watching.get("on"):
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    _watching["on"] = True
    shown = display_uri(uri)
    timers: dict[int, threading.Timer] = {}

    def notice() -> None:
        progress.say(
            f"tracking store {shown}: waiting for the database lock another process holds "
            f"(up to {SQLITE_BUSY_S} s a statement, then this command fails and ends its run)"
        )

    def start(conn, *_args: object) -> None:
        if conn.dialect.name != "sqlite":
            return
        timer = threading.Timer(LOCK_NOTICE_S, notice)
        timer.daemon = True
        timers[id(conn)] = timer
        timer.start()

    def stop(conn, *_args: object) -> None:
        timer = timers.pop(id(conn), None)
        if timer is not None:
            timer.cancel()

    event.listen(Engine, "before_cursor_execute", start)
    event.listen(Engine, "after_cursor_execute", stop)
    event.listen(Engine, "handle_error", lambda context: stop(context.connection))
