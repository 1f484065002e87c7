"""A separate production model on the embedded store: promotion copies, rollback works there.

The same flow as on a team server, without one: a laptop can try `production_model` before a
team adopts it. Model quality is never assumed: expectations follow the reported RMSEs.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.registry import versions as registry
from mlgate.registry.promotion import TAG_CANDIDATE
from mlgate.report.document import load_report
from support.project import Project

RMSE = "root_mean_squared_error"


def test_production_must_differ_from_the_candidates(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[tracking]\nregistered_model = "m"\nproduction_model = "m"\n')
    with pytest.raises(UserError, match=r"tracking: .*production_model must differ"):
        load_settings(config)


@pytest.mark.slow
def test_promotion_copies_into_production_and_rolls_back_there(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = Project.create(
        tmp_path,
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        tracking='production_model = "trips-production"\n',
    )
    project.enter(monkeypatch)
    production = "trips-production"

    def train(pr: int, *params: str) -> tuple[str, Any]:
        head = uuid.uuid4().hex + "00000000"
        event = tmp_path / f"event-{pr}.json"
        event.write_text(json.dumps({"pull_request": {"number": pr, "head": {"sha": head}}}))
        report = tmp_path / f"report-{pr}.json"
        with monkeypatch.context() as patch:
            patch.setenv("GITHUB_EVENT_PATH", str(event))
            args = [arg for p in params for arg in ("--param", p)]
            assert project.cli("train", "--report", str(report), *args) == 0
        return head, load_report(report)

    def champion() -> str | None:
        current = registry.champion(project.client(), production, "champion")
        return None if current is None else str(current.version)

    _, first = train(1)
    # Promotion records on a candidate (anyone with the PR credential can write them) never
    # reach production.
    forged = {registry.TAG_ROLLED_BACK_TO: "7", registry.TAG_REPLACED: "7"}
    for key, value in forged.items():
        project.client().set_model_version_tag(project.name, first.candidate.version, key, value)
    assert project.cli("promote", "--version", first.candidate.version) == 0
    v1 = champion()
    copy = project.client().get_model_version(production, v1)
    assert copy.tags[TAG_CANDIDATE] == first.candidate.version
    assert copy.tags[registry.TAG_REPLACED] == registry.NO_VERSION
    assert registry.TAG_ROLLED_BACK_TO not in copy.tags
    assert copy.tags[registry.TAG_HEAD] == first.lineage.head_sha, "lineage is copied"
    assert project.champion() is None, "the candidates model never gets the alias"
    assert project.cli("promote", "--version", first.candidate.version) == 0
    assert len(project.client().search_model_versions(f"name = '{production}'")) == 1

    head2, better = train(2, "alpha=1")
    assert better.candidate.metrics[RMSE] < first.candidate.metrics[RMSE], "precondition"
    assert better.champion.version == v1, "the PR compares with the production champion"
    assert better.champion.metrics[RMSE] == pytest.approx(first.candidate.metrics[RMSE])
    capsys.readouterr()
    assert project.cli("promote", "--pr", "2", "--head-sha", head2) == 0
    assert f"(copy of {project.name} v{better.candidate.version})" in capsys.readouterr().out
    v2 = champion()
    assert project.client().get_model_version(production, v2).tags[registry.TAG_REPLACED] == v1

    assert project.cli("rollback") == 0
    assert champion() == v1
    assert project.cli("promote", "--pr", "2", "--head-sha", head2) == 0
    assert champion() == v1, "re-running an old merge must not undo a rollback"
