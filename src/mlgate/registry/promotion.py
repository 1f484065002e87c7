"""Promotion on merge: the exact version the PR registered becomes champion, if it still passes.

The gate is checked again under the promotion lock, against whatever is champion at that
moment and on the validation data now on disk, because other merges may have landed since
the PR's report was computed. Each decision is recorded as an MLflow run of its own.

With `tracking.production_model` set, candidates and the champion live in two registered
models: promotion copies the reviewed candidate version into the production model (which PR
credentials cannot write) and moves the alias there. Models are scored in a child process
without credentials (`registry.score`); in GitHub mode the candidate's origin is verified
first (`registry.provenance`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import progress, tasks, termination
from mlgate.config import Settings
from mlgate.contract import Dataset
from mlgate.datafile import load_data
from mlgate.errors import GateFailedError, NoCandidateError, UserError
from mlgate.registry import provenance
from mlgate.registry import versions as registry
from mlgate.registry.score import Scored, predict_isolated
from mlgate.registry.versions import Outcome
from mlgate.report.document import Gate
from mlgate.tracking import access
from mlgate.tracking import connection as tracking
from mlgate.tracking.runs import tracked_run
from mlgate.train import evaluation
from mlgate.train.gate import decide

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlgate.github.client import GitHubClient
    from mlgate.tasks.base import Task

TAG_CANDIDATE = "candidate_version"
PROMOTION_TAGS = frozenset(
    {
        registry.TAG_REPLACED,
        registry.TAG_PROMOTED_AT,
        registry.TAG_PROMOTED_COMMIT,
        registry.TAG_ROLLED_BACK_AT,
        registry.TAG_ROLLED_BACK_TO,
        registry.TAG_RESTORED_AT,
        TAG_CANDIDATE,
    }
)
"""Tags only promotion writes on production versions; a candidate's own copies are dropped."""


LATEST = "latest"
"""`--version latest`: the newest registered version (what `train` just registered)."""


def promote(
    settings: Settings,
    *,
    pr: int | None = None,
    head_sha: str | None = None,
    version: str | None = None,
    commit: str | None = None,
    val_path: Path | None = None,
    github: GitHubClient | None = None,
) -> Outcome:
    """Promote the candidate named by (pr, head_sha) or by version; see the module docstring.

    With `github`, the candidate's recorded Actions run is verified before anything moves.
    """
    progress.say("loading validation data…")
    val_data = load_data(settings.plugin(), settings.data_path("validation", val_path))
    progress.say("connecting to the tracking server…")
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    source = settings.registered_model
    name = settings.production
    candidate = _candidate(client, source, pr, head_sha, version)
    if github is not None:
        if pr is None or not head_sha:
            raise UserError("provenance needs the merged PR's number and final head SHA")
        provenance.verify(
            github, candidate, pr, head_sha, lambda run: _claimants(client, source, run)
        )
    with access.permission(f"promote into registered model {name!r}"):
        return _promote_locked(client, settings, candidate, val_data, commit)


def _promote_locked(
    client: MlflowClient,
    settings: Settings,
    candidate: ModelVersion,
    val_data: Dataset,
    commit: str | None,
) -> Outcome:
    source = settings.registered_model
    name, alias = settings.production, settings.tracking.champion_alias
    separate = settings.tracking.separate
    progress.say(f"waiting for the promotion lock on {name}…")
    with registry.promotion_lock(client, name):
        # Another promotion may have finished while this one waited: decide on fresh state.
        candidate = client.get_model_version(source, candidate.version)
        current = registry.champion(client, name, alias)
        target = _copy_of(client, name, source, candidate) if separate else candidate
        done = _already(name, alias, target, current) if target is not None else None
        if done is not None:
            _mark_promoted(client, name, target, current)
            return done
        termination.check()
        gate = _recheck(client, settings, candidate, current, val_data)
        termination.check()
        if not gate.passed:
            if not separate:
                client.set_model_version_tag(
                    name, candidate.version, "promotion.refused_at", registry.now()
                )
            failures = "; ".join(r for r in gate.reasons if r.startswith("FAIL"))
            stays = f"v{current.version}" if current else "unset"
            which = f"{source} v{candidate.version}" if separate else f"v{candidate.version}"
            raise GateFailedError(f"{which} not promoted: {failures}; {name}@{alias} stays {stays}")
        progress.say(f"gate passed; moving {name}@{alias} to v{candidate.version}…")
        if target is None:
            target = _copy(client, name, source, candidate)
        registry.move_champion(client, name, alias, target, current, commit)
    previous = str(current.version) if current else None
    copied = f" (copy of {source} v{candidate.version})" if separate else ""
    return Outcome(
        action="promoted",
        version=str(target.version),
        previous=previous,
        message=f"{name}@{alias} is now v{target.version}{copied}"
        + (
            f" (replaced v{previous}; `mlgate rollback` restores it)"
            if previous
            else " (first champion)"
        ),
    )


def _score(
    task: Task, data: Dataset, result: Scored, prefix: str
) -> dict[str, float] | evaluation.NotComparableError:
    """The task's metrics of what a model returned in the scoring child, by its own record."""
    try:
        return evaluation.score_outputs(
            task, data.target, result.outputs, result.record, prefix=prefix
        )
    except evaluation.NotComparableError as exc:
        return exc


def _claimants(client: MlflowClient, source: str, run_id: str) -> list[ModelVersion]:
    """Every candidate version that claims to come from Actions run `run_id`."""
    return client.search_model_versions(
        f"name = '{source}' and tags.{provenance.TAG_RUN_ID} = '{int(run_id)}'"
    )


def _copy_of(
    client: MlflowClient, name: str, source: str, candidate: ModelVersion
) -> ModelVersion | None:
    """The production copy of this candidate, if an earlier promotion made one."""
    copies = client.search_model_versions(
        f"name = '{name}' and tags.{TAG_CANDIDATE} = '{int(candidate.version)}'"
    )
    origin = f"models:/{source}/{candidate.version}"
    return min(
        (c for c in copies if c.source == origin), key=lambda c: int(c.version), default=None
    )


def _copy(client: MlflowClient, name: str, source: str, candidate: ModelVersion) -> ModelVersion:
    """Copy the reviewed version into production, lineage tags included (but never the
    promotion records: a PR credential can tag candidates).

    This is the call `copy_model_version` makes, with the back-reference tag in the same
    request, so a copy is never left without it. Like `copy_model_version`, it creates the
    production model on first use (on a team server the admin has created it already).
    """
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
            raise
    return client.create_model_version(
        name,
        source=f"models:/{source}/{candidate.version}",
        run_id=candidate.run_id,
        tags={
            **{k: v for k, v in candidate.tags.items() if k not in PROMOTION_TAGS},
            TAG_CANDIDATE: str(candidate.version),
        },
        description=f"Promoted copy of {source} v{candidate.version}.",
    )


def _candidate(
    client: MlflowClient, name: str, pr: int | None, head_sha: str | None, version: str | None
) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    if version == LATEST:
        newest = max(registry.versions(client, name), key=lambda v: int(v.version), default=None)
        if newest is None:
            raise NoCandidateError(f"{name} has no versions yet: run `mlgate train` first")
        return newest
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

    experiment = client.get_experiment_by_name(settings.experiment)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(settings.experiment)
    )
    with tracked_run(
        client,
        settings.tracking.connect_retries,
        experiment_id=experiment_id,
        run_name=f"promote-v{candidate.version}",
    ):
        mlflow.set_tags({"kind": "promotion", "candidate_version": str(candidate.version)})
        progress.say(f"scoring candidate v{candidate.version} on {val_data.rows:,} rows…")
        uris = [f"models:/{settings.registered_model}/{candidate.version}"]
        if current is not None:
            mlflow.set_tag("champion_version", current.version)
            uris.append(f"models:/{settings.production}/{current.version}")
        results = predict_isolated(uris, val_data.features)
        task = tasks.for_plugin(settings.plugin())
        scored = [
            r if isinstance(r, evaluation.NotComparableError) else _score(task, val_data, r, prefix)
            for r, prefix in zip(results, ("", "champion_"), strict=False)
        ]
        if isinstance(scored[0], evaluation.NotComparableError):
            raise UserError(f"v{candidate.version} cannot score {val_data.path}: {scored[0]}")
        scores = scored[0]
        baseline = None
        if current is not None:
            if isinstance(scored[1], evaluation.NotComparableError):
                mlflow.set_tag("champion_not_comparable", str(scored[1])[:500])
            else:
                baseline = scored[1]
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
