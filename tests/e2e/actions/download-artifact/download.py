"""Copy artifacts stored by the upload stand-in into the workspace, like download-artifact v4+."""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path

ENV = os.environ


def copy_into(source: Path, destination: Path) -> int:
    """Merge a stored artifact folder into the destination; return the file count."""
    count = 0
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        target = destination / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        count += 1
    return count


def main() -> None:
    """Resolve which run and artifacts are meant, then copy them."""
    if not ENV.get("E2E_ARTIFACT_STORE"):
        raise SystemExit("::error::download-artifact stand-in: E2E_ARTIFACT_STORE is not set")
    name = ENV.get("INPUT_NAME", "").strip()
    if ENV.get("INPUT_ARTIFACT_IDS", "").strip():
        raise SystemExit("::error::download-artifact stand-in: artifact-ids is not supported")

    run_id, repository = ENV["GITHUB_RUN_ID"], ENV["GITHUB_REPOSITORY"]
    wanted_run = ENV.get("INPUT_RUN_ID", "").strip()
    if ENV.get("INPUT_GITHUB_TOKEN", "").strip():
        run_id = wanted_run or run_id
        repository = ENV.get("INPUT_REPOSITORY", "").strip() or repository
    elif wanted_run and wanted_run != run_id:
        print(f"Note: run-id {wanted_run} ignored because github-token is not set (as on GitHub)")
    if repository.lower() != ENV["GITHUB_REPOSITORY"].lower():
        raise SystemExit(
            f"::error::download-artifact stand-in: only artifacts of {ENV['GITHUB_REPOSITORY']} "
            f"are stored, not of {repository}"
        )

    text = ENV.get("INPUT_PATH", "").strip()
    if text.startswith("~"):
        text = ENV["HOME"] + text[1:]
    destination = (Path(ENV["GITHUB_WORKSPACE"]) / text).resolve()
    run_folder = Path(ENV["E2E_ARTIFACT_STORE"]) / run_id

    if name:
        source = run_folder / name
        if not source.is_dir():
            known = sorted(p.name for p in run_folder.iterdir()) if run_folder.is_dir() else []
            raise SystemExit(
                f"::error::Unable to download artifact(s): Artifact not found for name: {name} "
                f"(run {run_id} has: {', '.join(known) or 'no artifacts'})"
            )
        count = copy_into(source, destination)
        print(f"Artifact {name} ({count} file(s)) was downloaded to {destination}")
    else:
        artifacts = (
            sorted(p for p in run_folder.iterdir() if p.is_dir()) if run_folder.is_dir() else []
        )
        pattern = ENV.get("INPUT_PATTERN", "").strip()
        if pattern:
            artifacts = [a for a in artifacts if fnmatch.fnmatchcase(a.name, pattern)]
        merge = ENV.get("INPUT_MERGE_MULTIPLE", "false").strip().lower() == "true"
        for artifact in artifacts:
            copy_into(artifact, destination if merge else destination / artifact.name)
        print(f"There were {len(artifacts)} artifact(s) downloaded to {destination}")

    with open(ENV["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"download-path={destination}\n")


if __name__ == "__main__":
    main()
