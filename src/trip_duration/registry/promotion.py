"""Promotion on merge: the exact version the PR registered becomes champion, if it still passes.

The gate is checked again under the promotion lock, against whatever is champion at that
moment and on the validation data now on disk, because other merges may have landed since
the PR's report was computed. Each decision is recorded as an MLflow run of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trip_duration.config import Settings
from trip_duration.contract import Dataset
from trip_duration.errors import GateFailedError, NoCandidateError, UserError
from trip_duration.registry import versions as registry
from trip_duration.registry.versions import Outcome
from trip_duration.report.document import Gate
from trip_duration.tracking import connection as tracking
from trip_duration.tracking.runs import tracked_run
from trip_duration.train import evaluation
from trip_duration.train.gate import decide

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion


def promote(
    settings: Settings,
    *,
    pr: int | None = None,
    head_sha: str | None = None,
    version: str | None = None,
    commit: str | None = None,
    val_path: Path | None = None,
) -> Outcome:
    """Promote the candidate named by (pr, head_sha) or by version; see the module docstring."""
    val_data = settings.plugin().load(settings.data_path("validation", val_path))
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    name, alias = settings.tracking.registered_model, settings.tracking.champion_alias
    candidate = _candidate(client, name, pr, head_sha, version)
    with registry.promotion_lock(client, name):
        # Another promotion may have finished while this one waited: decide on fresh state.
        candidate = client.get_model_version(name, candidate.version)
        current = registry.champion(client, name, alias)
        done = _already(name, alias, candidate, current)
        if done is not None:
            _mark_promoted(client, name, candidate, current)
            return done
        gate = _recheck(client, settings, candidate, current, val_data)
        if not gate.passed:
            client.set_model_version_tag(
                name, candidate.version, "promotion.refused_at", registry.now()
            )
            failures = "; ".join(r for r in gate.reasons if r.startswith("FAIL"))
            stays = f"v{current.version}" if current else "unset"
            raise GateFailedError(
                f"v{candidate.version} not promoted: {failures}; {name}@{alias} stays {stays}"
            )
        registry.move_champion(client, name, alias, candidate, current, commit)
    previous = str(current.version) if current else None
    return Outcome(
        action="promoted",
        version=str(candidate.version),
        previous=previous,
        message=f"{name}@{alias} is now v{candidate.version}"
        + (
            f" (replaced v{previous}; `trip-duration rollback` restores it)"
            if previous
            else " (first champion)"
        ),
    )


def _candidate(
    client: MlflowClient, name: str, pr: int | None, head_sha: str | None, version: str | None
) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    if version is not None:
        try:
            return client.get_model_version(name, str(version))
        except MlflowException:
            raise NoCandidateError(f"{name} has no version {version}") from None
    if pr is None or not head_sha:
        raise UserError("promote needs --pr and --head-sha, or --version")
    found = registry.find_candidate(client, name, pr, head_sha)
    if found is None:
        raise NoCandidateError(
            f"no version of {name} was registered for PR #{pr} at {head_sha[:12]}: "
            "nothing to promote (did the PR workflow's train step run on that head?)"
        )
    return found


def _already(
    name: str, alias: str, candidate: ModelVersion, current: ModelVersion | None
) -> Outcome | None:
    """A promotion that already happened is reported, never redone (re-runs change nothing)."""
    version = str(candidate.version)
    if current is not None and str(current.version) == version:
        return Outcome("unchanged", version, None, f"{name}@{alias} is already v{version}")
    promoted_at = candidate.tags.get(registry.TAG_PROMOTED_AT)
    if promoted_at:
        now_at = f"v{current.version}" if current else "unset"
        return Outcome(
            "unchanged",
            version,
            None,
            f"v{version} was promoted at {promoted_at} and has since been replaced "
            f"({name}@{alias} is {now_at}); not promoting it again",
        )
    return None


def _mark_promoted(
    client: MlflowClient, name: str, candidate: ModelVersion, current: ModelVersion | None
) -> None:
    """Finish a promotion interrupted between moving the alias and recording it."""
    is_champion = current is not None and str(current.version) == str(candidate.version)
    if is_champion and not candidate.tags.get(registry.TAG_PROMOTED_AT):
        client.set_model_version_tag(
            name, candidate.version, registry.TAG_PROMOTED_AT, registry.now()
        )


def _recheck(
    client: MlflowClient,
    settings: Settings,
    candidate: ModelVersion,
    current: ModelVersion | None,
    val_data: Dataset,
) -> Gate:
    """Score candidate and champion on today's validation data, inside a recorded run."""
    import mlflow

    name = settings.tracking.registered_model
    experiment = client.get_experiment_by_name(settings.tracking.experiment)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(settings.tracking.experiment)
    )
    with tracked_run(
        client,
        settings.tracking.connect_retries,
        experiment_id=experiment_id,
        run_name=f"promote-v{candidate.version}",
    ):
        mlflow.set_tags({"kind": "promotion", "candidate_version": str(candidate.version)})
        model, _ = evaluation.load_served(f"models:/{name}/{candidate.version}")
        try:
            predictions = evaluation.predict(model, val_data.features)
        except evaluation.NotComparableError as exc:
            raise UserError(f"v{candidate.version} cannot score {val_data.path}: {exc}") from None
        scores = evaluation.metrics(val_data.target, predictions)
        baseline = None
        if current is not None:
            mlflow.set_tag("champion_version", current.version)
            champ_model, _ = evaluation.load_served(f"models:/{name}/{current.version}")
            try:
                champ_predictions = evaluation.predict(champ_model, val_data.features)
                baseline = evaluation.metrics(
                    val_data.target, champ_predictions, prefix="champion_"
                )
            except evaluation.NotComparableError as exc:
                mlflow.set_tag("champion_not_comparable", str(exc)[:500])
        gate = decide(
            settings.gate,
            scores,
            baseline,
            f"champion v{current.version}" if current else "the champion",
            settings.plugin().target.unit,
        )
        mlflow.set_tags(
            {
                "gate.passed": str(gate.passed).lower(),
                "gate.reasons": "; ".join(gate.reasons)[:4000],
            }
        )
    return gate
