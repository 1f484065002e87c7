"""Create the two CI users of an auth-enabled MLflow server, and give each only what it needs.

Why: pull-request runs execute the PR's own code, so their credential must not be able to move
the champion. Run this once as the server's admin (and again after renaming anything); it is
idempotent. It works through the server's own REST API (users, permissions, experiments,
registered models), so it needs no access to the server's databases.

What it creates, with the names from `[tool.mlgate.tracking]`:
- the experiment, both registered models (candidates and production) and the production
  model's promotion lock, owned by the admin *before* any CI user exists: on MLflow, whoever
  creates a resource becomes its MANAGE owner;
- the PR user: EDIT on the experiment (runs, logged models) and on the candidates model
  (register versions), READ on the production model (compare with the champion), and DENY on
  the production promotion lock, so it cannot block promotions by holding it;
- the promotion user: EDIT on the experiment (its promotion runs, reading artifacts), READ on
  the candidates model, EDIT on the production model (copy versions, move the alias), and
  MANAGE on the promotion lock only (its tickets are versions, and deleting a version, its own
  or a dead job's, needs MANAGE).
Neither gets MANAGE on a model, which would allow deleting versions and granting permissions.

Usage (credentials come from the environment, never from the command line):
    export MLFLOW_TRACKING_URI=https://mlflow.example.com
    export MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=...      # the admin
    export MLFLOW_PR_PASSWORD=... MLFLOW_PROMOTE_PASSWORD=...               # 12+ characters
    uv run python scripts/setup_team_server.py [--config pyproject.toml]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.registry.versions import LOCK_SUFFIX
from mlgate.tracking.access import as_user_error

MIN_PASSWORD = 12


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


def setup(config: Path | None, pr_user: str, promote_user: str) -> list[str]:
    """Create the resources, users and grants; returns what was done, one line each."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    settings = load_settings(config)
    tracking = settings.tracking
    if not tracking.separate:
        raise UserError(
            "[tool.mlgate.tracking] production_model is not set: without a separate "
            "production model the PR credential could move the champion"
        )
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri.startswith(("http://", "https://")):
        raise UserError("MLFLOW_TRACKING_URI must be the URL of the auth-enabled server")
    if not os.environ.get("MLFLOW_TRACKING_USERNAME"):
        raise UserError("MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD must be the admin's")
    passwords = {pr_user: _env("MLFLOW_PR_PASSWORD"), promote_user: _env("MLFLOW_PROMOTE_PASSWORD")}
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    auth = get_app_client("basic-auth", tracking_uri=uri)
    done = []
    experiment = client.get_experiment_by_name(settings.experiment)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(settings.experiment)
    )
    done.append(f"experiment {settings.experiment!r} (id {experiment_id})")
    lock = settings.production + LOCK_SUFFIX
    for name in (settings.registered_model, settings.production, lock):
        try:
            client.create_registered_model(name)
            done.append(f"registered model {name!r} created")
        except MlflowException as exc:
            if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
            done.append(f"registered model {name!r} exists")
    for user, password in passwords.items():
        done.append(f"user {user!r} {ensure_user(auth, user, password)}")
    grants = [
        (pr_user, "experiment", experiment_id, "EDIT"),
        (pr_user, "registered_model", settings.registered_model, "EDIT"),
        (pr_user, "registered_model", settings.production, "READ"),
        (pr_user, "registered_model", lock, "DENY"),
        (promote_user, "experiment", experiment_id, "EDIT"),
        (promote_user, "registered_model", settings.registered_model, "READ"),
        (promote_user, "registered_model", settings.production, "EDIT"),
        (promote_user, "registered_model", lock, "MANAGE"),
    ]
    for user, kind, resource, permission in grants:
        grant(auth, user, kind, resource, permission)
        done.append(f"{user}: {permission} on {kind} {resource}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="default: the nearest pyproject.toml")
    parser.add_argument("--pr-user", default="ci-pr", help="user for pull-request runs")
    parser.add_argument("--promote-user", default="ci-promote", help="user for promotion")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    try:
        for line in setup(args.config, args.pr_user, args.promote_user):
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
