"""The spark engine's entry points for the CLI: a session, then the work, then the session gone."""

from __future__ import annotations

from pathlib import Path

from mlgate import tasks
from mlgate.errors import UserError


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
