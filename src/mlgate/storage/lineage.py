"""What MLflow records of a dataset read from a bucket: its URI as the source, and the
object's version id or ETag as input tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.storage.uri import Location, Uri

if TYPE_CHECKING:
    from mlgate.storage import Origin

TAG_VERSION_ID = "mlgate.object.version_id"
TAG_ETAG = "mlgate.object.etag"
"""Input tags of a run's dataset read from a bucket: what exactly was read."""


def dataset_source(value: Location) -> Any:
    """The source MLflow records for a dataset: the path as before, or the URI (MLflow's own
    S3 and GCS sources; a plain URI source for Azure, which MLflow has none for)."""
    if not isinstance(value, Uri):
        return str(value)
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    try:
        return resolve_dataset_source(str(value))
    except Exception:  # MLflow has no resolver for this scheme
        return _uri_source(str(value))


def input_tags(origin: Origin | None) -> dict[str, str] | None:
    if origin is None:
        return None
    tags = {TAG_VERSION_ID: origin.version_id, TAG_ETAG: origin.etag}
    return {key: value for key, value in tags.items() if value} or None


def _uri_source(uri: str) -> Any:
    from mlflow.data.dataset_source import DatasetSource

    class ObjectStorageSource(DatasetSource):
        """An object's URI, for schemes MLflow has no dataset source of its own for."""

        def __init__(self, uri: str) -> None:
            self.uri = uri

        @staticmethod
        def _get_source_type() -> str:
            return "object_storage"

        def load(self, **kwargs: Any) -> str:
            raise NotImplementedError("read it with mlgate (mlgate.storage)")

        @staticmethod
        def _can_resolve(raw_source: Any) -> bool:
            return False

        @classmethod
        def _resolve(cls, raw_source: Any) -> ObjectStorageSource:
            return cls(str(raw_source))

        def to_dict(self) -> dict[str, Any]:
            return {"uri": self.uri}

        @classmethod
        def from_dict(cls, source_dict: dict[Any, Any]) -> ObjectStorageSource:
            return cls(source_dict["uri"])

    return ObjectStorageSource(uri)
