"""The tracking connection under faults, driven through the real CLI: malformed URIs, a server
that is not MLflow, a port nobody listens on, a listener that never answers, a read-only store,
a server that dies during `train` and comes back, credentials in the URI, and what is left in
the temporary folder."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.report.document import load_report
from support.mlflow_server import MlflowServer, free_port
from support.outage_proxy import MisbehavingServer, OutageProxy
from support.project import Project
from support.stores import sqlite_store

SECRET = "s3cr3t-Passw0rd"
LISTENER_BOUND_S = 60.0
"""The documented bound on waiting for a tracking server that never answers."""


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_line_error(stderr: str, *needles: str) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr[-3000:]
    noise = [line for line in stderr.splitlines() if line and not line.startswith(("[", "error:"))]
    assert noise == [], "only progress lines and the one error line"
    for needle in needles:
        assert needle in errors[0]
    return errors[0]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with its train and validation files; tracking comes from the environment."""
    return Project.create(tmp_path / "project", "", tracking="connect_retries = 3\n")


def run_cli(
    project: Project, *args: str, uri: str, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """`mlgate --config … ARGS` as its own process, as a workflow step runs it."""
    full = {**project.process_env(), "MLFLOW_TRACKING_URI": uri, **env}
    return subprocess.run(
        [sys.executable, "-m", "mlgate.cli", "--config", str(project.config), *args],
        cwd=project.root,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def plain_http(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP file server: it answers, but it is not MLflow."""
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>It works</h1>", encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A port that accepts TCP connections (the kernel completes them) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("uri", "needle"),
    [
        pytest.param("htp://127.0.0.1:5000", "unsupported scheme 'htp'", id="typo-scheme"),
        pytest.param("http://[::1", "not a valid URI", id="broken-ipv6"),
        pytest.param("mlflow", "not a URI", id="plain-word"),
        pytest.param("http://", "no host", id="no-host"),
        pytest.param("http://127.0.0.1:port", "not a valid URI", id="bad-port"),
    ],
)
def test_malformed_tracking_uri_is_one_line(
    project: Project, uri: str, needle: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    project.enter(monkeypatch)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    code = project.cli("rollback")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, "MLFLOW_TRACKING_URI", needle)
    assert not (project.root / uri).exists(), "a plain word is not made into a file store"


@pytest.mark.slow
def test_a_server_that_is_not_mlflow_is_one_line(project: Project, plain_http: str) -> None:
    done = run_cli(project, "rollback", uri=plain_http)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, plain_http, "not as an MLflow tracking server")


@pytest.mark.slow
def test_fallback_local_falls_back_from_a_server_that_is_not_mlflow(
    project: Project, plain_http: str, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "report.json"
    done = run_cli(project, "train", "--fallback-local", "--report", str(report), uri=plain_http)
    assert done.returncode == 0, done.stderr[-3000:]
    skipped = load_report(report).comparison
    assert not skipped.performed
    assert "not as an MLflow tracking server" in (skipped.skipped_reason or "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "bound_s"),
    [
        pytest.param({}, LISTENER_BOUND_S, id="defaults"),
        pytest.param({"MLFLOW_HTTP_REQUEST_TIMEOUT": "2"}, 25.0, id="user-timeout-wins"),
    ],
)
def test_a_listener_that_never_answers_is_a_bounded_wait(
    project: Project,
    silent_listener: str,
    env: dict[str, str],
    bound_s: float,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Timed in-process, so the bound is the wait itself, not a busy machine's start-up."""
    project.enter(monkeypatch, MLFLOW_TRACKING_URI=silent_listener, **env)
    started = time.monotonic()
    code = main(["--config", str(project.config), "train"])  # with its progress lines
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1
    assert_one_line_error(err, silent_listener, "unreachable after 4 attempt(s)")
    assert f"tracking server {silent_listener}: attempt 2/4" in err, "says what it waits for"
    assert took < bound_s


@pytest.mark.slow
@pytest.mark.parametrize(
    ("exists", "needle"),
    [
        pytest.param(True, "readonly database", id="read-only"),
        pytest.param(False, "cannot open the sqlite database", id="read-only-and-missing"),
    ],
)
def test_a_read_only_store_is_one_line(
    project: Project, tmp_path_factory: pytest.TempPathFactory, exists: bool, needle: str
) -> None:
    store = sqlite_store(tmp_path_factory, "read-only")
    path = Path(store.removeprefix("sqlite:///"))
    if not exists:
        path = path.with_name("missing.db")
    started = time.monotonic()
    done = run_cli(project, "rollback", uri=f"sqlite:///file:{path}?mode=ro&uri=true")
    assert time.monotonic() - started < 60, "MLflow retries a store it cannot open for ~100 s"
    assert done.returncode == 1
    line = assert_one_line_error(done.stderr, needle)
    assert "[SQL:" not in line


@pytest.mark.slow
def test_rollback_to_a_deleted_version_is_one_line(
    project: Project, tmp_path_factory: pytest.TempPathFactory, monkeypatch, capsys
) -> None:
    from mlflow import MlflowClient

    store = sqlite_store(tmp_path_factory, "deleted-version")
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    client.create_registered_model(project.name)
    first = client.create_model_version(project.name, source="file:///models/a").version
    second = client.create_model_version(
        project.name, source="file:///models/b", tags={"replaced_version": str(first)}
    ).version
    client.set_registered_model_alias(project.name, "champion", second)
    client.delete_model_version(project.name, first)

    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    code = project.cli("rollback")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, f"v{first}", "no longer exists")
    assert client.get_registered_model(project.name).aliases == {"champion": second}


@pytest.mark.slow
def test_server_lost_during_train_is_one_line_and_the_run_ends_failed(
    project: Project, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """The server goes away right after the run starts, and is back a few seconds later."""
    from mlflow import MlflowClient

    report = tmp_path / "report.json"
    with OutageProxy(mlflow_server.url, trigger=r"/runs/log-", outage_s=10) as proxy:
        uri = proxy.url.replace("http://", f"http://ci:{SECRET}@")
        started = time.monotonic()
        done = run_cli(project, "train", "--report", str(report), uri=uri)
        took = time.monotonic() - started
    assert proxy.triggered_at is not None, "the outage happened during train"
    assert done.returncode == 1
    assert_one_line_error(done.stderr, proxy.url)
    assert SECRET not in done.stdout + done.stderr
    assert took < 120
    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment = client.get_experiment_by_name(project.name)
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.status for run in runs] == ["FAILED"]
    assert client.search_model_versions(f"name = '{project.name}'") == []
    assert not report.exists()


@pytest.mark.slow
def test_credentials_in_the_uri_never_reach_the_output(
    project: Project, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    uri = mlflow_server.url.replace("http://", f"http://ci:{SECRET}@")
    report = tmp_path / "report.json"
    done = run_cli(project, "train", "--report", str(report), uri=uri)
    assert done.returncode == 0, done.stderr[-3000:]
    assert SECRET not in done.stdout + done.stderr
    assert SECRET not in report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_fallback_store_and_model_downloads_leave_nothing_in_the_temp_folder(
    project: Project, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    closed = f"http://127.0.0.1:{free_port()}"
    report = tmp_path / "report.json"
    done = run_cli(
        project, "train", "--fallback-local", "--report", str(report), uri=closed, TMPDIR=str(temp)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not load_report(report).comparison.performed
    with contextlib.suppress(FileNotFoundError):
        left = sorted(p.name for p in temp.iterdir())
        assert left == [], "the ephemeral store and model downloads are removed"


# -- credentials ---------------------------------------------------------------------------

AT_PASSWORD = "s3c@r3tPW-0"  # a password holding an '@': the userinfo ends at the LAST '@'
SECRET_PARTS = ("s3c", "r3tPW", AT_PASSWORD)


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        pytest.param(f"http://alice:{AT_PASSWORD}@h:5000/p", "http://h:5000/p", id="at-in-pw"),
        pytest.param("http://a@b:c@d@h:5000", "http://h:5000", id="several-ats"),
        pytest.param(f"https://alice:{AT_PASSWORD}@h?x=1", "https://h?x=1", id="query"),
        pytest.param("http://h:5/users/me@example", "http://h:5/users/me@example", id="at-in-path"),
        pytest.param(
            f"postgresql://ci:{AT_PASSWORD}@db:5432/mlflow", "postgresql://db:5432/mlflow",
            id="database",
        ),
    ],
)  # fmt: skip
def test_display_uri_drops_every_part_of_a_password_with_an_at(uri: str, shown: str) -> None:
    from mlgate.tracking.connection import display_uri, redact

    assert display_uri(uri) == shown
    env = {"MLFLOW_TRACKING_URI": uri}
    line = redact(f"tracking server {uri} (attempt 2/4): {display_uri(uri)} refused", env)
    assert not any(part in line for part in SECRET_PARTS), line
    if AT_PASSWORD in uri:  # also where a message quotes it outside a URI, decoded or not
        assert AT_PASSWORD not in redact(f"password {AT_PASSWORD!r} rejected", env)


@pytest.mark.slow
@pytest.mark.parametrize("password", [SECRET, AT_PASSWORD], ids=["plain", "with-at"])
def test_credentials_never_reach_progress_report_or_retry_lines(
    project: Project, mlflow_server: MlflowServer, tmp_path: Path, password: str
) -> None:
    report = tmp_path / "report.json"
    uri = mlflow_server.url.replace("http://", f"http://ci:{password}@")
    done = run_cli(project, "train", "--report", str(report), uri=uri)
    assert done.returncode == 0, done.stderr[-3000:]
    closed = f"http://ci:{password}@127.0.0.1:{free_port()}"
    retried = run_cli(project, "rollback", uri=closed)
    assert "attempt 2/4" in retried.stderr, "the retry lines are there to be read"
    shown = done.stdout + done.stderr + report.read_text(encoding="utf-8")
    shown += retried.stdout + retried.stderr
    for part in (password, *(p for p in password.split("@") if len(p) > 2)):
        assert part not in shown


# -- waits ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("command", [["promote", "--version", "1"], ["rollback"], ["train"]])
def test_unreachable_server_is_a_clear_bounded_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    project = Project.create(tmp_path, f"http://127.0.0.1:{free_port()}")
    project.enter(monkeypatch)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    started = time.monotonic()
    assert project.cli(*command) == 1
    err = capsys.readouterr().err.strip()
    assert len([line for line in err.splitlines() if not line.startswith("[")]) == 1, err
    assert "unreachable" in err, err
    assert "127.0.0.1" in err, err
    assert time.monotonic() - started < 60
    assert not (tmp_path / "reports").exists()
    assert not (tmp_path / "mlruns").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["train", "rollback"])
def test_a_server_answering_empty_json_is_not_taken_for_mlflow(
    project: Project, command: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A catch-all `{}` passed the probe: `rollback` then polled silently for minutes."""
    with MisbehavingServer("empty-json") as fake:
        project.enter(monkeypatch, MLFLOW_TRACKING_URI=fake.url)
        started = time.monotonic()
        code = main(["--config", str(project.config), command])
        took = time.monotonic() - started
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, fake.url, "not as an MLflow tracking server")
    assert took < 30


@pytest.mark.slow
def test_a_probe_reply_that_trickles_is_a_bounded_wait(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Headers, then a byte a second: each probe ends at its timeout (2 s here), body included."""
    with MisbehavingServer("trickle", pause_s=1.0) as fake:
        project.enter(monkeypatch, MLFLOW_TRACKING_URI=fake.url, MLFLOW_HTTP_REQUEST_TIMEOUT="2")
        started = time.monotonic()
        code = main(["--config", str(project.config), "train"])
        took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1
    assert_one_line_error(err, fake.url, "unreachable after 4 attempt(s)", "timed out")
    assert f"tracking server {fake.url}: attempt 2/4" in err, "says what it waits for"
    assert took < 25.0


@pytest.mark.slow
def test_an_unreachable_database_store_is_a_bounded_wait_that_says_so(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """MLflow retried a database it cannot reach for ~100 s, silently."""
    uri = f"postgresql://ci:{AT_PASSWORD}@127.0.0.1:1/mlflow"
    project.enter(monkeypatch, MLFLOW_TRACKING_URI=uri)
    started = time.monotonic()
    code = main(["--config", str(project.config), "rollback"])
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1
    shown = "postgresql://127.0.0.1:1/mlflow"
    assert_one_line_error(err, f"tracking store {shown}", "unreachable after 4 attempt(s)")
    assert f"tracking store {shown}: attempt 2/4" in err
    assert not any(part in err for part in SECRET_PARTS)
    assert took < LISTENER_BOUND_S


# -- stores MLflow accepts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "module", "package"),
    [
        pytest.param("mysql://ci:pw@127.0.0.1/mlflow", "MySQLdb", "mysqlclient", id="mysql"),
        pytest.param("mysql+pymysql://ci:pw@127.0.0.1/mlflow", "pymysql", "pymysql", id="pymysql"),
        pytest.param("mssql://ci:pw@127.0.0.1/mlflow", "pyodbc", "pyodbc", id="mssql"),
    ],
)
def test_a_database_store_without_its_driver_is_one_line_naming_it(
    project: Project, uri: str, module: str, package: str, monkeypatch, capsys
) -> None:
    project.enter(monkeypatch, MLFLOW_TRACKING_URI=uri)
    code = project.cli("rollback")
    assert code == 1
    line = assert_one_line_error(capsys.readouterr().err, "MLFLOW_TRACKING_URI", repr(module))
    assert f"uv add {package}" in line
    assert "pw" not in line.replace("ci:", "")


@pytest.mark.parametrize("uri", ["databricks", "databricks-uc", "databricks://ci-profile"])
def test_mlflows_databricks_values_are_accepted(uri: str) -> None:
    from mlgate.tracking.connection import check_uri

    check_uri(uri)  # raises on a value MLflow would not accept


@pytest.mark.slow
def test_fallback_local_says_it_fell_back_and_that_nothing_is_kept(
    project: Project, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    report = tmp_path / "report.json"
    done = run_cli(project, "train", "--fallback-local", "--report", str(report), uri=closed)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    last = next(i for i, line in enumerate(lines) if "attempt 4/4" in line)
    fallback = lines[last + 1]
    assert "falling back to a temporary tracking store" in fallback
    assert "nothing it registers is kept" in fallback

    def seconds(line: str) -> float:
        return float(line[1:].split("s]", 1)[0])

    assert seconds(fallback) - seconds(lines[last]) < 5.0, "no silence after the last attempt"
    assert "nothing is kept" in done.stdout
    assert "gate passes" not in done.stdout


LOCK_HOLDER = """
import sqlite3, sys, time
path, hold = sys.argv[1], float(sys.argv[2])
db = sqlite3.connect(path, timeout=0.5, isolation_level=None)
deadline = time.monotonic() + 300
while time.monotonic() < deadline:  # until train's run has started
    try:
        if db.execute("select count(*) from runs where status = 'RUNNING'").fetchone()[0]:
            break
    except sqlite3.OperationalError:
        pass
    time.sleep(0.02)
db.execute("begin exclusive")
print("locked", flush=True)
time.sleep(hold)
db.execute("commit")
"""


@pytest.mark.slow
def test_a_sqlite_store_locked_mid_train_says_so_and_ends_the_run_failed(
    project: Project, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Another process takes the store's lock once the run started, and keeps it 25 s."""
    from mlflow import MlflowClient

    store = sqlite_store(tmp_path_factory, "locked")
    path = store.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, path, "25"], stdout=subprocess.PIPE, text=True
    )
    try:
        report = tmp_path / "report.json"
        started = time.monotonic()
        done = run_cli(project, "train", "--report", str(report), uri=store)
        took = time.monotonic() - started
    finally:
        holder.kill()
        locked = holder.communicate()[0]
    assert "locked" in locked, "the lock was taken while the run was RUNNING"
    assert done.returncode == 1, done.stderr[-3000:]
    assert_one_line_error(done.stderr, "database is locked")
    assert "waiting for the database lock another process holds" in done.stderr
    assert took < 150
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    experiment = client.get_experiment_by_name(project.name)
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.status for run in runs] == ["FAILED"]
    assert client.search_model_versions(f"name = '{project.name}'") == []
    assert not report.exists()


@pytest.mark.parametrize("length", [201, 250, 1000])
def test_a_long_reason_is_cut_at_a_word_boundary(length: int) -> None:
    from mlgate.tracking.connection import short_reason

    words = [
        "Max",
        "retries",
        "exceeded",
        "with",
        "url",
        "because",
        "the",
        "gateway",
        "kept",
        "resetting",
    ]
    text = " ".join(words * 40)[:length]
    reason = short_reason(RuntimeError(text))
    assert len(reason) <= 200
    assert reason.endswith("\u2026")
    assert reason[:-1].split()[-1] in words, f"cut mid-word: {reason[-20:]}"
