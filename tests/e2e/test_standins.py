"""Check the stand-in actions' scripts directly (no act), against the real actions' rules."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.act import write_git_config
from support.git_repo import commit_files, create_branch, git, make_repo_clone, switch

ACTIONS = Path(__file__).resolve().parent / "actions"


@dataclass
class Ran:
    """A stand-in script's exit code, log, outputs and exported env/path lines."""

    returncode: int
    log: str
    outputs: dict[str, str]
    env: dict[str, str]
    path: list[str]


@pytest.fixture
def runner_dirs(tmp_path: Path) -> dict[str, Path]:
    """Workspace, HOME, temp, tool cache and artifact store of a fake runner."""
    dirs = {name: tmp_path / name for name in ("ws", "home", "temp", "tools", "store", "cmd")}
    for folder in dirs.values():
        folder.mkdir()
    return dirs


def run_script(script: str, dirs: dict[str, Path], inputs: dict[str, str], **env: str) -> Ran:
    """Run a stand-in script with the variables a runner (and the composite step) provides."""
    files = {key: dirs["cmd"] / key for key in ("output", "env", "path")}
    for file in files.values():
        file.write_text("")
    full_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(dirs["home"]),
        "GITHUB_WORKSPACE": str(dirs["ws"]),
        "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_ENV": str(files["env"]),
        "GITHUB_PATH": str(files["path"]),
        "GITHUB_RUN_ID": "100",
        "GITHUB_REPOSITORY": "acme/trips",
        "GITHUB_SERVER_URL": "https://github.com",
        "RUNNER_TEMP": str(dirs["temp"]),
        "RUNNER_TOOL_CACHE": str(dirs["tools"]),
        "E2E_ARTIFACT_STORE": str(dirs["store"]),
        "GIT_CONFIG_NOSYSTEM": "1",
        **{f"INPUT_{k.upper().replace('-', '_')}": v for k, v in inputs.items()},
        **env,
    }
    done = subprocess.run(
        [sys.executable, str(ACTIONS / script)],
        cwd=dirs["ws"],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    lines = files["output"].read_text().splitlines()
    outputs = dict(line.split("=", 1) for line in lines if "=" in line)
    exported = dict(line.split("=", 1) for line in files["env"].read_text().splitlines())
    return Ran(
        done.returncode,
        done.stdout + done.stderr,
        outputs,
        exported,
        files["path"].read_text().splitlines(),
    )


def tree(folder: Path) -> set[str]:
    """Relative names of the files below a folder."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def make_workspace(ws: Path) -> None:
    """Files the upload cases pick from."""
    for name, text in {
        "out/report.json": "{}",
        "out/nested/note.txt": "n",
        "out/.hidden": "h",
        "out/.cache/blob.txt": "b",
        "other/x.txt": "x",
        "top.txt": "t",
        ".coverage": "c",
    }.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)


# --------------------------------------------------------------------------- upload


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("out/report.json", {"report.json"}),
        ("out/", {"report.json", "nested/note.txt"}),
        ("out", {"report.json", "nested/note.txt"}),
        ("out/**/*.txt", {"nested/note.txt"}),
        ("out/report.json\nother/x.txt", {"out/report.json", "other/x.txt"}),
        ("out/\n!out/nested", {"report.json"}),
        ("*.txt", {"top.txt"}),
        (".coverage", set()),
    ],
)
def test_upload_matches_like_the_real_action(
    runner_dirs: dict[str, Path], path: str, expected: set[str]
) -> None:
    """Root folder, globs, excludes and the hidden-file rule decide the artifact's names."""
    make_workspace(runner_dirs["ws"])
    ran = run_script("upload-artifact/upload.py", runner_dirs, {"name": "a", "path": path})
    assert ran.returncode == 0, ran.log
    assert tree(runner_dirs["store"] / "100" / "a") == expected if expected else True
    if not expected:
        assert "::warning::No files were found" in ran.log
        assert not (runner_dirs["store"] / "100").exists()


def test_upload_includes_hidden_files_on_request(runner_dirs: dict[str, Path]) -> None:
    """include-hidden-files: true keeps dot files and dot folders."""
    make_workspace(runner_dirs["ws"])
    inputs = {"name": "a", "path": "out", "include-hidden-files": "true"}
    ran = run_script("upload-artifact/upload.py", runner_dirs, inputs)
    assert ran.returncode == 0, ran.log
    assert tree(runner_dirs["store"] / "100" / "a") == {
        "report.json",
        "nested/note.txt",
        ".hidden",
        ".cache/blob.txt",
    }
    assert ran.outputs["artifact-id"] == "1"
    assert ran.outputs["artifact-url"].endswith("/acme/trips/actions/runs/100/artifacts/1")


@pytest.mark.parametrize(("mode", "code"), [("error", 1), ("warn", 0), ("ignore", 0)])
def test_upload_if_no_files_found(runner_dirs: dict[str, Path], mode: str, code: int) -> None:
    """error fails the step, warn annotates, ignore only logs; no artifact either way."""
    inputs = {"name": "a", "path": "missing/", "if-no-files-found": mode}
    ran = run_script("upload-artifact/upload.py", runner_dirs, inputs)
    assert ran.returncode == code, ran.log
    assert ("::warning::" in ran.log) == (mode == "warn")
    assert ("::error::" in ran.log) == (mode == "error")
    assert not any(runner_dirs["store"].iterdir())


def test_upload_same_name_needs_overwrite(runner_dirs: dict[str, Path]) -> None:
    """A second artifact of the same name in a run fails unless overwrite is true."""
    make_workspace(runner_dirs["ws"])
    first = run_script("upload-artifact/upload.py", runner_dirs, {"name": "a", "path": "top.txt"})
    assert first.returncode == 0, first.log
    again = {"name": "a", "path": "other/x.txt"}
    clash = run_script("upload-artifact/upload.py", runner_dirs, again)
    assert clash.returncode != 0
    assert "409" in clash.log
    replaced = run_script("upload-artifact/upload.py", runner_dirs, again | {"overwrite": "true"})
    assert replaced.returncode == 0, replaced.log
    assert tree(runner_dirs["store"] / "100" / "a") == {"x.txt"}


def test_upload_rejects_bad_names(runner_dirs: dict[str, Path]) -> None:
    """Names with characters GitHub refuses fail."""
    make_workspace(runner_dirs["ws"])
    ran = run_script("upload-artifact/upload.py", runner_dirs, {"name": "a/b", "path": "top.txt"})
    assert ran.returncode != 0
    assert "not valid" in ran.log


# --------------------------------------------------------------------------- download


def store_artifact(dirs: dict[str, Path], run_id: str, name: str, files: dict[str, str]) -> None:
    """Put an artifact into the store as the upload stand-in would."""
    for relative, text in files.items():
        target = dirs["store"] / run_id / name / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def test_download_reads_other_run_only_with_token(runner_dirs: dict[str, Path]) -> None:
    """run-id is honoured with github-token and ignored without it, as on GitHub."""
    store_artifact(runner_dirs, "7", "report", {"r.json": "old run"})
    store_artifact(runner_dirs, "100", "report", {"r.json": "this run"})
    inputs = {"name": "report", "path": "got", "run-id": "7"}
    ran = run_script("download-artifact/download.py", runner_dirs, inputs)
    assert ran.returncode == 0, ran.log
    assert (runner_dirs["ws"] / "got" / "r.json").read_text() == "this run"
    assert "ignored because github-token is not set" in ran.log
    with_token = inputs | {"github-token": "t", "repository": "acme/trips"}
    ran = run_script("download-artifact/download.py", runner_dirs, with_token)
    assert ran.returncode == 0, ran.log
    assert (runner_dirs["ws"] / "got" / "r.json").read_text() == "old run"
    assert ran.outputs["download-path"] == str(runner_dirs["ws"] / "got")


def test_download_missing_artifact_fails(runner_dirs: dict[str, Path]) -> None:
    """A missing name fails and says what the run has."""
    store_artifact(runner_dirs, "100", "other", {"f": "x"})
    ran = run_script("download-artifact/download.py", runner_dirs, {"name": "report"})
    assert ran.returncode != 0
    assert "Artifact not found for name: report" in ran.log
    assert "other" in ran.log


def test_download_all_into_folders_or_merged(runner_dirs: dict[str, Path]) -> None:
    """Without a name every artifact gets its folder, unless merge-multiple; pattern filters."""
    store_artifact(runner_dirs, "100", "m-1", {"a.txt": "1"})
    store_artifact(runner_dirs, "100", "m-2", {"b.txt": "2"})
    store_artifact(runner_dirs, "100", "z", {"c.txt": "3"})
    ran = run_script("download-artifact/download.py", runner_dirs, {"path": "all"})
    assert ran.returncode == 0, ran.log
    assert tree(runner_dirs["ws"] / "all") == {"m-1/a.txt", "m-2/b.txt", "z/c.txt"}
    inputs = {"path": "~/merged", "pattern": "m-*", "merge-multiple": "true"}
    ran = run_script("download-artifact/download.py", runner_dirs, inputs)
    assert ran.returncode == 0, ran.log
    assert tree(runner_dirs["home"] / "merged") == {"a.txt", "b.txt"}


def test_download_other_repository_is_refused(runner_dirs: dict[str, Path]) -> None:
    """Only the repository under test has artifacts here."""
    inputs = {"name": "x", "github-token": "t", "repository": "else/where", "run-id": "1"}
    ran = run_script("download-artifact/download.py", runner_dirs, inputs)
    assert ran.returncode != 0
    assert "else/where" in ran.log


# --------------------------------------------------------------------------- checkout


@pytest.fixture
def source_repo(tmp_path: Path, runner_dirs: dict[str, Path]) -> dict[str, str]:
    """A small clone with main, a feature branch and a tag, reachable as github.com/acme/trips."""
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "a.txt").write_text("main\n")
    git(seed, "init", "--quiet", "-b", "main")
    repo = make_repo_clone(seed, tmp_path / "clone")
    main_sha = commit_files(repo, {"b.txt": "second\n"}, "Second")
    git(repo, "tag", "v1")
    create_branch(repo, "feature")
    feature_sha = commit_files(repo, {"c.txt": "feature\n"}, "Feature")
    switch(repo, "main")
    write_git_config(runner_dirs["home"], repo)
    return {"main": main_sha, "feature": feature_sha}


def checkout(dirs: dict[str, Path], inputs: dict[str, str], **env: str) -> Ran:
    """Run the checkout stand-in with defaults for an event on main."""
    defaults = {"GITHUB_REF": "refs/heads/main", "GITHUB_SHA": ""}
    return run_script("checkout/checkout.py", dirs, inputs, **(defaults | env))


@pytest.mark.parametrize(
    ("ref", "branch", "commit_key"),
    [
        ("feature", "feature", "feature"),
        ("refs/heads/feature", "feature", "feature"),
        ("v1", None, "main"),
        ("SHA", None, "feature"),
    ],
)
def test_checkout_refs(
    runner_dirs: dict[str, Path],
    source_repo: dict[str, str],
    ref: str,
    branch: str | None,
    commit_key: str,
) -> None:
    """Branches land on a local branch, tags and SHAs detached; depth 1 is shallow."""
    wanted = source_repo["feature"] if ref == "SHA" else ref
    ran = checkout(runner_dirs, {"ref": wanted, "path": "src", "fetch-depth": "1"})
    assert ran.returncode == 0, ran.log
    work = runner_dirs["ws"] / "src"
    assert git(work, "rev-parse", "HEAD") == source_repo[commit_key]
    assert ran.outputs["commit"] == source_repo[commit_key]
    on_branch = git(work, "symbolic-ref", "-q", "--short", "HEAD", check=False) or None
    assert on_branch == branch
    assert git(work, "rev-parse", "--is-shallow-repository") == "true"
    assert git(work, "config", "remote.origin.url") == "https://github.com/acme/trips"


def test_checkout_full_history_and_default_ref(
    runner_dirs: dict[str, Path], source_repo: dict[str, str]
) -> None:
    """fetch-depth 0 brings all branches and tags; without ref the event's SHA is used."""
    (runner_dirs["ws"] / "stale.txt").write_text("removed by checkout")
    ran = checkout(runner_dirs, {"fetch-depth": "0"}, GITHUB_SHA=source_repo["main"])
    assert ran.returncode == 0, ran.log
    work = runner_dirs["ws"]
    assert not (work / "stale.txt").exists()
    assert git(work, "rev-parse", "HEAD") == source_repo["main"]
    assert git(work, "rev-parse", "--is-shallow-repository") == "false"
    assert git(work, "rev-parse", "origin/feature") == source_repo["feature"]
    assert git(work, "tag") == "v1"


def test_checkout_unknown_ref_fails(
    runner_dirs: dict[str, Path], source_repo: dict[str, str]
) -> None:
    """A ref that is neither branch nor tag fails like the real action."""
    ran = checkout(runner_dirs, {"ref": "nope"})
    assert ran.returncode != 0
    assert "could not be found" in ran.log


# --------------------------------------------------------------------------- setup-uv


def uv_env() -> dict[str, str]:
    """Point the stand-in at the host's uv, as the harness does."""
    from support.act import host_uv

    uv = host_uv()
    assert uv, "uv must be installed"
    return {"E2E_UV_BIN": uv}


def test_setup_uv_puts_uv_on_path_and_sets_python(runner_dirs: dict[str, Path]) -> None:
    """uv and uvx come from the tool cache; python-version becomes UV_PYTHON; no venv."""
    (runner_dirs["ws"] / "pyproject.toml").write_text("[project]\nname='x'\nversion='0'\n")
    inputs = {"python-version": "3.11", "activate-environment": "false", "enable-cache": "auto"}
    ran = run_script("setup-uv/setup_uv.py", runner_dirs, inputs, **uv_env())
    assert ran.returncode == 0, ran.log
    tool_dir = Path(ran.outputs["uv-path"]).parent
    assert str(tool_dir) in ran.path
    assert tool_dir.is_relative_to(runner_dirs["tools"])
    version = subprocess.run(
        [ran.outputs["uv-path"], "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert ran.outputs["uv-version"] in version
    assert (tool_dir / "uvx").exists()
    assert ran.env["UV_PYTHON"] == "3.11"
    assert "VIRTUAL_ENV" not in ran.env
    assert "cache-hit" not in ran.outputs
    assert "Empty workdir" not in ran.log


def test_setup_uv_activates_a_venv(runner_dirs: dict[str, Path]) -> None:
    """activate-environment creates .venv in the working directory and activates it."""
    (runner_dirs["ws"] / "uv.lock").write_text("version = 1\n")
    inputs = {
        "python-version": "3.11",
        "activate-environment": "true",
        "enable-cache": "true",
        "cache-dependency-glob": "uv.lock",
        "version": "0.0.1",
    }
    ran = run_script("setup-uv/setup_uv.py", runner_dirs, inputs, **uv_env())
    assert ran.returncode == 0, ran.log
    venv = runner_dirs["ws"] / ".venv"
    assert (venv / "bin" / "python").exists()
    assert ran.env["VIRTUAL_ENV"] == str(venv)
    assert str(venv / "bin") in ran.path
    assert ran.outputs["cache-hit"] == "false"
    assert "wanted uv 0.0.1" in ran.log


def test_setup_uv_cache_glob_must_match(runner_dirs: dict[str, Path]) -> None:
    """With the cache on and nothing to hash (no checkout yet) the real action fails."""
    inputs = {"enable-cache": "true", "cache-dependency-glob": "**/uv.lock"}
    ran = run_script("setup-uv/setup_uv.py", runner_dirs, inputs, **uv_env())
    assert ran.returncode != 0
    assert "make sure you have checked out the target repository" in ran.log
    assert "Empty workdir detected" in ran.log


def test_setup_uv_rejects_non_boolean(runner_dirs: dict[str, Path]) -> None:
    """activate-environment must be a YAML 1.2 boolean, as getBooleanInput demands."""
    ran = run_script(
        "setup-uv/setup_uv.py", runner_dirs, {"activate-environment": "yes"}, **uv_env()
    )
    assert ran.returncode != 0
    assert "activate-environment" in ran.log


# --------------------------------------------------------------------------- bytecode seeding

TAG = sys.implementation.cache_tag


def _pyc(folder: Path, module: str, text: str, tag: str = TAG) -> Path:
    cached = folder / "__pycache__" / f"{module}.{tag}.pyc"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(text)
    return cached


def test_bytecode_goes_only_where_its_source_is_installed_and_none_is_yet(
    tmp_path: Path,
) -> None:
    """No folder of bytecode alone (it would import as a namespace package), no other
    optimisation level or interpreter, and a .pyc the environment has is kept."""
    import runpy

    seed = runpy.run_path(str(ACTIONS / "setup-uv" / "seed_bytecode.py"))["seed"]
    source = tmp_path / "from" / "lib" / "python3.11" / "site-packages"
    _pyc(source / "pkg", "mod", "compiled mod")
    _pyc(source / "pkg", "kept", "compiled kept")
    _pyc(source / "pkg", "other", "other interpreter", tag="cpython-399")
    (source / "pkg" / "__pycache__" / f"mod.{TAG}.opt-1.pyc").write_text("optimised")
    _pyc(source / "absent", "gone", "not installed here")
    environment = tmp_path / "env"
    installed = environment / "lib" / "python3.11" / "site-packages" / "pkg"
    installed.mkdir(parents=True)
    for module in ("mod", "kept", "other"):
        (installed / f"{module}.py").write_text("x = 1\n")
    _pyc(installed, "kept", "its own")

    assert seed(source, environment) == 1
    assert tree(installed.parent) == {
        "pkg/mod.py", "pkg/kept.py", "pkg/other.py",
        f"pkg/__pycache__/mod.{TAG}.pyc", f"pkg/__pycache__/kept.{TAG}.pyc",
    }  # fmt: skip
    assert (installed / "__pycache__" / f"mod.{TAG}.pyc").read_text() == "compiled mod"
    assert (installed / "__pycache__" / f"kept.{TAG}.pyc").read_text() == "its own"
    assert seed(source, tmp_path / "not-an-environment") == 0


def test_setup_uv_seeds_bytecode_after_a_sync_that_succeeded(
    runner_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """With E2E_BYTECODE_FROM (kept environments), the tool cache's uv is the host's plus the
    seeding; its exit status is uv's own."""
    source = tmp_path / "from-site-packages"
    _pyc(source / "pkg", "mod", "compiled elsewhere")
    plain = run_script("setup-uv/setup_uv.py", runner_dirs, {}, **uv_env())
    assert plain.returncode == 0, plain.log
    assert Path(plain.outputs["uv-path"]).is_symlink(), "without seeding, the host's uv itself"
    ran = run_script(
        "setup-uv/setup_uv.py", runner_dirs, {}, **uv_env(), E2E_BYTECODE_FROM=str(source)
    )
    assert ran.returncode == 0, ran.log
    ws = runner_dirs["ws"]
    (ws / "pyproject.toml").write_text(
        "[project]\nname = 'x'\nversion = '0'\nrequires-python = '>=3.11'\ndependencies = []\n"
        "\n[tool.uv]\npackage = false\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(runner_dirs["home"]),
        "UV_PYTHON_DOWNLOADS": "never",
        "E2E_BYTECODE_FROM": str(source),
    }

    def uv(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ran.outputs["uv-path"], *args], cwd=ws, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip

    assert uv("sync").returncode == 0
    (site,) = (ws / ".venv").glob("lib/python3*/site-packages")
    (site / "pkg").mkdir()
    (site / "pkg" / "mod.py").write_text("x = 1\n")
    cached = site / "pkg" / "__pycache__" / f"mod.{TAG}.pyc"
    assert uv("sync", "--no-such-option").returncode == 2
    assert uv("--version").returncode == 0
    assert not cached.exists(), "only a sync that succeeded seeds"
    assert uv("sync").returncode == 0
    assert cached.read_text() == "compiled elsewhere"
