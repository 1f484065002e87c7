"""The study in MLflow: one parent run per study, one nested child run per trial.

Written with MlflowClient calls (one batch per trial) rather than Optuna's deprecated MLflow
callback, so a trial costs one request, and processes that share a study through an RDB
storage nest their trials under the same parent run, found in the study's attributes.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from mlgate.config import TuningConfig
from mlgate.report.document import Tuning
from mlgate.tuning import record, space
from mlgate.tuning.objective import FAIL_REASON, FOLD_SCORES

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from optuna.trial import FrozenTrial

PARENT_RUN = "mlgate.parent_run_id"
STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
ARTIFACTS = "tuning"
MAX_PARAM = 500


def _text(value: Any) -> str:
    return ("None" if value is None else str(value))[:MAX_PARAM]


class StudyRuns:
    """Writes the study's runs; `trial` is the per-trial hook the search calls."""

    def __init__(
        self, client: MlflowClient, experiment_id: str, parent_run_id: str, study: str
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.study = study

    @classmethod
    def start(
        cls,
        client: MlflowClient,
        experiment_id: str,
        *,
        study: str,
        config: TuningConfig,
        budget: int,
        storage: str | None,
        tags: dict[str, str],
    ) -> StudyRuns:
        """The parent run, holding what defines the search (it stays active until the winner's
        run has nested under it)."""
        from mlflow.entities import Param, RunTag

        run = client.create_run(
            experiment_id,
            run_name=f"tune {study}"[:250],
            tags={**tags, "tuning.study": study, "tuning.role": "study"},
        )
        params = {
            "sampler": config.sampler,
            "seed": config.seed,
            "n_trials": budget,
            "timeout_s": config.timeout_s,
            "cv": config.cv,
            "cv_folds": config.cv_folds,
            "metric": config.metric,
            "pruning": config.pruning,
            "storage": storage or "in-memory",
        }
        client.log_batch(
            run.info.run_id,
            params=[Param(k, _text(v)) for k, v in params.items()],
            tags=[RunTag("tuning.search_space", json.dumps(space.describe(config))[:4000])],
        )
        client.log_dict(run.info.run_id, space.describe(config), f"{ARTIFACTS}/search_space.json")
        return cls(client, experiment_id, run.info.run_id, study)

    def trial(self, frozen: FrozenTrial, seconds: float) -> None:
        """One nested run: the trial's parameters, its CV score (and per fold), its state."""
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        state = frozen.state.name
        run = self.client.create_run(
            self.experiment_id,
            start_time=_millis(frozen.datetime_start),
            run_name=f"trial {frozen.number}",
            tags={
                MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                "tuning.study": self.study,
                "tuning.trial": str(frozen.number),
                "tuning.state": record.STATES[state],
            },
        )
        now = int(time.time() * 1000)
        metrics = [Metric("trial_seconds", seconds, now, 0)]
        metrics += [
            Metric("cv_fold_score", float(v), now, step)
            for step, v in enumerate(frozen.user_attrs.get(FOLD_SCORES, []))
        ]
        if state == "COMPLETE" and frozen.value is not None:
            metrics.append(Metric("cv_score", float(frozen.value), now, 0))
        tags = []
        if state == "FAIL":
            tags.append(RunTag("tuning.fail_reason", _text(frozen.user_attrs.get(FAIL_REASON))))
        self.client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param(k, _text(v)) for k, v in frozen.params.items()],
            tags=tags,
        )
        self.client.set_terminated(run.info.run_id, status=STATUS[state])

    def summarize(self, tuning: Tuning) -> None:
        """What ran, the winner, importances and history, on the parent run."""
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        values = {
            "completed": tuning.completed,
            "pruned": tuning.pruned,
            "failed": tuning.failed,
            "wall_time_s": tuning.wall_time_s,
            "best_cv_score": tuning.best_cv_score,
        }
        self.client.log_batch(
            self.parent_run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in values.items()],
            params=[Param(f"best.{k}", _text(v)) for k, v in tuning.best_params.items()],
        )
        run = self.parent_run_id
        self.client.log_dict(run, tuning.importances, f"{ARTIFACTS}/importances.json")
        self.client.log_text(run, record.history_csv(tuning), f"{ARTIFACTS}/history.csv")
        history = [t.model_dump() for t in tuning.history]
        self.client.log_dict(run, history, f"{ARTIFACTS}/history.json")

    def mark_winner(self, run_id: str, tuning: Tuning) -> None:
        """The refit's run (nested under the study by the training job) says what it is."""
        best = record.best(tuning)
        self.client.set_tag(run_id, "tuning.study", self.study)
        self.client.set_tag(run_id, "tuning.role", "winner")
        self.client.set_tag(run_id, "tuning.best_trial", str(best.number))

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.parent_run_id, status=status)


def _millis(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None
