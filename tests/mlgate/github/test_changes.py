"""Model inputs: which PR changes need a registered candidate before they may merge quietly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.config import PromotionConfig
from mlgate.github.changes import changed_paths, matches, model_inputs_changed
from mlgate.github.client import GitHubClient
from support.github_api import FakeGitHub
from support.project import Project
from support.stores import sqlite_store

TOKEN = "ghs_changesTOKENvalue000"
REPO = "acme/trips"
HEAD = "abcdef0123456789abcdef0123456789abcdef01"
MERGE = "0123456789abcdef0123456789abcdef01234567"
DEFAULTS = PromotionConfig().model_inputs


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPO) as fake:
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
        yield fake


@pytest.mark.parametrize(
    ("path", "is_input"),
    [
        ("src/green_taxi/features.py", True),
        ("src/mlgate/cli.py", True),
        ("data/green_tripdata_2023-01.parquet", True),
        ("pyproject.toml", True),
        ("uv.lock", True),
        (".github/workflows/pr.yml", False),
        ("README.md", False),
        ("tests/green_taxi/test_features.py", False),
        ("docs/src/notes.md", False),
        ("srcx/other.py", False),
        ("sub/pyproject.toml", False),
    ],
)
def test_default_model_inputs(path: str, is_input: bool) -> None:
    assert matches(path, DEFAULTS) is is_input


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("**/*.parquet", "data/a/b.parquet", True),
        ("**/*.parquet", "b.parquet", True),
        ("models/*.py", "models/a/b.py", False),
        ("models/?.py", "models/a.py", True),
        ("models/", "models/a.py", False),
    ],
)
def test_glob_semantics(pattern: str, path: str, hit: bool) -> None:
    assert matches(path, [pattern]) is hit


def test_fake_lists_pr_files_across_pages_like_github(gh: FakeGitHub) -> None:
    files = [f"docs/page-{i:03}.md" for i in range(250)] + ["uv.lock"]
    gh.add_pull(7, HEAD, files=files)
    client = GitHubClient(gh.url, TOKEN, REPO)

    assert changed_paths(client, 7) == files
    assert model_inputs_changed(client, 7, DEFAULTS) == ["uv.lock"]
    pages = [r for r in gh.requests if r.path.endswith("/pulls/7/files")]
    assert [r.query.get("page") for r in pages] == [None, "2", "3"] * 2  # two listings


def test_config_refuses_an_empty_list(tmp_path: Path) -> None:
    from mlgate.config import load_settings
    from mlgate.errors import UserError

    config = tmp_path / "c.toml"
    config.write_text("[promotion]\nmodel_inputs = []\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"promotion\.model_inputs"):
        load_settings(config)


@pytest.fixture
def project_without_candidates(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project whose tracking store has never seen the merged PR (its runs had no secrets)."""
    uri = sqlite_store(tmp_path_factory, "no-candidate-store")
    project = Project.create(tmp_path_factory.mktemp("no-candidate"), uri)
    project.enter(monkeypatch, GITHUB_STEP_SUMMARY=str(project.root / "summary.md"))
    return project.config


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([".github/workflows/pr.yml"], 0),  # a Dependabot action bump
        (["README.md", "tests/e2e/act.py"], 0),
        (["uv.lock"], 4),  # a Dependabot dependency bump: needs its secrets
        (["src/my_model/features.py", "README.md"], 4),
    ],
)
def test_promote_without_candidate_passes_only_if_no_model_input_changed(
    gh: FakeGitHub, project_without_candidates: Path, capsys, files: list[str], code: int
) -> None:
    gh.add_pull(7, HEAD, files=files, user="dependabot[bot]")
    gh.merge_pull(7, MERGE)

    assert (
        main(["--config", str(project_without_candidates), "promote", "--merge-commit", MERGE])
        == code
    )

    out, err = capsys.readouterr()
    summary = (project_without_candidates.parent / "summary.md").read_text(encoding="utf-8")
    if code == 0:
        assert "changes no model input" in out
        assert "nothing to promote" in summary
    else:
        [line] = [line for line in err.splitlines() if line.startswith("error:")]
        assert files[0] in line
        assert "Dependabot secrets" in line
        assert files[0] in summary
