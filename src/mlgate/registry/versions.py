"""The model registry lifecycle: candidate versions, the champion alias, promotion, rollback.

Production is the `champion` alias (never the deprecated stages). Each promotion writes the
version it replaced onto the promoted version (`replaced_version`) *before* moving the alias,
so a rollback record exists whenever the alias has moved. Promotions and rollbacks hold a
lock (a queue of versions of a reserved registered model, see `lock`), so two merges landing
at once are decided one after the other on fresh state.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mlgate.errors import UserError
from mlgate.registry.lock import LOCK_SUFFIX as LOCK_SUFFIX
from mlgate.registry.lock import promotion_lock

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

TAG_PR = "pr_number"
TAG_HEAD = "head_sha"
TAG_COMMIT = "git_commit"
TAG_REPLACED = "replaced_version"
TAG_PROMOTED_AT = "promoted_at"
TAG_PROMOTED_COMMIT = "promoted_from_commit"
TAG_ROLLED_BACK_AT = "rolled_back_at"
TAG_ROLLED_BACK_TO = "rolled_back_to"
TAG_RESTORED_AT = "restored_at"
NO_VERSION = "none"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code(exc: Exception) -> str | None:
    return getattr(exc, "error_code", None)


def champion(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version behind `alias`, or None when the model or the alias does not exist yet."""
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if _code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(alias)
    return None if version is None else client.get_model_version(name, str(version))


def register(name: str, model_uri: str, tags: dict[str, str]) -> ModelVersion:
    """A new version of `name` carrying its lineage and gate result as tags."""
    import mlflow

    from mlgate.tracking.access import permission

    with permission(f"register a version of registered model {name!r}"):
        return mlflow.register_model(model_uri, name, tags=tags)


def find_candidate(client: MlflowClient, name: str, pr: int, head_sha: str) -> ModelVersion | None:
    """The newest version registered for this PR at this head SHA."""
    if not (7 <= len(head_sha) <= 64 and all(c in string.hexdigits for c in head_sha)):
        raise UserError(f"--head-sha {head_sha!r}: expected a git commit SHA (hex)")
    _check_name(name)
    versions = client.search_model_versions(
        f"name = '{name}' and tags.{TAG_PR} = '{int(pr)}' and tags.{TAG_HEAD} = '{head_sha}'"
    )
    return max(versions, key=lambda v: int(v.version), default=None)


def versions(client: MlflowClient, name: str) -> list[ModelVersion]:
    """Every version of `name`, oldest first."""
    _check_name(name)
    found: list[ModelVersion] = []
    token = None
    while True:
        page = client.search_model_versions(f"name = '{name}'", max_results=200, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return sorted(found, key=lambda v: int(v.version))


def recent_champions(client: MlflowClient, name: str, limit: int) -> list[ModelVersion]:
    """Versions that were champion at some point, oldest first, at most `limit`."""
    promoted = [v for v in versions(client, name) if v.tags.get(TAG_PROMOTED_AT)]
    promoted.sort(key=lambda v: v.tags[TAG_PROMOTED_AT])
    return promoted[-limit:] if limit else []


def _check_name(name: str) -> None:
    if "'" in name or "\\" in name:
        raise UserError(f"tracking.registered_model {name!r}: quotes are not allowed")


@dataclass(frozen=True)
class Outcome:
    """What a promotion or rollback did, for the job summary and the exit status."""

    action: str  # "promoted", "unchanged", "rolled-back"
    version: str
    previous: str | None
    message: str


def move_champion(
    client: MlflowClient,
    name: str,
    alias: str,
    candidate: ModelVersion,
    previous: ModelVersion | None,
    commit: str | None,
) -> None:
    """Record the rollback target, move the alias, then mark the promotion done."""
    client.set_model_version_tag(
        name, candidate.version, TAG_REPLACED, str(previous.version) if previous else NO_VERSION
    )
    client.set_registered_model_alias(name, alias, candidate.version)
    client.set_model_version_tag(name, candidate.version, TAG_PROMOTED_AT, now())
    if commit:
        client.set_model_version_tag(name, candidate.version, TAG_PROMOTED_COMMIT, commit)


def _existing_version(client: MlflowClient, name: str, version: str) -> ModelVersion | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version)
    except MlflowException as exc:
        if _code(exc) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def rollback(client: MlflowClient, name: str, alias: str) -> Outcome:
    """Give `alias` back to the version the current champion replaced."""
    with promotion_lock(client, name):
        current = champion(client, name, alias)
        if current is None:
            raise UserError(f"{name}@{alias} does not exist: nothing to roll back")
        target = current.tags.get(TAG_REPLACED)
        if not target or target == NO_VERSION:
            raise UserError(
                f"{name}@{alias} is v{current.version}, the first champion: "
                "there is no earlier champion to roll back to"
            )
        restored = _existing_version(client, name, target)
        if restored is None:
            raise UserError(
                f"{name}@{alias} is v{current.version}, which replaced v{target}, but v{target} "
                "no longer exists (deleted): nothing rolled back; promote a version explicitly "
                "with `mlgate promote --version N`"
            )
        client.set_registered_model_alias(name, alias, restored.version)
        stamp = now()
        client.set_model_version_tag(name, current.version, TAG_ROLLED_BACK_AT, stamp)
        client.set_model_version_tag(
            name, current.version, TAG_ROLLED_BACK_TO, str(restored.version)
        )
        client.set_model_version_tag(name, restored.version, TAG_RESTORED_AT, stamp)
    return Outcome(
        action="rolled-back",
        version=str(restored.version),
        previous=str(current.version),
        message=f"{name}@{alias} rolled back from v{current.version} to v{restored.version}",
    )
