"""Command-line faults caught before any work is done: malformed SHAs, a promote with nothing to
promote, out-of-range model parameters or control characters, report paths that cannot be
written or read (a FIFO never blocks a command); and the help and
`--config` placement a person expects from every subcommand."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlgate.arguments import build_parser
from mlgate.cli import COMMANDS, main
from support.github_api import FakeGitHub
from support.project import Project
from support.stores import sqlite_store

TOKEN = "ghs_cliFaultsToken0123456789"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with no data files: any command that loads data or connects fails (exit 1)."""
    return Project.create(tmp_path / "project", "")


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    with FakeGitHub(token=TOKEN) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", fake.repository)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        yield fake


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error:" in line]


@pytest.mark.parametrize("sha", ["SHA", "${{ github.sha }}", "abc", "g" * 40, "1" * 65])
def test_comment_rejects_a_malformed_head_sha_before_any_request(
    project: Project, gh: FakeGitHub, tmp_path: Path, sha: str, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(project.root)
    report = tmp_path / "report.json"
    report.write_text("{}", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(SystemExit) as raised:
        project.cli("comment", "--report", str(report), "--pr", "7", "--head-sha", sha)
    assert raised.value.code == 2
    assert time.monotonic() - started < 2
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert "--head-sha" in errors[0]
    assert gh.requests == [], "no GitHub request is spent on a malformed SHA"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-arguments"),
        pytest.param(["--pr", "7"], id="pr-without-head-sha"),
        pytest.param(["--commit", "8c7b6a5f4e3d"], id="commit-only"),
    ],
)
def test_promote_with_nothing_to_promote_is_a_usage_error(
    project: Project, args: list[str], monkeypatch, capsys
) -> None:
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    started = time.monotonic()
    assert project.cli("promote", *args) == 2
    assert time.monotonic() - started < 2, "before loading data or connecting"
    err = capsys.readouterr().err
    assert error_lines(err) == [err.strip()]
    assert "--merge-commit" in err


def _help_lines() -> dict[str, str]:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action.help for action in commands._choices_actions}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_subcommand_help_describes_the_command(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main([command, "--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    _, _, rest = out.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert not description.startswith(("options:", "positional")), "a description follows usage"
    assert " ".join(description.split()) == " ".join(_help_lines()[command].split())


@pytest.mark.parametrize("position", ["before", "after"])
def test_config_is_accepted_before_or_after_the_subcommand(
    tmp_path: Path, position: str, capsys
) -> None:
    config = tmp_path / "custom.toml"
    config.write_text("[tracking]\nno_such_setting = 1\n", encoding="utf-8")
    where = ["--config", str(config)]
    argv = [*where, "rollback"] if position == "before" else ["rollback", *where]
    assert main(argv) == 1, "the configuration was read (and its unknown key reported)"
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert "no_such_setting" in errors[0]


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "directory":
        path = tmp_path / "out" / "report.json"
        path.mkdir(parents=True)
        return path
    if kind == "parent-is-a-file":
        (tmp_path / "out").write_text("not a folder", encoding="utf-8")
        return tmp_path / "out" / "report.json"
    return Path("/proc/mlgate/report.json")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["directory", "parent-is-a-file", "read-only-filesystem"])
def test_unwritable_report_path_fails_before_anything_is_registered(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    monkeypatch,
    capsys,
) -> None:
    store = sqlite_store(tmp_path_factory, "unwritable-report")
    project = Project.create(tmp_path / "project", store)
    months = [project.root / "data" / f"{role}.parquet" for role in ("train", "validation")]
    project.enter(monkeypatch)
    report = _unwritable(tmp_path, kind)
    code = project.cli(
        "train",
        "--train-data",
        str(months[0]),
        "--val-data",
        str(months[1]),
        "--report",
        str(report),
    )
    assert code == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert str(report) in errors[0]
    assert project.client().search_registered_models(f"name = '{project.name}'") == []
    if report.parent.is_dir():
        assert [p.name for p in report.parent.iterdir() if p.name.endswith(".tmp")] == []


HOSTILE_PARAMS = {
    "alpha-400-zeros": "alpha=1" + "0" * 400,
    "alpha-5000-digits": "alpha=" + "9" * 5000,
    "max-iter-beyond-c": "max_iter=99999999999999999999",
    "alpha-infinite": "alpha=1e999",
}


@pytest.mark.parametrize("param", HOSTILE_PARAMS.values(), ids=HOSTILE_PARAMS.keys())
def test_hostile_param_is_one_line_before_any_work(
    project: Project, param: str, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    started = time.monotonic()
    assert project.cli("train", "--param", param) == 1
    assert time.monotonic() - started < 10, "before loading data or connecting"
    err = capsys.readouterr().err
    assert error_lines(err) == [err.strip()]
    assert err.startswith(f"error: --param {param.partition('=')[0]}")
    assert len(err) < 300


CONTROL_PARAMS = {
    "newline-in-value": "alpha=1\n2",
    "newline-in-name": "al\npha=1",
    "carriage-return": "alpha=0.1\rforged",
    "escape-sequence": "alpha=\x1b[31m0.1",
    "nul": "max_iter=1\x00",
    "line-separator": "alpha=0.1\u2028x",
}


@pytest.mark.parametrize("command", ["train", "candidate"])
@pytest.mark.parametrize("param", CONTROL_PARAMS.values(), ids=CONTROL_PARAMS.keys())
def test_param_with_control_characters_is_one_line(
    project: Project, command: str, param: str, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert project.cli(command, "--param", param) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, "one line"
    assert err.startswith("error: --param ")
    assert "control characters" in err
    assert not any(c in err.rstrip("\n") for c in "\r\x1b\x00\u2028")


@pytest.mark.parametrize("command", ["train", "report"])
@pytest.mark.parametrize("where", ["file-name", "folder-name"])
def test_report_path_component_over_255_bytes_is_one_line(
    project: Project, command: str, where: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    long = "x" * 300
    report = tmp_path / f"{long}.json" if where == "file-name" else tmp_path / long / "r.json"
    args = ["--report", str(report)]
    if command == "report":
        args += ["--step", "tests=failure"]
    assert project.cli(command, *args) == 1
    err = capsys.readouterr().err
    assert error_lines(err) == [err.strip()]
    assert "255 bytes" in err


def _repeated_column(table, column: str):
    import pyarrow as pa

    return pa.table([*table.columns, table.column(column)], names=[*table.column_names, column])


def _integer_past_float(table, column: str):
    import pyarrow as pa

    values = pa.array([2**62] * table.num_rows, pa.int64())
    return table.set_column(table.schema.get_field_index(column), column, values)


@pytest.mark.parametrize("fault", [_repeated_column, _integer_past_float], ids=["dup", "2**62"])
@pytest.mark.parametrize(
    "flag", ["train:--train-data", "train:--val-data", "monitor:--current"], ids=str
)
def test_hostile_data_is_one_line_naming_file_and_column(
    tmp_path: Path, fault, flag: str, monkeypatch, capsys
) -> None:
    import pyarrow.parquet as pq

    project = Project.create(tmp_path / "project", "")
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    hostile = tmp_path / "hostile.parquet"
    pq.write_table(fault(pq.read_table(project.root / "data" / "train.parquet"), "bmi"), hostile)
    command, option = flag.split(":")
    assert project.cli(command, option, str(hostile)) == 1
    err = capsys.readouterr().err
    assert error_lines(err) == [err.strip()]
    assert str(hostile) in err
    assert "'bmi'" in err


def _not_a_file(tmp_path: Path, kind: str) -> Path:
    if kind == "fifo":
        path = tmp_path / "report.json"
        os.mkfifo(path)
        return path
    if kind == "directory":
        path = tmp_path / "report.json"
        path.mkdir()
        return path
    return Path("/dev/zero")


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
@pytest.mark.parametrize(
    "command", [["report"], ["comment", "--pr", "7", "--head-sha", "a" * 40], ["drift-issue"]]
)
def test_a_report_that_is_not_a_regular_file_is_refused_without_blocking(
    project: Project, tmp_path: Path, kind: str, command: list[str], monkeypatch, capsys
) -> None:
    path = _not_a_file(tmp_path, kind)
    args = [*command[:1], "--report", str(path), *command[1:]]
    env = {"GITHUB_TOKEN": "", "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    if kind == "fifo":
        # Opening a FIFO for reading waits for a writer: only a separate process with a
        # timeout shows the command never does.
        done = subprocess.run(
            [sys.executable, "-m", "mlgate.cli", *args],
            cwd=project.root,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        code, err = done.returncode, done.stderr
    else:
        monkeypatch.chdir(project.root)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code, err = main(args), capsys.readouterr().err
    assert code == 1, err
    assert error_lines(err) == [err.strip()]
    assert str(path) in err
