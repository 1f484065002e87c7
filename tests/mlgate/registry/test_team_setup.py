"""docs/team-setup.md against what it describes: the workflows, the set-up script, a real server.

- Its one table of secrets and variables and the workflow files agree in both directions (name,
  kind and which workflow reads it), read from the YAML, so a workflow added, split or renamed
  keeps this test honest without editing it.
- Every credential in the table has a user in scripts/setup_team_server.py, granted exactly the
  permissions the table lists.
- The page's shell blocks run as written, in order, in one bash session,
  against a local PostgreSQL 15, with two stand-ins a laptop test needs: the settings block is
  replaced by this machine's values (same variable names), and `uv run X` runs X in this test's
  environment (where the locked packages already are). The install block is not run (no
  network); its pins are checked against uv.lock instead. The serve block needs a champion; the
  team-server tests run it (tests/mlgate/registry/test_champion_commands.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from support.docs import shell_block, shell_blocks
from support.mlflow_server import free_port
from support.team_server import Postgres

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "team-setup.md"
WORKFLOWS = ROOT / ".github" / "workflows"
REFERENCE = re.compile(r"\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")
AUTOMATIC = {"GITHUB_TOKEN"}  # GitHub provides it; nobody stores it
CREDENTIAL = re.compile(r"MLFLOW_([A-Z]+)_(?:USERNAME|PASSWORD|TOKEN)")
KIND = {"secrets": "secret", "vars": "variable"}


def steps() -> dict[str, str]:
    """The page's blocks by name, in order (each read through `shell_block`, which claims it)."""
    return {
        "settings": shell_block("docs/team-setup.md", "settings"),
        "install": shell_block("docs/team-setup.md", "install"),
        "databases": shell_block("docs/team-setup.md", "databases"),
        "server": shell_block("docs/team-setup.md", "server"),
        "users": shell_block("docs/team-setup.md", "users"),
        "serve": shell_block("docs/team-setup.md", "serve"),
        "stop": shell_block("docs/team-setup.md", "stop"),
    }


def setup_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "setup_team_server", ROOT / "scripts" / "setup_team_server.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Read:
    """One workflow job reading one secret or variable."""

    name: str
    kind: str
    workflow: str
    environment: str | None
    pull_request: bool


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def workflow_reads() -> set[Read]:
    found: set[Read] = set()
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        triggers = document.get("on", document.get(True)) or {}
        pull_request = "pull_request" in (triggers if not isinstance(triggers, str) else [triggers])
        outside = {key: value for key, value in document.items() if key != "jobs"}
        scopes = [(None, outside)]
        scopes += [(job.get("environment"), job) for job in document.get("jobs", {}).values()]
        for environment, scope in scopes:
            if isinstance(environment, dict):
                environment = environment.get("name")
            for text in _strings(scope):
                for kind, name in REFERENCE.findall(text):
                    if name not in AUTOMATIC:
                        found.add(Read(name, KIND[kind], path.name, environment, pull_request))
    return found


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]
    kind: str
    stored_in: str
    read_by: frozenset[str]
    permissions: tuple[tuple[str, str], ...]


def table() -> list[Row]:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Secrets and variables", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 6, line
        names, kind, stored_in, read_by, _value, permissions = cells
        rows.append(
            Row(
                names=tuple(re.findall(r"`([A-Z_]+)`", names)),
                kind=kind,
                stored_in=stored_in,
                read_by=frozenset(re.findall(r"`([\w.-]+\.ya?ml)`", read_by)),
                permissions=tuple(re.findall(r"`([A-Z]+)` ([a-z][a-z ]*[a-z])", permissions)),
            )
        )
    assert rows, "the page has a table of secrets and variables"
    return rows


def documented() -> set[tuple[str, str, str]]:
    return {(name, row.kind, wf) for row in table() for name in row.names for wf in row.read_by}


def read() -> set[tuple[str, str, str]]:
    return {(r.name, r.kind, r.workflow) for r in workflow_reads()}


def test_every_secret_and_variable_a_workflow_reads_is_in_the_table() -> None:
    missing = read() - documented()
    assert not missing, f"read by the workflows but not in docs/team-setup.md: {sorted(missing)}"


def test_the_table_lists_only_what_the_workflows_read() -> None:
    extra = documented() - read()
    assert not extra, f"in docs/team-setup.md but read by no such workflow: {sorted(extra)}"


def test_each_name_is_stored_where_its_jobs_can_read_it_and_nowhere_else() -> None:
    rows = {name: row for row in table() for name in row.names}
    for name in {r.name for r in workflow_reads()}:
        reads = [r for r in workflow_reads() if r.name == name]
        stored = rows[name].stored_in
        environments = {r.environment for r in reads}
        named = set(re.findall(r"`([\w-]+)` environment", stored))
        assert named <= environments, f"{name}: stored for {named}, read in {environments}"
        if None in environments:  # a job without an environment sees repository secrets only
            assert "repository" in stored, (name, stored)
        elif "repository" not in stored:
            assert named == environments, (name, stored)
        # Dependabot's pull requests see only Dependabot secrets.
        for_dependabot = any(r.pull_request and r.kind == "secret" for r in reads)
        assert ("Dependabot" in stored) == for_dependabot, (name, stored)


def test_every_credential_has_a_user_granted_exactly_what_the_table_lists() -> None:
    script = setup_script()
    roles: set[str] = set()
    for row in table():
        matched = {m.group(1) for name in row.names if (m := CREDENTIAL.fullmatch(name))}
        if not matched:
            assert row.permissions == (), f"{row.names}: no user, so no permissions"
            continue
        assert len(matched) == 1, f"{row.names}: one credential per row"
        role = matched.pop()
        roles.add(role)
        assert role in script.ROLES, f"setup_team_server.py creates no user for MLFLOW_{role}_*"
        assert list(row.permissions) == script.GRANTS[role], role
    assert roles == set(script.ROLES), "every user the script makes is a credential in the table"


def test_each_workflow_step_hands_mlflow_one_credential() -> None:
    """MLFLOW_TRACKING_USERNAME, _PASSWORD and _TOKEN of one step come from the same role's
    secrets, each from its namesake (`MLFLOW_<ROLE>_PASSWORD` for the password)."""
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in document.get("jobs", {}).values():
            for step in job.get("steps", []):
                roles = set()
                for key, value in (step.get("env") or {}).items():
                    part = key.removeprefix("MLFLOW_TRACKING_")
                    if key == part or part == "URI":
                        continue
                    secret = REFERENCE.search(str(value))
                    assert secret, (path.name, key)
                    role = CREDENTIAL.fullmatch(secret.group(2))
                    assert role, (path.name, key, value)
                    assert secret.group(2).endswith(f"_{part}"), (path.name, key, value)
                    roles.add(role.group(1))
                assert len(roles) <= 1, (path.name, step.get("name"), roles)


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


def test_the_page_has_every_step_in_order() -> None:
    names = [b.name for b in shell_blocks("docs/team-setup.md")]
    assert names == ["settings", "install", "databases", "server", "users", "serve", "stop"]


@pytest.mark.parametrize("package", ["mlflow", "psycopg"])
def test_the_install_line_pins_the_locked_versions_with_their_extras(package: str) -> None:
    install = steps()["install"]
    extra = {"mlflow": "[auth]", "psycopg": "[binary]"}[package]
    assert f"'{package}{extra}=={locked(package)}'" in install


def test_the_promotion_credential_is_read_only_in_the_production_environment() -> None:
    jobs = yaml.safe_load((WORKFLOWS / "promote.yml").read_text())["jobs"]
    assert [job.get("environment") for job in jobs.values()] == ["production"]
    assert all(job["permissions"].get("actions") == "read" for job in jobs.values())
    promotion = [r for r in workflow_reads() if r.name.startswith("MLFLOW_PROMOTE_")]
    assert promotion, "promote.yml reads the promotion credential"
    assert all(r.environment == "production" for r in promotion), promotion


class Shell:
    """One bash session fed block by block, as a person pastes them: what one block sets, the
    next one sees. A failing command ends the session (`set -e`), and the test with it."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True,
        )  # fmt: skip
        self.run("set -euo pipefail\n" + 'uv() { [ "$1" = run ] && shift; "$@"; }\n', "prelude", 10)

    def run(self, block: str, name: str, timeout: float) -> str:
        """Paste `block`; its output once it is done (unbuffered reads, so none is held back)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        marker = f"__block {name} done {secrets.token_hex(4)}__"
        self.process.stdin.write(f"{block}\necho '{marker}'\n")
        self.process.stdin.flush()
        fd = self.process.stdout.fileno()
        output = b""
        deadline = time.monotonic() + timeout
        while marker.encode() not in output:
            left = deadline - time.monotonic()
            assert left > 0, f"block {name!r} still running after {timeout:.0f} s:\n{output!r}"
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"block {name!r} failed, the shell exited:\n{output.decode()}")
            output += chunk
        return output.decode().split(marker, 1)[0]

    def close(self) -> None:
        """End the session and everything it started (its own process group), bounded."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        group = self.process.pid
        for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(group):
                self.process.poll()
                time.sleep(0.2)
            if not _alive(group):
                break
        self.process.wait(timeout=10)


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_the_commands_set_up_a_least_privilege_server_in_one_shell(tmp_path: Path) -> None:
    import urllib.request

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
            "PRODUCTION_MODEL": "trips-production",
        }
        assert exported(blocks["settings"]) == set(settings), "the test sets what the page sets"
        venv = Path(sys.executable).parent
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MLFLOW_", "PG")) and k != "VIRTUAL_ENV"
        }
        env |= settings | {"PATH": f"{db.bindir}:{venv}:{env.get('PATH', '')}"}
        # Not part of the page: CPU only (no job runner, one worker instead of four).
        env |= {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_WORKERS": "1"}

        project = tmp_path / "checkout"
        project.mkdir()
        (project / "scripts").symlink_to(ROOT / "scripts")
        (project / "pyproject.toml").write_text(
            '[project]\nname = "team"\nversion = "0"\n\n[tool.mlgate.tracking]\n'
            'experiment = "trips"\nregistered_model = "trips"\n'
            'production_model = "trips-production"\n'
        )
        shell = Shell(project, env)
        try:
            shell.run(blocks["databases"], "databases", 60)
            shell.run(blocks["server"], "server", 300)
            assert oct((project / "basic_auth.ini").stat().st_mode & 0o777) == "0o600"
            pid = int(shell.run('echo "$MLFLOW_SERVER_PID"', "pid", 5).strip())
            os.kill(pid, 0)  # the kept PID is the running server's

            out = shell.run(blocks["users"], "users", 300)
            assert "ci-pr: EDIT on registered_model trips" in out
            passwords = shell.run(
                'printf "%s\\n%s\\n%s\\n" "$MLFLOW_PR_PASSWORD" "$MLFLOW_PROMOTE_PASSWORD" '
                '"$MLFLOW_MONITOR_PASSWORD"',
                "passwords",
                5,
            ).split()
            pr_password, promote_password, monitor_password = passwords
            for password in (*passwords, admin_password):
                assert password not in out, "passwords are never printed"
            _check_grants(port, admin_password, pr_password, promote_password, monitor_password)

            shell.run(blocks["stop"], "stop", 60)
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
            with pytest.raises(OSError, match="refused"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
        finally:
            shell.close()
    shutil.rmtree(tmp_path / "artifacts", ignore_errors=True)


def _check_grants(port: int, admin: str, pr: str, promote: str, monitor: str) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        patch.setenv("MLFLOW_TRACKING_PASSWORD", admin)
        auth = get_app_client("basic-auth", tracking_uri=url)
        granted = {
            (user, name): auth.get_user_permission(user, "registered_model", name).permission
            for user in ("ci-pr", "ci-promote", "ci-monitor")
            for name in ("trips", "trips-production")
            if (user, name) != ("ci-monitor", "trips")
        }
    assert granted == {
        ("ci-pr", "trips"): "EDIT",
        ("ci-pr", "trips-production"): "READ",
        ("ci-promote", "trips"): "READ",
        ("ci-promote", "trips-production"): "EDIT",
        ("ci-monitor", "trips-production"): "READ",
    }
    with pytest.MonkeyPatch.context() as patch:
        client = MlflowClient(tracking_uri=url, registry_uri=url)
        for user, password, writable, refused in (
            ("ci-pr", pr, "trips", "trips-production"),
            ("ci-promote", promote, "trips-production", "trips"),
            ("ci-monitor", monitor, None, "trips-production"),
        ):
            patch.setenv("MLFLOW_TRACKING_USERNAME", user)
            patch.setenv("MLFLOW_TRACKING_PASSWORD", password)
            if writable is not None:
                client.set_registered_model_tag(writable, "checked", user)
            with pytest.raises(MlflowException, match="403"):
                client.set_registered_model_tag(refused, "checked", user)
        # The monitoring user reads production and nothing of the candidates.
        assert client.get_registered_model("trips-production").name == "trips-production"
        with pytest.raises(MlflowException, match="403"):
            client.get_registered_model("trips")
