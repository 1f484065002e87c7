"""MLflow runs that end FAILED when the command fails, even if the server was briefly away.

MLflow's own `with start_run()` marks a run FAILED with one more call to the server; when the
server is the reason for the failure, that call raises too (a second traceback) and the run
stays RUNNING forever. Here the FAILED status is retried within the connection bounds, and if
the server is still away the command says which run was left RUNNING instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlgate import progress
from mlgate.tracking import connection

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient


@contextmanager
def tracked_run(client: MlflowClient, retries: int, **start: Any) -> Iterator[ActiveRun]:
    """`mlflow.start_run(**start)`, ended FINISHED on success and FAILED on any error."""
    import mlflow

    run = mlflow.start_run(**start)
    try:
        yield run
    except BaseException:
        end_failed(client, run.info.run_id, retries)
        raise
    mlflow.end_run()


def end_failed(client: MlflowClient, run_id: str, retries: int) -> bool:
    """Mark `run_id` FAILED within bounded retries; False (and a progress line) if it stays."""
    import mlflow

    active = mlflow.active_run()
    try:
        if active is not None and active.info.run_id == run_id:
            mlflow.end_run("FAILED")  # leaves the active-run stack even when the call fails
        else:
            client.set_terminated(run_id, "FAILED")
        return True
    except Exception:  # the failure being reported matters more than this one
        pass
    where = connection.display_uri(client.tracking_uri)
    try:
        connection.with_retries(
            lambda: client.set_terminated(run_id, "FAILED"),
            what=f"marking run {run_id} FAILED on {where}",
            retries=retries,
        )
        return True
    except Exception as exc:
        progress.say(f"run {run_id} is left RUNNING on {where}: {connection.short_reason(exc)}")
        return False
