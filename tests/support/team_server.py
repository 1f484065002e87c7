"""A team tracking server for tests: PostgreSQL 15 plus `mlflow server --app-name basic-auth`.

This is the setup docs/team-setup.md documents, on 127.0.0.1: a real PostgreSQL cluster (its own
data folder, a free port, password authentication only) holding MLflow's tracking and auth
databases, an MLflow server with users, and the CI users made by scripts/setup_team_server.py.

PostgreSQL refuses to run as root, which is how CI runs; then `initdb` and `pg_ctl` run as
`nobody` through `setpriv` (util-linux: no PAM, shell or home needed), in a folder that user
owns. Every wait is bounded and says what it waits for; `stop()` ends both servers and deletes
the folder. `Postgres` alone is the bare cluster (for running the page's own commands).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from support.mlflow_server import free_port, stop_group

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup_team_server.py"
ADMIN = "admin"
PR_USER, PROMOTE_USER, MONITOR_USER = "ci-pr", "ci-promote", "ci-monitor"


class PostgresMissingError(RuntimeError):
    """PostgreSQL's server binaries are not installed (`.ci/run` installs postgresql-15)."""


def pg_bindir() -> Path:
    try:
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PostgresMissingError(f"pg_config --bindir failed ({exc})") from None
    folder = Path(out.stdout.strip())
    if not (folder / "initdb").is_file():
        raise PostgresMissingError(f"no initdb in {folder} (install postgresql-15)")
    return folder


class Postgres:
    """A PostgreSQL cluster of its own: `port`, the `postgres` superuser's `password`."""

    def __init__(self) -> None:
        self.bindir = pg_bindir()
        # Under /tmp rather than pytest's 0700 basetemp, so that `nobody` can reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="mlgate-pg-"))
        self.folder.chmod(0o711)
        self.pg = self.folder / "pg"
        self.pg_port = free_port()
        self.password = secrets.token_urlsafe(18)
        self._pg_started = False
        as_root = os.geteuid() == 0
        self._pg_user = pwd.getpwnam("nobody") if as_root else None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._start_postgres()

    # -- lifecycle -----------------------------------------------------------------------

    def _as_pg(self, command: list[str]) -> list[str]:
        if self._pg_user is None:
            return command
        group = grp.getgrgid(self._pg_user.pw_gid).gr_name
        return [
            "setpriv", f"--reuid={self._pg_user.pw_name}", f"--regid={group}", "--clear-groups",
            "--", "env", f"HOME={self.pg}", *command,
        ]  # fmt: skip

    def _pg_run(self, what: str, command: list[str], timeout: float) -> None:
        try:
            done = subprocess.run(
                self._as_pg(command), capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{what} did not finish in {timeout:.0f} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def _start_postgres(self) -> None:
        data, sock = self.pg / "data", self.pg / "sock"
        for folder in (self.pg, data, sock):
            folder.mkdir(mode=0o700)
            if self._pg_user is not None:
                os.chown(folder, self._pg_user.pw_uid, self._pg_user.pw_gid)
        pwfile = self.pg / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._pg_user is not None:
            os.chown(pwfile, self._pg_user.pw_uid, self._pg_user.pw_gid)
        self._pg_run(
            "initdb",
            [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            timeout=120,
        )  # fmt: skip
        pwfile.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {self.pg_port} -k {sock} -c fsync=off"
        self._pg_started = True
        self._pg_run(
            "pg_ctl start (waiting for PostgreSQL to accept connections)",
            [str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.pg / "postgres.log"),
             "-w", "-t", "60", "-o", options, "start"],
            timeout=90,
        )  # fmt: skip

    def stop(self) -> None:
        if self._pg_started:
            # Already stopped, or it never started: the folder goes either way.
            with contextlib.suppress(RuntimeError):
                self._pg_run(
                    "pg_ctl stop",
                    [str(self.bindir / "pg_ctl"), "-D", str(self.pg / "data"), "-m", "fast",
                     "-w", "-t", "30", "stop"],
                    timeout=45,
                )  # fmt: skip
            self._pg_started = False
        shutil.rmtree(self.folder, ignore_errors=True)


class TeamServer(Postgres):
    """`with TeamServer() as team:` gives `team.url`, `team.credentials(user)` and users.

    The server keeps artifacts in its own folder, or at `artifacts` (e.g. `s3://bucket/path`,
    with the S3 server's variables in `environment`), as deploy/compose.yaml keeps them in
    MinIO; clients reach them through the server either way.
    """

    def __init__(
        self,
        *,
        startup_timeout: float = 180.0,
        artifacts: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.startup_timeout = startup_timeout
        self.artifacts = artifacts or str(self.folder / "artifacts")
        self.environment = dict(environment or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "mlflow.log"
        self.passwords = {
            ADMIN: secrets.token_urlsafe(18),
            PR_USER: secrets.token_urlsafe(18),
            PROMOTE_USER: secrets.token_urlsafe(18),
            MONITOR_USER: secrets.token_urlsafe(18),
        }
        self._db_password = secrets.token_urlsafe(18)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._start_postgres()
        self._create_databases()
        self._start_mlflow()

    def stop(self) -> None:
        stop_group(self._process)
        super().stop()

    # -- credentials ---------------------------------------------------------------------

    def credentials(self, user: str) -> dict[str, str]:
        """The environment a client needs to act as `user` on this server."""
        return {
            "MLFLOW_TRACKING_URI": self.url,
            "MLFLOW_TRACKING_USERNAME": user,
            "MLFLOW_TRACKING_PASSWORD": self.passwords[user],
        }

    def setup_project(self, config: Path) -> str:
        """Run scripts/setup_team_server.py as the admin for the names in `config`."""
        env = {
            **_clean(os.environ),
            **self.credentials(ADMIN),
            "MLFLOW_PR_PASSWORD": self.passwords[PR_USER],
            "MLFLOW_PROMOTE_PASSWORD": self.passwords[PROMOTE_USER],
            "MLFLOW_MONITOR_PASSWORD": self.passwords[MONITOR_USER],
        }
        command = [sys.executable, str(SCRIPT), "--config", str(config)]
        command += ["--pr-user", PR_USER, "--promote-user", PROMOTE_USER]
        command += ["--monitor-user", MONITOR_USER]
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"setup_team_server.py failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _create_databases(self) -> None:
        """A login role without superuser rights that owns MLflow's two databases."""
        import psycopg

        dsn = f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, password=self.password, autocommit=True) as db:
            db.execute(
                f"CREATE ROLE mlflow LOGIN PASSWORD '{self._db_password}' "
                "NOSUPERUSER NOCREATEDB NOCREATEROLE"
            )
            for name in ("mlflow", "mlflow_auth"):
                db.execute(f"CREATE DATABASE {name} OWNER mlflow")
                db.execute(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")

    def database_uri(self, name: str) -> str:
        return f"postgresql+psycopg://mlflow:{self._db_password}@127.0.0.1:{self.pg_port}/{name}"

    def _start_mlflow(self) -> None:
        ini = self.folder / "basic_auth.ini"
        ini.write_text(
            "[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = {self.database_uri('mlflow_auth')}\n"
            f"admin_username = {ADMIN}\n"
            f"admin_password = {self.passwords[ADMIN]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            # Password checks cost ~0.2 s each; a short cache keeps the tests' many calls quick.
            "auth_cache_ttl_seconds = 60\n"
        )
        ini.chmod(0o600)
        mlflow = Path(sys.executable).parent / "mlflow"
        command = [
            str(mlflow), "server", "--app-name", "basic-auth",
            "--backend-store-uri", self.database_uri("mlflow"),
            "--artifacts-destination", self.artifacts,
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        env = {
            **_clean(os.environ),
            "PATH": f"{mlflow.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_urlsafe(24),
            **self.environment,
        }
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mlflow server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(
            f"waited {self.startup_timeout:.0f} s for the basic-auth mlflow server's /health: "
            f"no answer\n{self.log.read_text()[-3000:]}"
        )


def _clean(env: Mapping[str, str]) -> dict[str, str]:
    """The environment without another server's MLflow settings."""
    return {k: v for k, v in env.items() if not k.startswith("MLFLOW_")}
