"""Configuration: defaults, `[tool.mlgate]` or a plain TOML file, strict keys and values,
deep overrides, paths relative to the file, and `--param` parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config import (
    Bound,
    DataConfig,
    GateConfig,
    ModelConfig,
    ReportConfig,
    Settings,
    load_settings,
    parse_param,
)
from mlgate.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

FULL_TABLE = """\
[tool.mlgate.data]
train = "months/train.parquet"
validation = "/abs/validation.parquet"

[tool.mlgate.model]
plugin = "my_model.plugin:MyModel"
estimator = "sklearn.linear_model.Ridge"
params = { alpha = 3.0, features__max_zone_id = 265 }
options = { min_minutes = 2, max_minutes = 90 }

[tool.mlgate.gate]
metric = "mean_absolute_error"
relative_tolerance = 0.02

[tool.mlgate.gate.bounds]
r2_score = { min = 0.3 }
mean_absolute_error = { max = 8.0 }

[tool.mlgate.tracking]
experiment = "trips-dev"
champion_alias = "prod"
ui_url = "https://mlflow.example.com"

[tool.mlgate.report]
directory = "out/reports"
history = 3
"""


def _plain(table: str) -> str:
    """The same settings as a standalone TOML file (no `tool.mlgate.` prefix)."""
    return table.replace("[tool.mlgate.", "[").replace("[tool.mlgate]", "")


def _check_full(settings: Settings, root: Path) -> None:
    assert settings.root == root.resolve()
    assert settings.data.train == Path("months/train.parquet")
    assert settings.model == ModelConfig(
        plugin="my_model.plugin:MyModel",
        estimator="sklearn.linear_model.Ridge",
        params={"alpha": 3.0, "features__max_zone_id": 265},
        options={"min_minutes": 2, "max_minutes": 90},
    )
    assert settings.gate.metric == "mean_absolute_error"
    assert settings.gate.relative_tolerance == 0.02
    assert settings.gate.greater_is_better is False
    assert settings.gate.bounds == {
        "r2_score": Bound(min=0.3),
        "mean_absolute_error": Bound(max=8.0),
    }
    assert settings.experiment == "trips-dev"
    assert settings.tracking.champion_alias == "prod"
    assert settings.tracking.registered_model is None  # the plug-in's name, when loaded
    assert settings.report.directory == Path("out/reports")
    assert settings.report.history == 3


def _one_line_error(error: pytest.ExceptionInfo[UserError], path: Path, *words: str) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def _defaults_except_root(settings: Settings) -> dict:
    return settings.model_dump(exclude={"root"})


def test_pyproject_without_table_gives_defaults(pyproject, tmp_path: Path) -> None:
    settings = load_settings(pyproject())
    assert _defaults_except_root(settings) == _defaults_except_root(Settings())
    assert settings.root == tmp_path.resolve()
    assert settings.data == DataConfig()
    assert settings.gate.metric == "root_mean_squared_error"
    assert settings.gate.bounds == {}
    assert settings.report == ReportConfig()


def test_nearest_pyproject_upwards_is_used(
    pyproject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject(FULL_TABLE)
    deeper = tmp_path / "src" / "pkg"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    _check_full(load_settings(), tmp_path)


def test_reads_the_pyproject_table(pyproject, tmp_path: Path) -> None:
    _check_full(load_settings(pyproject(FULL_TABLE)), tmp_path)


@pytest.mark.parametrize("name", ["mlgate.toml", "settings.toml"])
def test_reads_a_plain_toml_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / "conf" / name
    path.parent.mkdir()
    path.write_text(_plain(FULL_TABLE), encoding="utf-8")
    _check_full(load_settings(path), path.parent)


def test_repository_pyproject_loads() -> None:
    settings = load_settings(PROJECT_ROOT / "pyproject.toml")
    assert isinstance(settings, Settings)
    assert settings.root == PROJECT_ROOT
    assert settings.path(Path("data/x.parquet")) == PROJECT_ROOT / "data" / "x.parquet"


UNKNOWN_KEYS = {
    "top-level": ("[tool.mlgate]\ntrian = 'x.parquet'\n", "trian"),
    "data": ("[tool.mlgate.data]\nmax_minute = 30\n", "data.max_minute"),
    "model": ("[tool.mlgate.model]\nalpha = 0.5\n", "model.alpha"),
    "gate": ("[tool.mlgate.gate]\ntolerance = 0.1\n", "gate.tolerance"),
    "gate-bound": (
        "[tool.mlgate.gate.bounds.r2_score]\nminimum = 0.5\n",
        "gate.bounds.r2_score.minimum",
    ),
    "tracking": (
        "[tool.mlgate.tracking]\nexperiment_name = 'x'\n",
        "tracking.experiment_name",
    ),
    "report": ("[tool.mlgate.report]\ndir = 'out'\n", "report.dir"),
}


@pytest.mark.parametrize(("table", "where"), UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
def test_unknown_key_is_an_error_naming_its_path(pyproject, table: str, where: str) -> None:
    path = pyproject(table)
    with pytest.raises(UserError) as error:
        load_settings(path)
    message = _one_line_error(error, path, f"[tool.mlgate] {where}")
    assert "not permitted" in message


@pytest.mark.parametrize(("table", "where"), UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
def test_unknown_key_in_plain_toml_is_an_error_naming_its_path(
    tmp_path: Path, table: str, where: str
) -> None:
    path = tmp_path / "mlgate.toml"
    path.write_text(_plain(table), encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_settings(path)
    _one_line_error(error, path, where)


BAD_VALUES = {
    "negative-tolerance": ("[tool.mlgate.gate]\nrelative_tolerance = -0.1\n", "gate"),
    "tolerance-of-one": ("[tool.mlgate.gate]\nrelative_tolerance = 1.0\n", "gate"),
    "r2-bounded-with-max": (
        "[tool.mlgate.gate.bounds]\nr2_score = { max = 0.9 }\n",
        "r2_score",
    ),
    "rmse-bounded-with-min": (
        "[tool.mlgate.gate.bounds]\nroot_mean_squared_error = { min = 1.0 }\n",
        "root_mean_squared_error",
    ),
    "bound-with-both-sides": (
        "[tool.mlgate.gate.bounds]\nmax_error = { min = 1.0, max = 9.0 }\n",
        "max_error",
    ),
    "bound-with-no-side": ("[tool.mlgate.gate.bounds]\nmax_error = {}\n", "max_error"),
    "unknown-metric": ("[tool.mlgate.gate]\nmetric = 'accuracy'\n", "accuracy"),
    "unknown-bound-metric": ("[tool.mlgate.gate.bounds]\nf1 = { min = 0.5 }\n", "f1"),
    "gate-on-uncomputed-metric": (
        "[tool.mlgate.gate]\nmetric = 'mean_squared_error'\n",
        "mean_squared_error",
    ),
    "text-for-path": ("[tool.mlgate.data]\ntrain = 3\n", "data.train"),
    "options-not-a-table": ("[tool.mlgate.model]\noptions = 3\n", "model.options"),
    "list-param": ("[tool.mlgate.model]\nparams = { alpha = [0.1] }\n", "model.params"),
    "latency-repeats-one": ("[tool.mlgate.report]\nlatency_repeats = 1\n", "report"),
    "retries-too-many": ("[tool.mlgate.tracking]\nconnect_retries = 99\n", "tracking"),
    "bound-max-nan": (
        "[tool.mlgate.gate.bounds]\nroot_mean_squared_error = { max = nan }\n",
        "root_mean_squared_error",
    ),
    "bound-min-inf": ("[tool.mlgate.gate.bounds]\nr2_score = { min = -inf }\n", "r2_score"),
    "alias-latest": ("[tool.mlgate.tracking]\nchampion_alias = 'latest'\n", "reserved"),
    "alias-Latest": ("[tool.mlgate.tracking]\nchampion_alias = 'Latest'\n", "reserved"),
    "alias-version": ("[tool.mlgate.tracking]\nchampion_alias = 'v3'\n", "reserved"),
    "alias-empty": ("[tool.mlgate.tracking]\nchampion_alias = ''\n", "champion_alias"),
    "report-latency-batch-huge": (
        "[tool.mlgate.report]\nlatency_batch = 10000000000\n",
        "100000",
    ),
    "report-latency-repeats-huge": (
        "[tool.mlgate.report]\nlatency_repeats = 100000000\n",
        "1000",
    ),
    "serving-latency-batch-huge": (
        "[tool.mlgate.serving]\nlatency_batch = 50000000\n",
        "serving.latency_batch",
    ),
    "serving-latency-repeats-huge": (
        "[tool.mlgate.serving]\nlatency_repeats = 100000000\n",
        "serving.latency_repeats",
    ),
    "fit-budget-zero": ("[tool.mlgate.model]\nmax_fit_seconds = 0\n", "max_fit_seconds"),
    "fit-budget-inf": ("[tool.mlgate.model]\nmax_fit_seconds = inf\n", "max_fit_seconds"),
    "fit-budget-huge": ("[tool.mlgate.model]\nmax_fit_seconds = 1e9\n", "86400"),
    "param-huge-int": (
        "[tool.mlgate.model]\nparams = { max_iter = 99999999999999999999 }\n",
        "max_iter",
    ),
    "param-inf": ("[tool.mlgate.model]\nparams = { alpha = inf }\n", "alpha"),
}


@pytest.mark.parametrize(("table", "word"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_is_a_one_line_error(pyproject, table: str, word: str) -> None:
    path = pyproject(table)
    with pytest.raises(UserError) as error:
        load_settings(path)
    _one_line_error(error, path, "[tool.mlgate]", word)


@pytest.mark.parametrize(
    "content",
    ["[tool.mlgate\n", "[tool.mlgate.data]\ntrain = \n", "\xff\xfe"],
    ids=["unclosed-table", "missing-value", "not-utf8"],
)
def test_unreadable_file_is_a_one_line_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(UserError) as error:
        load_settings(path)
    _one_line_error(error, path, "cannot read")


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(UserError) as error:
        load_settings(path)
    _one_line_error(error, path, "not found")


def test_bad_override_names_its_path(pyproject) -> None:
    path = pyproject()
    with pytest.raises(UserError) as error:
        load_settings(path, overrides={"gate": {"relative_tolerance": -1}})
    _one_line_error(error, path, "gate.relative_tolerance")


def test_overrides_merge_deeply(pyproject) -> None:
    path = pyproject(FULL_TABLE)
    overrides = {
        "data": {"validation": "other.parquet"},
        "model": {"params": {"alpha": 0.7}, "options": {"max_minutes": 45}},
        "gate": {"bounds": {"max_error": {"max": 40.0}}},
        "tracking": {"experiment": "trips-pr-7"},
    }
    settings = load_settings(path, overrides=overrides)
    assert settings.data.validation == Path("other.parquet")
    assert settings.data.train == Path("months/train.parquet")
    assert settings.model.options == {"min_minutes": 2, "max_minutes": 45}
    assert settings.model.estimator == "sklearn.linear_model.Ridge"
    assert settings.model.params == {"alpha": 0.7, "features__max_zone_id": 265}
    assert settings.gate.bounds == {
        "r2_score": Bound(min=0.3),
        "mean_absolute_error": Bound(max=8.0),
        "max_error": Bound(max=40.0),
    }
    assert settings.gate.metric == "mean_absolute_error"
    assert settings.experiment == "trips-pr-7"
    assert settings.tracking.champion_alias == "prod"


def test_overrides_do_not_change_the_file_or_later_loads(pyproject) -> None:
    path = pyproject(FULL_TABLE)
    before = path.read_text(encoding="utf-8")
    load_settings(path, overrides={"model": {"options": {"max_minutes": 30}}})
    assert path.read_text(encoding="utf-8") == before
    assert load_settings(path).model.options["max_minutes"] == 90


def test_overrides_apply_without_a_table(pyproject) -> None:
    settings = load_settings(pyproject(), overrides={"gate": {"metric": "r2_score"}})
    assert settings.gate.metric == "r2_score"
    assert settings.gate.greater_is_better is True


def test_paths_resolve_against_the_config_folder(
    pyproject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    path = pyproject(FULL_TABLE, folder=project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(path)
    assert settings.path(settings.data.train) == project.resolve() / "months" / "train.parquet"
    assert settings.path(settings.data.validation) == Path("/abs/validation.parquet")
    assert settings.path(settings.report.directory) == project.resolve() / "out" / "reports"


def test_relative_config_path_still_resolves_absolutely(
    pyproject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject(FULL_TABLE, folder=tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(Path("project/pyproject.toml"))
    assert settings.root.is_absolute()
    assert settings.path(settings.data.train) == tmp_path.resolve() / "project/months/train.parquet"


def test_sections_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.data.train = Path("x")  # type: ignore[misc]


def test_gate_config_direct_construction_checks_direction() -> None:
    with pytest.raises(ValueError, match="min, not max"):
        GateConfig(bounds={"r2_score": Bound(max=0.5)})
    assert GateConfig(metric="r2_score").greater_is_better


PARAMS = {
    "float": ("alpha=0.5", ("alpha", 0.5)),
    "int": ("max_iter=2000", ("max_iter", 2000)),
    "negative-int": ("random_state=-1", ("random_state", -1)),
    "exponent": ("tol=1e-4", ("tol", 0.0001)),
    "false": ("fit_intercept=false", ("fit_intercept", False)),
    "true": ("positive=true", ("positive", True)),
    "bare-string": ("selection=random", ("selection", "random")),
    "quoted-string": ('selection="cyclic"', ("selection", "cyclic")),
    "none": ("x=none", ("x", None)),
    "None": ("x=None", ("x", None)),
    "null": ("x=null", ("x", None)),
    "spaces": (" alpha = 0.25 ", ("alpha", 0.25)),
    "prefixed": ("features__max_zone_id=265", ("features__max_zone_id", 265)),
    "equals-in-value": ("name=a=b", ("name", "a=b")),
}


@pytest.mark.parametrize(("text", "expected"), PARAMS.values(), ids=PARAMS.keys())
def test_parse_param(text: str, expected: tuple[str, object]) -> None:
    key, value = parse_param(text)
    assert (key, value) == expected
    assert type(value) is type(expected[1])


@pytest.mark.parametrize(
    "text",
    ["noequals", "=1", " =1", "", "x=[1, 2]", "x={a = 1}"],
    ids=["no-equals", "no-name", "blank-name", "empty", "list", "table"],
)
def test_parse_param_rejects(text: str) -> None:
    with pytest.raises(UserError) as error:
        parse_param(text)
    message = str(error.value)
    assert "\n" not in message
    assert "--param" in message
    assert repr(text) in message


HOSTILE_PARAMS = {
    "400-zeros": ("alpha=1" + "0" * 400, "200 characters"),
    "5000-digits": ("alpha=" + "7" * 5000, "200 characters"),
    "int-beyond-c": ("max_iter=99999999999999999999", "2**31"),
    "float-overflow": ("alpha=1e400", "finite"),
    "inf": ("alpha=inf", "finite"),
    "nan": ("alpha=nan", "finite"),
    "negative-huge": ("random_state=-3000000000", "2**31"),
}


@pytest.mark.parametrize(("text", "word"), HOSTILE_PARAMS.values(), ids=HOSTILE_PARAMS.keys())
def test_parse_param_rejects_numbers_no_estimator_takes(text: str, word: str) -> None:
    with pytest.raises(UserError) as error:
        parse_param(text)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"--param {text.partition('=')[0]}")
    assert word in message
    assert len(message) < 200, "the value itself is not echoed in full"


def test_parsed_params_are_valid_model_params() -> None:
    params = dict(parse_param(t) for t in ["alpha=0.5", "max_iter=10", "selection=random"])
    assert ModelConfig(params=params).params == {
        "alpha": 0.5,
        "max_iter": 10,
        "selection": "random",
    }
