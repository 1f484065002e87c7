"""Check out a repository like actions/checkout does, from whatever `git` resolves its URL to.

The harness maps https://github.com/<owner>/<name> to the local clone with a git `insteadOf`
rule, so this fetches offline while the remote URL in .git/config stays the GitHub one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")


def git(*args: str, cwd: Path, capture: bool = False) -> str:
    """Run git, echoing the command the way the real action logs it."""
    print(f"[command]git {' '.join(args)}", flush=True)
    done = subprocess.run(
        ["git", "-c", "advice.detachedHead=false", *args],
        cwd=cwd,
        check=False,
        text=True,
        capture_output=capture,
    )
    if done.returncode != 0:
        if capture:
            sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"::error::git {args[0]} failed with exit code {done.returncode}")
    return done.stdout if capture else ""


def remote_kind(url: str, name: str, cwd: Path) -> str:
    """Tell whether a short ref name is a branch or a tag on the remote (branch wins)."""
    listing = git(
        "ls-remote", url, f"refs/heads/{name}", f"refs/tags/{name}", cwd=cwd, capture=True
    )
    refs = {line.split("\t", 1)[1] for line in listing.splitlines() if "\t" in line}
    if f"refs/heads/{name}" in refs:
        return "branch"
    if f"refs/tags/{name}" in refs:
        return "tag"
    raise SystemExit(f"::error::A branch or tag with the name '{name}' could not be found")


def plan(url: str, ref: str, sha: str, cwd: Path) -> tuple[str, str]:
    """Return (refspec to fetch, what to check out) for a ref and/or SHA."""
    if SHA_RE.match(ref):
        return ref, ref
    if not ref:
        return sha, sha
    if ref.startswith("refs/heads/"):
        name = ref.removeprefix("refs/heads/")
        return f"+{sha or ref}:refs/remotes/origin/{name}", f"branch:{name}"
    if ref.startswith("refs/tags/"):
        return f"+{ref}:{ref}", ref
    if ref.startswith("refs/pull/"):
        local = "refs/remotes/pull/" + ref.removeprefix("refs/pull/")
        return (f"+{sha}:{local}" if sha else f"+{ref}:{local}"), local
    if ref.startswith("refs/"):
        return f"+{ref}:{ref}", ref
    if remote_kind(url, ref, cwd) == "branch":
        return f"+refs/heads/{ref}:refs/remotes/origin/{ref}", f"branch:{ref}"
    return f"+refs/tags/{ref}:refs/tags/{ref}", f"refs/tags/{ref}"


def default_branch(url: str, cwd: Path) -> str:
    """Find the remote's default branch, as the real action does for other repositories."""
    listing = git("ls-remote", "--symref", url, "HEAD", cwd=cwd, capture=True)
    for line in listing.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            return line.removeprefix("ref: ").split("\t", 1)[0]
    raise SystemExit(f"::error::Could not determine the default branch of {url}")


def main() -> None:
    """Empty the target folder, fetch the wanted commit and check it out."""
    env = os.environ
    workspace = Path(env["GITHUB_WORKSPACE"])
    repository = env.get("INPUT_REPOSITORY") or env["GITHUB_REPOSITORY"]
    url = f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{repository}"
    ref = env.get("INPUT_REF", "").strip()
    sha = ""
    if not ref and repository.lower() == env.get("GITHUB_REPOSITORY", "").lower():
        ref, sha = env.get("GITHUB_REF", ""), env.get("GITHUB_SHA", "")
    elif not ref:
        ref = default_branch(url, workspace)
    depth = int(env.get("INPUT_FETCH_DEPTH") or "1")

    target = (workspace / env.get("INPUT_PATH", "")).resolve()
    if target.exists():
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    target.mkdir(parents=True, exist_ok=True)

    git("init", "--quiet", ".", cwd=target)
    git("remote", "add", "origin", url, cwd=target)
    refspec, wanted = plan(url, ref, sha, target)
    fetch = ["fetch", "--quiet", "--prune", "--no-recurse-submodules"]
    if depth > 0:
        if env.get("INPUT_FETCH_TAGS", "false").lower() != "true":
            fetch.append("--no-tags")
        fetch.append(f"--depth={depth}")
    else:
        git(*fetch, "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=target)
    git(*fetch, "origin", refspec, cwd=target)
    if wanted.startswith("branch:"):
        name = wanted.removeprefix("branch:")
        git("checkout", "--force", "-B", name, f"refs/remotes/origin/{name}", cwd=target)
    else:
        git("checkout", "--force", "--detach", wanted, cwd=target)

    commit = git("rev-parse", "HEAD", cwd=target, capture=True).strip()
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"ref={ref}\ncommit={commit}\n")


if __name__ == "__main__":
    main()
