"""`.github/workflows/tune.yml` under act: two workers on one PostgreSQL study.

The clone adopts the tests' plug-in (`support.diabetes`, through `support.tune_faults`, whose
extra step can kill one worker) with a small search, and dispatches the workflow with
`workers=2` against a real PostgreSQL cluster (the study storage) and a real `mlflow server`.

1. Both workers finish: the study ran exactly its budget, the workers' shares add up to it, one
   worker refit and registered the winner and uploaded the one report, the other said who did.
2. A new dispatch, where the first fit in either worker kills that worker's process (SIGKILL,
   as a runner lost mid-trial): its job fails, the survivor runs the rest of the budget,
   records the dead worker's trial as failed and refits and registers exactly once.
3. A new dispatch, where the worker that claimed the refit is killed while it fits the winner:
   the other worker, waiting on the claim, takes it over and registers the winner, once.

Expectations come from the study in PostgreSQL, the registry and the uploaded reports.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlgate.report.document import load_report
from mlgate.tuning.objective import FAIL_REASON
from mlgate.tuning.refit import REFIT
from mlgate.tuning.tracking import PARENT_RUN
from support import diabetes, tune_faults
from support.act import ActSession
from support.act_results import ActResult
from support.adoption import adopted_files
from support.diabetes import TRAIN_ROWS
from support.git_repo import commit_files
from support.mlflow_server import MlflowServer
from support.team_server import Postgres

# The two concurrent runs take two environments; later runs reuse them.
pytestmark = pytest.mark.reuse_environments

WORKFLOW = ".github/workflows/tune.yml"
WORKERS = 2
BUDGET = 6
PLUGIN_ENV = {"PYTHONPATH": "tests"}
RAN = re.compile(r"this process ran (\d+) of study '([^']+)''s (\d+) trial\(s\)")

SEARCH = f"""
[tool.mlgate.tuning]
sampler = "random"
seed = 7
n_trials = {BUDGET}
cv_folds = 2
pruning = false

[tool.mlgate.tuning.space]
alpha = {{ kind = "float", low = 0.01, high = 10.0, log = true }}
"""


@dataclass
class Tuning:
    """The adopted clone, its study storage and its tracking server."""

    session: ActSession
    storage: str
    mlflow_url: str
    name: str

    def dispatch(self, env: dict[str, str] | None = None) -> ActResult:
        result = self.session.run(
            "workflow_dispatch",
            {"inputs": {"workers": WORKERS, "study": ""}, "ref": "refs/heads/main"},
            workflow=WORKFLOW,
            secrets={"MLFLOW_TRACKING_URI": self.mlflow_url, "TUNING_STORAGE_URL": self.storage},
            env={**PLUGIN_ENV, **(env or {})},
            timeout=600,
        )
        assert not result.timed_out, result.describe()
        return result

    def versions(self) -> list[str]:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.mlflow_url, registry_uri=self.mlflow_url)
        found = client.search_model_versions(f"name = '{self.name}'")
        return sorted(str(v.version) for v in found)

    def parent_run(self, study):
        """The study's parent MLflow run (whoever started it)."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.mlflow_url).get_run(study.user_attrs[PARENT_RUN])

    def assert_no_password(self, run, report: Path) -> None:
        """The storage's password reaches neither the report nor the parent run."""
        password = self.storage.split("@")[0].rsplit(":", 1)[1]
        shown = [report.read_text(encoding="utf-8"), report.with_suffix(".md").read_text()]
        shown += [*run.data.params.values(), *run.data.tags.values()]
        assert run.data.params["storage"].startswith("postgresql+psycopg://127.0.0.1:")
        assert not [text for text in shown if password in text]

    def reports(self, result: ActResult) -> dict[int, Path]:
        """The report each worker uploaded, by worker (only the refitter has one)."""
        found = {}
        for worker in range(1, WORKERS + 1):
            path = self.session.artifact_dir(result.run_id, f"tune-report-{worker}")
            if (path / "report.json").is_file():
                found[worker] = path / "report.json"
        return found


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with Postgres() as db:
        yield db


@pytest.fixture
def tuning(act_session: ActSession, mlflow_server: MlflowServer, postgres: Postgres) -> Tuning:
    """Adopt the plug-in with a search of its own and no serving check (speed), on main."""
    repo = act_session.repo_dir
    name = f"mlgate-tune-{uuid.uuid4().hex[:8]}"
    files = adopted_files(repo, name)
    text = str(files["pyproject.toml"])
    text = text.replace(f'"{diabetes.REFERENCE}"', f'"{tune_faults.REFERENCE}"')
    text, switched = re.subn(r"(?m)^(\[tool\.mlgate\.serving\]\ncheck = )true$", r"\1false", text)
    assert switched == 1, "pyproject.toml turns the serving check on in one place"
    text = re.sub(r"(?ms)^\[tool\.mlgate\.tuning\]\n.*?(?=^\[)", "", text)
    files["pyproject.toml"] = text + SEARCH
    commit_files(repo, files, "Adopt the template and configure a search")
    storage = (
        f"postgresql+psycopg://postgres:{postgres.password}@127.0.0.1:{postgres.pg_port}/postgres"
    )
    return Tuning(act_session, storage, mlflow_server.url, name)


def study_of(storage: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=storage)


def shares(result: ActResult) -> tuple[str, list[int]]:
    """The study the workers named and how many trials each reported running."""
    found = RAN.findall(result.step_log("Tune"))
    studies = {study for _, study, _ in found}
    assert len(studies) == 1, (found, result.describe())
    assert all(int(budget) == BUDGET for _, _, budget in found), found
    return studies.pop(), [int(ran) for ran, _, _ in found]


def tune_steps(result: ActResult) -> list[str]:
    """Each worker's `Tune` step result. (act marks every job of a matrix failed when one
    fails, so the steps tell the workers apart.)"""
    return sorted(
        s.result
        for s in result.steps
        if s.job_id == "tune" and s.step == "Tune" and s.stage == "Main" and not s.nested
    )


def test_two_workers_share_one_budget_and_register_once_even_when_one_dies(
    tuning: Tuning, tmp_path: Path
) -> None:
    first = both_finish(tuning)
    second = one_dies_in_its_first_trial(tuning, tmp_path / "died-in-a-trial")
    third = the_refitter_dies(tuning, tmp_path / "died-refitting")
    assert len({first, second, third}) == 3, "each dispatch has a study of its own"
    assert len(tuning.versions()) == 3, "one version per dispatch"


def registered(tuning: Tuning, before: list[str], report_path: Path):
    """The report the one refitting worker uploaded, whose version is the only new one."""
    report = load_report(report_path)
    assert report.tuning is not None
    assert report.candidate is not None
    assert tuning.versions() == sorted([*before, str(report.candidate.version)])
    return report


def refit_claim(study) -> dict:
    return study.user_attrs[REFIT]


def both_finish(tuning: Tuning) -> str:
    """The workers' shares add up to the budget; one refits and registers, the other says so."""
    from optuna.trial import TrialState

    before = tuning.versions()
    result = tuning.dispatch()
    assert result.ok, result.describe()
    assert tune_steps(result) == ["success"] * WORKERS, result.describe()
    name, ran = shares(result)
    assert name.endswith(f"-run{result.run_id}"), name
    assert len(ran) == WORKERS, ran
    assert sum(ran) == BUDGET, ran
    study = study_of(tuning.storage, name)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * BUDGET
    [path] = tuning.reports(result).values()
    report = registered(tuning, before, path)
    assert (report.tuning.n_trials, report.tuning.completed) == (BUDGET, BUDGET)
    log = result.step_log("Tune")
    assert log.count("refitting the best trial") == 1, log
    assert (
        f"registered by {refit_claim(study)['owner']} (version {report.candidate.version})" in log
    )
    assert refit_claim(study)["state"] == "done"
    parent = tuning.parent_run(study)
    assert parent.info.status == "FINISHED"
    tuning.assert_no_password(parent, path)
    return name


def one_dies_in_its_first_trial(tuning: Tuning, marker: Path) -> str:
    """The first fit anywhere kills its worker: the survivor runs the rest of the budget,
    records the dead worker's trial as failed, and refits and registers once."""
    from optuna.trial import TrialState

    before = tuning.versions()
    result = tuning.dispatch({tune_faults.MARKER_ENV: str(marker)})
    assert marker.exists(), "a worker was killed"
    assert not result.ok
    assert tune_steps(result) == ["failure", "success"], result.describe()
    assert [s.step for s in result.failed_steps] == ["Tune"], result.describe()
    name, ran = shares(result)
    assert ran == [BUDGET - 1], "only the survivor reports; it ran all but the dead one's trial"
    study = study_of(tuning.storage, name)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert len(states) == BUDGET
    assert states.count(TrialState.COMPLETE) == BUDGET - 1
    [dead] = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.FAIL]
    assert re.fullmatch(r"its process \d+ exited", dead.user_attrs[FAIL_REASON])
    [path] = tuning.reports(result).values()
    report = registered(tuning, before, path)
    assert (report.tuning.completed, report.tuning.failed) == (BUDGET - 1, 1)
    assert result.step_log("Tune").count("refitting the best trial") == 1, result.describe()
    parent = tuning.parent_run(study)
    assert parent.info.status == "FINISHED", "the survivor closes the dead one's run"
    tuning.assert_no_password(parent, path)
    return name


def the_refitter_dies(tuning: Tuning, marker: Path) -> str:
    """The worker that claimed the refit is killed while it fits the winner: the other one,
    waiting, takes the claim over and registers the winner, once."""
    from optuna.trial import TrialState

    before = tuning.versions()
    env = {tune_faults.MARKER_ENV: str(marker), tune_faults.MIN_ROWS_ENV: str(TRAIN_ROWS)}
    result = tuning.dispatch(env)
    assert marker.exists(), "the refitting worker was killed"
    assert tune_steps(result) == ["failure", "success"], result.describe()
    name, _ = shares(result)
    study = study_of(tuning.storage, name)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.COMPLETE] * BUDGET, "it died after the search"
    log = result.step_log("Tune")
    assert log.count("refitting the best trial") == 2, log
    assert re.search(r"taking the refit over from \S+ \(its process \d+ on this machine", log), log
    [path] = tuning.reports(result).values()
    report = registered(tuning, before, path)
    assert (report.tuning.completed, report.tuning.failed) == (BUDGET, 0)
    claim = refit_claim(study)
    assert (claim["state"], claim["version"]) == ("done", str(report.candidate.version))
    assert tuning.parent_run(study).info.status == "FINISHED"
    return name
