"""What a run and its model version record: the datasets as MLflow inputs, lineage and data
tags, parameters as MLflow shows them, and the pinned serving requirements."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from mlgate.contract import Dataset, ModelPlugin
from mlgate.report.document import DatasetInfo, Lineage, ModelInfo
from mlgate.storage import Origin, dataset_source, input_tags, shown

SERVING_PACKAGES = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")


def pip_requirements() -> list[str]:
    """Pinned to what trained the model; inferring them costs seconds per run."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in SERVING_PACKAGES]


def lineage_tags(lineage: Lineage) -> dict[str, str]:
    values = lineage.model_dump(exclude_none=True)
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in values.items()
    }


def model_info(plugin: ModelPlugin) -> ModelInfo:
    target = plugin.target
    return ModelInfo(
        title=plugin.title, target=target.name, target_label=target.label, unit=target.unit
    )


def log_datasets(
    train: tuple[Dataset, Origin | None],
    validation: tuple[Dataset, Origin | None],
    root: Path,
    plugin: ModelPlugin,
) -> list[DatasetInfo]:
    """Both datasets as MLflow run inputs (source, digest; an object's version or ETag as
    input tags), and as the report's data section."""
    import mlflow

    infos = []
    datasets, contexts, tags = [], [], []
    for role, context, (loaded, origin) in (
        ("train", "training", train),
        ("validation", "validation", validation),
    ):
        dataset = mlflow.data.from_pandas(
            loaded.frame,
            source=dataset_source(loaded.path),
            name=loaded.path.name,
            targets=plugin.target.name,
        )
        datasets.append(dataset)
        contexts.append(context)
        tags.append(input_tags(origin))
        infos.append(
            DatasetInfo(
                role=role,
                path=shown(loaded.path, root),
                rows_raw=loaded.rows_raw,
                rows=loaded.rows,
                digest=dataset.digest,
                version_id=origin.version_id if origin else None,
                etag=origin.etag if origin else None,
            )
        )
    # One store call for both.
    mlflow.log_inputs(datasets=datasets, contexts=contexts, tags_list=tags)
    return infos


def data_tags(datasets: list[DatasetInfo]) -> dict[str, str]:
    """The version's data lineage: each dataset's digest, and where an object was read, its
    URI and version id or ETag."""
    tags = {}
    for info in datasets:
        tags[f"data.{info.role}.digest"] = info.digest
        if "://" in info.path:
            tags[f"data.{info.role}.uri"] = info.path
        for key in ("version_id", "etag"):
            value = getattr(info, key)
            if value:
                tags[f"data.{info.role}.{key}"] = value
    return tags


def tag_value(value: float | None) -> str:
    return f"{value if value is not None else float('nan'):.6g}"


def param_text(value: Any) -> str:
    return "None" if value is None else str(value)


def scalar(value: Any) -> str | int | float | bool:
    """A parameter as the report shows it, matching its logged form where MLflow stringifies."""
    return value if isinstance(value, str | int | float | bool) else param_text(value)
