"""Create the CI users of an auth-enabled MLflow server, and give each only what it needs.

Why: pull-request runs execute the PR's own code, so their credential must not be able to move
the champion; the scheduled monitor only reads the champion. Run this once as the server's admin
(and again after renaming anything); it is idempotent. It works through the server's own REST
API (users, permissions, experiments, registered models), so it needs no access to the server's
databases.

What it creates, with the names from `[tool.mlgate.tracking]` (and `[tool.mlgate.monitoring]
experiment`):
- the experiment, the monitoring experiment, both registered models (candidates and production)
  and the production model's promotion lock, owned by the admin *before* any CI user exists: on
  MLflow, whoever creates a resource becomes its MANAGE owner;
- one user per credential the workflows read (`GRANTS`, the table in docs/team-setup.md):
  - the PR user: EDIT on the experiment (runs, logged models) and on the candidates model
    (register versions), READ on the production model (compare with the champion), and DENY
    on the promotion lock, so it cannot block promotions by holding it;
  - the promotion user: EDIT on the experiment (its promotion runs, reading artifacts), READ
    on the candidates model, EDIT on the production model (copy versions, move the alias),
    and MANAGE on the promotion lock only (its tickets are versions, and deleting a version,
    its own or a dead job's, needs MANAGE);
  - the monitoring user: READ on the experiment (the champion's run, its training data and
    model files) and on the production model (find the champion), EDIT on the monitoring
    experiment (its own runs), nothing else.
Nobody gets MANAGE on a model, which would allow deleting versions and granting permissions.

Usage (credentials come from the environment, never from the command line):
    export MLFLOW_TRACKING_URI=https://mlflow.example.com
    export MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=...      # the admin
    export MLFLOW_PR_PASSWORD=... MLFLOW_PROMOTE_PASSWORD=... MLFLOW_MONITOR_PASSWORD=...
    uv run python scripts/setup_team_server.py [--config pyproject.toml]
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.registry.versions import LOCK_SUFFIX
from mlgate.tracking.access import as_user_error

MIN_PASSWORD = 12


@dataclass(frozen=True)
class Role:
    """A CI credential: its default user name, and the variable its password comes from."""

    user: str
    password_env: str


ROLES = {
    "PR": Role("ci-pr", "MLFLOW_PR_PASSWORD"),
    "PROMOTE": Role("ci-promote", "MLFLOW_PROMOTE_PASSWORD"),
    "MONITOR": Role("ci-monitor", "MLFLOW_MONITOR_PASSWORD"),
}
"""Keyed by the workflows' secret names: `MLFLOW_<ROLE>_USERNAME` / `_PASSWORD` / `_TOKEN`."""

GRANTS: dict[str, list[tuple[str, str]]] = {
    "PR": [
        ("EDIT", "experiment"),
        ("EDIT", "candidates"),
        ("READ", "production"),
        ("DENY", "lock"),
    ],
    "PROMOTE": [
        ("EDIT", "experiment"),
        ("READ", "candidates"),
        ("EDIT", "production"),
        ("MANAGE", "lock"),
    ],
    "MONITOR": [
        ("READ", "experiment"),
        ("READ", "production"),
        ("EDIT", "monitoring experiment"),
    ],
}
"""Each role's permission on each resource (and none on any other)."""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if len(value) < MIN_PASSWORD:
        raise UserError(f"{name} must be set to a password of at least {MIN_PASSWORD} characters")
    return value


def _code(exc: Exception) -> str | None:
    return getattr(exc, "error_code", None)


def ensure_user(auth, username: str, password: str) -> str:
    from mlflow.exceptions import MlflowException

    try:
        auth.create_user(username, password)
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_ALREADY_EXISTS":
            raise
        auth.update_user_password(username, password)
        return "updated"
    return "created"


def grant(auth, username: str, kind: str, resource: str, permission: str) -> None:
    """Set the user's permission on one resource to exactly `permission`."""
    from mlflow.exceptions import MlflowException

    try:
        auth.grant_user_permission(username, kind, resource, permission)
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_ALREADY_EXISTS":
            raise
        auth.revoke_user_permission(username, kind, resource)
        auth.grant_user_permission(username, kind, resource, permission)


def setup(config: Path | None, users: dict[str, str]) -> list[str]:
    """Create the resources, users and grants; `users` maps each role to its user name.
    Returns what was done, one line each."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    settings = load_settings(config)
    if not settings.tracking.separate:
        raise UserError(
            "[tool.mlgate.tracking] production_model is not set: without a separate "
            "production model the PR credential could move the champion"
        )
    names = settings.names()
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri.startswith(("http://", "https://")):
        raise UserError("MLFLOW_TRACKING_URI must be the URL of the auth-enabled server")
    if not os.environ.get("MLFLOW_TRACKING_USERNAME"):
        raise UserError("MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD must be the admin's")
    passwords = {role: _env(ROLES[role].password_env) for role in ROLES}
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    auth = get_app_client("basic-auth", tracking_uri=uri)
    done = []
    resources: dict[str, tuple[str, str]] = {}
    for label, name in (
        ("experiment", names.experiment),
        ("monitoring experiment", names.monitoring_experiment),
    ):
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        done.append(f"{label} {name!r} (id {experiment_id})")
        resources[label] = ("experiment", experiment_id)
    lock = names.production + LOCK_SUFFIX
    for label, name in (
        ("candidates", names.registered_model),
        ("production", names.production),
        ("lock", lock),
    ):
        try:
            client.create_registered_model(name)
            done.append(f"registered model {name!r} created")
        except MlflowException as exc:
            if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
            done.append(f"registered model {name!r} exists")
        resources[label] = ("registered_model", name)
    for role, password in passwords.items():
        done.append(f"user {users[role]!r} {ensure_user(auth, users[role], password)}")
    for role, grants in GRANTS.items():
        for permission, label in grants:
            kind, resource = resources[label]
            grant(auth, users[role], kind, resource, permission)
            done.append(f"{users[role]}: {permission} on {kind} {resource}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="default: the nearest pyproject.toml")
    for role, default in ROLES.items():
        parser.add_argument(
            f"--{role.lower()}-user",
            default=default.user,
            help=f"user for the MLFLOW_{role}_* credential (default: {default.user})",
        )
    args = parser.parse_args(argv)
    users = {role: getattr(args, f"{role.lower()}_user") for role in ROLES}
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    try:
        for line in setup(args.config, users):
            print(line)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        refused = as_user_error(exc, "set up users and permissions (run this as the admin)")
        if refused is None:
            raise
        print(f"error: {refused}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
