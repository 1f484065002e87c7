"""`--model DIR` whose MLmodel file is broken: one line naming the file, exit 1, no traceback
(MLflow's own YAML error is a 94-line traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import UserError
from mlgate.serving.check import check_mlmodel
from support.project import Project
from support.stores import sqlite_store

BROKEN = {
    "unclosed-bracket": "flavors: [python_function\n",
    "tab-indent": "flavors:\n\tpython_function: {}\n",
    "duplicate-anchor": "a: *missing\n",
    "a-list": "- flavors\n- python_function\n",
    "a-scalar": "just text\n",
    "empty": "",
    "no-flavors": "artifact_path: model\n",
    "flavors-not-a-mapping": "flavors: python_function\n",
}


def _model_folder(tmp_path: Path, content: str | bytes | None) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    if isinstance(content, bytes):
        (folder / "MLmodel").write_bytes(content)
    elif content is not None:
        (folder / "MLmodel").write_text(content, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "content",
    [*BROKEN.values(), b"\xff\xfe\x00flavors", None],
    ids=[*BROKEN.keys(), "not-utf8", "missing"],
)
def test_a_broken_mlmodel_is_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes | None
) -> None:
    folder = _model_folder(tmp_path, content)
    with pytest.raises(UserError) as raised:
        check_mlmodel(folder)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(folder / "MLmodel"))


def test_a_valid_mlmodel_passes(tmp_path: Path) -> None:
    check_mlmodel(_model_folder(tmp_path, "flavors:\n  python_function: {loader_module: x}\n"))


@pytest.mark.slow  # an MLflow store
@pytest.mark.parametrize("fault", ["unclosed-bracket", "tab-indent", "a-list"])
@pytest.mark.parametrize("command", ["serve-check", "predict"])
def test_serve_check_and_predict_on_a_broken_folder_are_one_line(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    fault: str,
    monkeypatch,
    capsys,
) -> None:
    project = Project.create(tmp_path / "project", sqlite_store(tmp_path_factory, "mlmodel"))
    project.enter(monkeypatch)
    folder = _model_folder(tmp_path, BROKEN[fault])
    args = [command, "--model", str(folder)]
    if command == "predict":
        data = project.root / "data" / "validation.parquet"
        args += ["--data", str(data), "--out", str(tmp_path / "predictions.parquet")]
    assert project.cli(*args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {folder / 'MLmodel'}: ")


@pytest.mark.parametrize(
    ("model", "version"),
    [
        pytest.param("3", "1", id="another-version"),
        pytest.param("champion", "1", id="the-champion"),
        pytest.param("{folder}", "1", id="a-folder"),
        pytest.param("3", None, id="a-report-without-a-version"),
    ],
)
def test_serve_check_refuses_to_write_one_models_figures_into_anothers_report(
    tmp_path: Path, model: str, version: str | None, monkeypatch, capsys
) -> None:
    import json

    from support.reports import report_data

    project = Project.create(tmp_path / "project", "")
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    data = report_data(version=version, registered_model=project.name)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(data), encoding="utf-8")
    before = report.read_bytes()
    folder = _model_folder(tmp_path, "flavors: {}\n")
    args = ["serve-check", "--model", model.format(folder=folder), "--report", str(report)]
    assert project.cli(*args) == 1
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.strip()] == [err.strip()]
    assert err.startswith(f"error: --report {report}: it reports on ")
    assert report.read_bytes() == before
