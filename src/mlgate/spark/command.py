"""The spark engine's entry points for the CLI: a session, then the work, then the session gone."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import progress, tasks
from mlgate.config import Settings
from mlgate.errors import UsageError, UserError
from mlgate.monitoring.document import ChampionRef, Check, DataRef, Distribution
from mlgate.storage import Location

if TYPE_CHECKING:
    from mlflow import MlflowClient

NOT_RECOMPUTED = "not recomputed (spark engine)"


def predict_with_spark(
    uri: str, columns: list[str] | None, data: Path, out: Path, master: str | None
) -> int:
    """Score `data` with the model at `uri` on Spark; the number of rows written."""
    from mlflow.models import get_model_info

    from mlgate.spark.predict import score_with_spark
    from mlgate.spark.session import spark_session

    try:
        task, record = tasks.of_model(get_model_info(uri).metadata)
    except ValueError as exc:
        raise UserError(f"the model's task record: {exc}") from None
    with spark_session(master, app="mlgate predict") as spark:
        return score_with_spark(spark, uri, columns, data, out, task, record).rows


def require_local(*values: Location | None) -> None:
    """Spark opens files with its own filesystems (a cluster's `s3a://` connector), not with
    mlgate's, so a bucket URI given to `--engine spark` is refused in one line."""
    for value in values:
        if value is not None and not isinstance(value, Path):
            raise UsageError(
                f"{value}: --engine spark reads and writes through Spark's own filesystems: "
                "give local paths (or run it where the cluster mounts the bucket); see "
                "docs/scale.md"
            )


def monitor_with_spark(
    settings: Settings,
    client: MlflowClient,
    champion: ChampionRef,
    current_path: Location,
    reference_path: Location | None,
    master: str | None,
) -> tuple[DataRef, DataRef, list[Check], list[Distribution]]:
    """`monitor`'s data references and checks, every statistic computed by Spark."""
    from mlgate.monitoring import job
    from mlgate.spark import monitor as spark_monitor
    from mlgate.spark.session import spark_session

    plugin = settings.plugin()
    require_local(current_path, reference_path)
    for path in filter(None, (current_path, reference_path)):
        if not path.is_file():
            raise UserError(f"{path}: data file not found")
    ref_path, ref_digest, origin = _reference(client, settings, champion, reference_path)
    model = job._load_model(champion)
    task = tasks.for_plugin(plugin)
    try:
        description = task.description_of(model)
    except ValueError as exc:
        raise UserError(f"champion v{champion.version}: {exc}") from None
    from pyspark.errors import PySparkException

    from mlgate.spark.session import one_line

    with spark_session(master, app="mlgate monitor") as spark:
        progress.say(f"loading {current_path} and {ref_path} with Spark")
        loaded = []
        try:
            current = spark_monitor.load(spark, plugin, current_path)
            loaded.append(current)
            ref = spark_monitor.load(spark, plugin, ref_path)
            loaded.append(ref)
            progress.say(f"reference {ref.rows:,} rows, current {current.rows:,} rows")
            progress.say(f"drift statistics with Spark (champion v{champion.version})")
            results, distributions = spark_monitor.run_checks(
                spark, ref, current, plugin, champion, task, description, settings.monitoring
            )
        except PySparkException as exc:
            raise UserError(
                f"{current_path}: Spark could not compute the monitoring statistics "
                f"({one_line(exc)})"
            ) from None
        finally:
            for data in loaded:
                data.frame.unpersist()
    return (
        _data_ref("reference", ref, ref_digest, origin),
        _data_ref("current", current, NOT_RECOMPUTED, "current"),
        results,
        distributions,
    )


def _reference(
    client: MlflowClient, settings: Settings, champion: ChampionRef, given: Path | None
) -> tuple[Path, str, str]:
    """The reference file, the digest to record for it, and where it came from. The champion's
    logged training file is found as the local engine finds it; its logged digest is recorded
    (recomputing it needs the whole file in one process)."""
    from mlgate.monitoring import reference

    if given is not None:
        return given, NOT_RECOMPUTED, "given"
    logged = reference.training_input(client, champion)
    if logged.source_type not in ("local", "file"):
        raise UserError(
            f"champion v{champion.version}'s training data is a {logged.source_type} source "
            f"({logged.source}), which monitoring cannot read: pass --reference PATH"
        )
    path = next((p for p in reference.candidates(logged, settings.root) if p.is_file()), None)
    if path is None:
        raise UserError(
            f"champion v{champion.version}'s training data {logged.source} (digest "
            f"{logged.digest}) is not found, nor under {settings.root}: pass --reference PATH"
        )
    return path, logged.digest, "champion training data"


def _data_ref(role: str, data: Any, digest: str, origin: str) -> DataRef:
    return DataRef.model_validate(
        {
            "role": role,
            "path": str(data.path),
            "digest": digest,
            "rows": data.rows,
            "rows_raw": data.rows_raw,
            "origin": origin,
        }
    )
