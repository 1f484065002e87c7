"""Store files as a named artifact of this run, with actions/upload-artifact v4+ semantics.

What a later download can observe is reproduced: which files match (globs, `**`, `!`
excludes, folders taking all their contents), the hidden-file rule, and the artifact's root
(the search path, its parent for a single literal file, or the common ancestor of several).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

ENV = os.environ
GLOB_CHARS = re.compile(r"[*?\[]")
BAD_NAME_CHARS = ['"', ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/"]


def segment_regex(segment: str) -> str:
    """Translate one path segment of a glob into a regex that never crosses `/`."""
    out, i = [], 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in segment[i + 1 :]:
            end = segment.index("]", i + 1)
            body = segment[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


class Pattern:
    """One line of the `path` input, resolved against the workspace."""

    def __init__(self, line: str, workspace: Path) -> None:
        self.negate = line.startswith("!")
        text = line[1:] if self.negate else line
        if text.startswith("~"):
            text = ENV["HOME"] + text[1:]
        self.dirs_only = text.endswith("/")
        absolute = os.path.normpath(os.path.join(workspace, text))
        segments = [s for s in absolute.split("/") if s]
        literal: list[str] = []
        for segment in segments:
            if GLOB_CHARS.search(segment):
                break
            literal.append(segment)
        self.search_path = Path("/" + "/".join(literal))
        parts = ["(?:/[^/]+)*" if s == "**" else "/" + segment_regex(s) for s in segments]
        self.regex = re.compile("^" + "".join(parts) + "$")

    def hits(self, path: Path) -> bool:
        """Tell whether this pattern names the path itself."""
        if self.dirs_only and not path.is_dir():
            return False
        return bool(self.regex.match(str(path)))

    def covers(self, file: Path, top: Path) -> bool:
        """A file is covered when it, or a folder holding it (up to `top`), is named."""
        for candidate in (file, *file.parents):
            if self.hits(candidate):
                return True
            if candidate == top:
                break
        return False


def hidden(path: Path, search_path: Path) -> bool:
    """Apply the real action's rule: any name from the search path down starting with a dot."""
    names = [search_path.name, *path.relative_to(search_path).parts]
    return any(name.startswith(".") for name in names if name)


def search(pattern: Pattern, include_hidden: bool) -> set[Path]:
    """Walk the pattern's search path and keep the files it covers."""
    root = pattern.search_path
    if not root.exists():
        return set()
    if root.is_file():
        found = {root} if pattern.hits(root) else set()
    else:
        found = set()
        for folder, _dirs, files in os.walk(root, followlinks=True):
            for name in files:
                file = Path(folder) / name
                if pattern.covers(file, root):
                    found.add(file)
    if not include_hidden:
        found = {f for f in found if not hidden(f, root)}
    return found


def search_paths(patterns: list[Pattern]) -> list[Path]:
    """Distinct search paths of the include patterns, dropping those inside another."""
    result: list[Path] = []
    for path in (p.search_path for p in patterns if not p.negate):
        if any(path == kept or path.is_relative_to(kept) for kept in result):
            continue
        result = [kept for kept in result if not kept.is_relative_to(path)]
        result.append(path)
    return result


def root_directory(roots: list[Path], files: list[Path]) -> Path:
    """Pick the folder that file names in the artifact are relative to."""
    if len(roots) > 1:
        return Path(os.path.commonpath([str(r) for r in roots]))
    if len(files) == 1 and files[0] == roots[0]:
        return roots[0].parent
    return roots[0]


def flag(name: str, default: str) -> bool:
    """Read a true/false input."""
    return ENV.get(f"INPUT_{name}", default).strip().lower() == "true"


def main() -> None:
    """Match, then copy the files into the artifact store."""
    workspace = Path(ENV["GITHUB_WORKSPACE"])
    name = ENV.get("INPUT_NAME", "").strip() or "artifact"
    bad = [c for c in BAD_NAME_CHARS if c in name]
    if bad:
        raise SystemExit(f"::error::The artifact name is not valid: {name}. Contains {bad!r}")
    retention = ENV.get("INPUT_RETENTION_DAYS", "0").strip() or "0"
    if not retention.isdigit():
        raise SystemExit(f"::error::Invalid retention-days: {retention}")
    mode = ENV.get("INPUT_IF_NO_FILES_FOUND", "warn").strip() or "warn"
    if mode not in {"warn", "error", "ignore"}:
        raise SystemExit(f"::error::Unrecognized if-no-files-found input. Provided: {mode}")

    lines = [line.strip() for line in ENV.get("INPUT_PATH", "").splitlines()]
    patterns = [Pattern(line, workspace) for line in lines if line and not line.startswith("#")]
    include_hidden = flag("INCLUDE_HIDDEN_FILES", "false")
    files: set[Path] = set()
    for pattern in (p for p in patterns if not p.negate):
        files |= search(pattern, include_hidden)
    for pattern in (p for p in patterns if p.negate):
        files = {f for f in files if not pattern.covers(f, Path("/"))}
    ordered = sorted(files)

    if not ordered:
        shown = ENV.get("INPUT_PATH", "").strip()
        message = (
            f"No files were found with the provided path: {shown}. No artifacts will be uploaded."
        )
        if mode == "error":
            raise SystemExit(f"::error::{message}")
        print(f"::warning::{message}" if mode == "warn" else message)
        return
    print(f"With the provided path, there will be {len(ordered)} file(s) uploaded")

    if not ENV.get("E2E_ARTIFACT_STORE"):
        raise SystemExit("::error::upload-artifact stand-in: E2E_ARTIFACT_STORE is not set")
    store = Path(ENV["E2E_ARTIFACT_STORE"])
    target = store / ENV["GITHUB_RUN_ID"] / name
    if target.exists():
        if not flag("OVERWRITE", "false"):
            raise SystemExit(
                "::error::Failed to CreateArtifact: (409) Conflict: an artifact with this name "
                f"already exists on the workflow run ({name})"
            )
        print(f"Artifact '{name}' deleted")
        shutil.rmtree(target)
    root = root_directory(search_paths(patterns), ordered)
    digest = hashlib.sha256()
    for file in ordered:
        relative = file.relative_to(root)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)
        digest.update(str(relative).encode() + b"\0" + file.read_bytes())
    artifact_id = sum(1 for _ in store.glob("*/*"))
    url = (
        f"{ENV.get('GITHUB_SERVER_URL', 'https://github.com')}/{ENV['GITHUB_REPOSITORY']}"
        f"/actions/runs/{ENV['GITHUB_RUN_ID']}/artifacts/{artifact_id}"
    )
    with open(ENV["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"artifact-id={artifact_id}\nartifact-url={url}\n")
        out.write(f"artifact-digest={digest.hexdigest()}\n")
    print(f"Artifact {name} has been successfully uploaded! Artifact ID is {artifact_id}")
    print(f"Artifact download URL: {url}")


if __name__ == "__main__":
    main()
