"""The reference data: the champion's own training dataset, found through its MLflow run.

Training logs each dataset with `mlflow.log_input` (source path or URI, and digest). Monitoring
loads that file (or object) again through the plug-in and recomputes the digest, so a file that
was overwritten since, or cleaning options that changed, are caught instead of silently
comparing against something the champion never saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from mlgate import storage
from mlgate.config import Settings
from mlgate.contract import Dataset, ModelPlugin
from mlgate.datafile import load_located
from mlgate.errors import UserError
from mlgate.monitoring.document import ChampionRef, DataRef
from mlgate.registry import versions as registry
from mlgate.storage import Location, Origin

if TYPE_CHECKING:
    from mlflow import MlflowClient

TRAINING_CONTEXT = "training"
CONTEXT_TAG = "mlflow.data.context"
LOCAL_SOURCES = ("local", "file")
OBJECT_SOURCES = ("s3", "gs", "gcs", "object_storage")


@dataclass(frozen=True)
class LoggedInput:
    """A dataset input of a run, as MLflow recorded it."""

    name: str
    digest: str
    source_type: str
    source: str  # the source's URI or path, as logged
    version_id: str | None = None  # an object's version or ETag when it was read for training
    etag: str | None = None


def find_champion(client: MlflowClient, settings: Settings) -> ChampionRef:
    """The version behind the champion alias, on the production model, pinned by number so an
    alias move mid-run is moot."""
    name, alias = settings.production, settings.tracking.champion_alias
    current = registry.champion(client, name, alias)
    if current is None:
        raise UserError(
            f"registered model {name!r} has no @{alias} version: monitoring compares new data "
            "with the champion's training data, so promote a model first"
        )
    metric = settings.gate.metric
    recorded = None
    if current.run_id:
        recorded = client.get_run(current.run_id).data.metrics.get(metric)
    return ChampionRef(
        version=str(current.version),
        run_id=current.run_id,
        model_uri=f"models:/{name}/{current.version}",
        metric=metric,
        recorded=recorded,
    )


def training_input(client: MlflowClient, champion: ChampionRef) -> LoggedInput:
    """The dataset the champion's run logged with the training context."""
    if not champion.run_id:
        raise UserError(
            f"champion v{champion.version} has no MLflow run, so its training data is unknown: "
            "pass --reference PATH"
        )
    inputs = client.get_run(champion.run_id).inputs
    for item in getattr(inputs, "dataset_inputs", None) or []:
        tags = {tag.key: tag.value for tag in item.tags}
        if tags.get(CONTEXT_TAG) == TRAINING_CONTEXT:
            dataset = item.dataset
            return LoggedInput(
                dataset.name,
                dataset.digest,
                dataset.source_type,
                _source(dataset.source),
                tags.get(storage.TAG_VERSION_ID),
                tags.get(storage.TAG_ETAG),
            )
    raise UserError(
        f"champion v{champion.version} (run {champion.run_id}) logged no training dataset: "
        "pass --reference PATH"
    )


def candidates(logged: LoggedInput, root: Path) -> list[Path]:
    """Where the logged file may be now: as logged, then the same trailing path under `root`.

    A run logged on a CI runner records that runner's absolute path; another checkout of the
    same repository holds the file at the same place relative to its own root. The digest
    check makes a wrong guess harmless.
    """
    recorded = Path(logged.source)
    found = [recorded if recorded.is_absolute() else root / recorded]
    parts = recorded.parts
    found += [root.joinpath(*parts[i:]) for i in range(1, len(parts))]
    return list(dict.fromkeys(found))


def load_champion_reference(
    client: MlflowClient, settings: Settings, plugin: ModelPlugin, champion: ChampionRef
) -> tuple[Dataset, DataRef]:
    logged = training_input(client, champion)
    if logged.source_type in OBJECT_SOURCES:
        path: Location = _logged_object(logged, champion)
    elif logged.source_type in LOCAL_SOURCES:
        where = candidates(logged, settings.root)
        found = next((p for p in where if p.is_file()), None)
        if found is None:
            raise UserError(
                f"champion v{champion.version}'s training data {logged.source} (digest "
                f"{logged.digest}) is not found, nor under {settings.root}: pass --reference PATH"
            )
        path = found
    else:
        raise UserError(
            f"champion v{champion.version}'s training data is a {logged.source_type} source "
            f"({logged.source}), which monitoring cannot read: pass --reference PATH"
        )
    data, origin = load_located(plugin, path)
    actual = digest(data)
    if actual != logged.digest:
        raise UserError(
            f"{path}: digest {actual} does not match champion v{champion.version}'s training "
            f"data digest {logged.digest} (the {_what_changed(logged, origin)}, or the cleaning "
            "options did, since training): pass --reference PATH to compare with another file"
        )
    return data, data_ref(data, "reference", actual, "champion training data", origin)


def _logged_object(logged: LoggedInput, champion: ChampionRef) -> storage.Uri:
    try:
        found = storage.location(logged.source)
    except UserError as exc:
        raise UserError(
            f"champion v{champion.version}'s training data: {exc}: pass --reference PATH"
        ) from None
    if not isinstance(found, storage.Uri):
        raise UserError(
            f"champion v{champion.version}'s training data {logged.source} is not an object "
            "URI: pass --reference PATH"
        )
    return found


def _what_changed(logged: LoggedInput, origin: Origin | None) -> str:
    if origin is None:
        return "file changed"
    if logged.version_id and origin.version_id and logged.version_id != origin.version_id:
        return (
            f"object was replaced: version {logged.version_id} trained the champion, "
            f"version {origin.version_id} is there now"
        )
    return "object changed"


def load_given_reference(plugin: ModelPlugin, path: Location) -> tuple[Dataset, DataRef]:
    data, origin = load_located(plugin, path)
    return data, data_ref(data, "reference", digest(data), "given", origin)


def digest(data: Dataset) -> str:
    """The digest MLflow records for this dataset when training logs it (of the rows alone:
    the same file gives the same digest wherever it is read from)."""
    import mlflow

    frame = data.frame
    return mlflow.data.from_pandas(
        frame,
        source=storage.dataset_source(data.path),
        name=data.path.name,
        targets=str(data.target.name),
    ).digest


def data_ref(
    data: Dataset, role: str, value: str, origin: str, read: Origin | None = None
) -> DataRef:
    return DataRef.model_validate(
        {
            "role": role,
            "path": str(data.path),
            "digest": value,
            "rows": data.rows,
            "rows_raw": data.rows_raw,
            "origin": origin,
            "version_id": read.version_id if read else None,
            "etag": read.etag if read else None,
        }
    )


def _source(raw: str) -> str:
    """A path from the logged source (JSON `{"uri": ...}` for local files, maybe a file: URI)."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    uri = parsed.get("uri", raw) if isinstance(parsed, dict) else str(parsed)
    split = urlsplit(uri)
    return unquote(split.path) if split.scheme == "file" else uri
