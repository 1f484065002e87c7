"""CONTRIBUTING's team-server section, run as written against a local PostgreSQL 15.

The blocks marked `<!-- team-server: NAME -->` run in order in one bash session, with two
stand-ins that a laptop test needs: the settings block is replaced by this machine's values
(same variable names), and `uv run X` runs X in this test's environment (where the locked
packages already are). The install block is not run (no network); its pins are checked against
uv.lock instead. The GitHub part (secrets, environment) is checked against the workflows.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml

from support.mlflow_server import free_port
from support.team_server import Postgres

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "CONTRIBUTING.md"
STEP = re.compile(r"<!-- team-server: (\w+) -->\n```bash\n(.*?)```", re.S)


def steps() -> dict[str, str]:
    return dict(STEP.findall(GUIDE.read_text(encoding="utf-8")))


def exported(block: str) -> set[str]:
    return {
        name
        for line in block.splitlines()
        if line.startswith("export ")
        for name in re.findall(r"(?:^export |\s)([A-Z_]+)=", line)
    }


def locked(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_the_section_has_every_step_in_order() -> None:
    assert list(steps()) == ["settings", "install", "databases", "server", "users"]


@pytest.mark.parametrize("package", ["mlflow", "psycopg"])
def test_the_install_line_pins_the_locked_versions_with_their_extras(package: str) -> None:
    install = steps()["install"]
    extra = {"mlflow": "[auth]", "psycopg": "[binary]"}[package]
    assert f"'{package}{extra}=={locked(package)}'" in install


def workflow_secrets(name: str) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z_]+)", (ROOT / ".github/workflows" / name).read_text()))


def test_the_documented_secrets_and_environment_are_the_workflows() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    pr, promote = workflow_secrets("pr.yml"), workflow_secrets("promote.yml")
    assert pr >= {"MLFLOW_PR_USERNAME", "MLFLOW_PR_PASSWORD"}
    assert promote >= {"MLFLOW_PROMOTE_USERNAME", "MLFLOW_PROMOTE_PASSWORD"}
    assert not any("PROMOTE" in s for s in pr), "the PR workflow never names the promotion secret"
    for secret in pr | promote:
        assert f"`{secret}`" in guide, secret
    jobs = yaml.safe_load((ROOT / ".github/workflows/promote.yml").read_text())["jobs"]
    assert [job.get("environment") for job in jobs.values()] == ["production"]
    assert "Environment** `production`" in guide
    assert all(job["permissions"].get("actions") == "read" for job in jobs.values())


@pytest.mark.slow
def test_the_commands_set_up_a_least_privilege_server(tmp_path: Path) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    blocks = steps()
    port = free_port()
    admin_password = secrets.token_urlsafe(18)
    with Postgres() as db:
        settings = {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(db.pg_port),
            "PGUSER": "postgres",
            "PGPASSWORD": db.password,
            "MLFLOW_DB_PASSWORD": secrets.token_urlsafe(18),
            "MLFLOW_ADMIN_PASSWORD": admin_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_urlsafe(24),
            "ARTIFACTS": str(tmp_path / "artifacts"),
            "MLFLOW_PORT": str(port),
        }
        assert exported(blocks["settings"]) == set(settings), "the test sets what the guide sets"
        venv = Path(sys.executable).parent
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MLFLOW_", "PG")) and k != "VIRTUAL_ENV"
        }
        env |= settings | {"PATH": f"{db.bindir}:{venv}:{env.get('PATH', '')}"}
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # not part of the guide: CPU only
        shell = 'set -euo pipefail\nuv() { [ "$1" = run ] && shift; "$@"; }\n'

        done = subprocess.run(
            ["bash", "-c", shell + blocks["databases"]],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

        log = (tmp_path / "server.log").open("wb")
        server = subprocess.Popen(
            ["bash", "-c", shell + blocks["server"]],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_healthy(port, server, tmp_path / "server.log")
            assert oct((tmp_path / "basic_auth.ini").stat().st_mode & 0o777) == "0o600"

            project = tmp_path / "checkout"
            project.mkdir()
            (project / "scripts").symlink_to(ROOT / "scripts")
            (project / "pyproject.toml").write_text(
                '[project]\nname = "team"\nversion = "0"\n\n[tool.mlgate.tracking]\n'
                'experiment = "trips"\nregistered_model = "trips"\n'
                'production_model = "trips-production"\n'
            )
            done = subprocess.run(
                ["bash", "-c", shell + blocks["users"] + '\nprintf "%s\\n%s\\n" '
                 '"$MLFLOW_PR_PASSWORD" "$MLFLOW_PROMOTE_PASSWORD" > passwords'],
                cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert "ci-pr: EDIT on registered_model trips" in done.stdout
            pr_password, promote_password = (project / "passwords").read_text().split()
            for password in (pr_password, promote_password, admin_password):
                assert password not in done.stdout + done.stderr, "passwords are never printed"

            url = f"http://127.0.0.1:{port}"
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
                patch.setenv("MLFLOW_TRACKING_PASSWORD", admin_password)
                auth = get_app_client("basic-auth", tracking_uri=url)
                granted = {
                    (user, name): auth.get_user_permission(
                        user, "registered_model", name
                    ).permission
                    for user in ("ci-pr", "ci-promote")
                    for name in ("trips", "trips-production")
                }
            assert granted == {
                ("ci-pr", "trips"): "EDIT",
                ("ci-pr", "trips-production"): "READ",
                ("ci-promote", "trips"): "READ",
                ("ci-promote", "trips-production"): "EDIT",
            }
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("MLFLOW_TRACKING_USERNAME", "ci-pr")
                patch.setenv("MLFLOW_TRACKING_PASSWORD", pr_password)
                client = MlflowClient(tracking_uri=url, registry_uri=url)
                client.set_registered_model_tag("trips", "checked", "yes")
                with pytest.raises(MlflowException, match="403"):
                    client.set_registered_model_tag("trips-production", "checked", "yes")
                patch.setenv("MLFLOW_TRACKING_USERNAME", "ci-promote")
                patch.setenv("MLFLOW_TRACKING_PASSWORD", promote_password)
                client.set_registered_model_tag("trips-production", "checked", "yes")
                with pytest.raises(MlflowException, match="403"):
                    client.set_registered_model_tag("trips", "promoter", "yes")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            log.close()
    shutil.rmtree(tmp_path / "artifacts", ignore_errors=True)


def _wait_healthy(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    import time

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"the documented server command exited:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"waited 180 s for the documented server's /health:\n{log.read_text()}")
