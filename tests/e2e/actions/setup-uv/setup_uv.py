"""Put the host's uv on PATH the way astral-sh/setup-uv does, without downloading anything.

Mirrors the real action's behaviour on a runner that is not GitHub-hosted (act sets no
RUNNER_ENVIRONMENT), so `enable-cache: auto` means off and existing UV_* variables win.
"""

from __future__ import annotations

import glob
import hashlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ENV = os.environ
TRUE_WORDS = {"true", "True", "TRUE"}
FALSE_WORDS = {"false", "False", "FALSE"}


def boolean(name: str, default: str) -> bool:
    """Parse a YAML 1.2 boolean input strictly, like @actions/core getBooleanInput."""
    value = ENV.get(f"INPUT_{name}", "").strip() or default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    key = name.lower().replace("_", "-")
    raise SystemExit(
        f"::error::Input does not meet YAML 1.2 'Core Schema' specification: {key}\n"
        "Support boolean input list: `true | True | TRUE | false | False | FALSE`"
    )


def export(name: str, value: str) -> None:
    """Set a variable for later steps and for the commands this script runs."""
    ENV[name] = value
    with open(ENV["GITHUB_ENV"], "a", encoding="utf-8") as fh:
        fh.write(f"{name}={value}\n")
    print(f"Set {name} to {value}")


def add_path(folder: Path | str) -> None:
    """Prepend a folder to PATH for later steps and for this script."""
    ENV["PATH"] = f"{folder}{os.pathsep}{ENV.get('PATH', '')}"
    with open(ENV["GITHUB_PATH"], "a", encoding="utf-8") as fh:
        fh.write(f"{folder}\n")
    print(f"Added {folder} to the path")


def output(name: str, value: str) -> None:
    """Write one step output."""
    with open(ENV["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
        fh.write(f"{name}={value}\n")


def find_uv() -> Path:
    """Locate the uv binary the harness (or the host PATH) provides."""
    candidate = ENV.get("E2E_UV_BIN") or shutil.which("uv")
    if not candidate or not Path(candidate).is_file():
        raise SystemExit("::error::setup-uv stand-in: no uv found (set E2E_UV_BIN or PATH)")
    return Path(candidate).resolve()


def link_into_tool_cache(uv: Path, version: str) -> Path:
    """Expose uv and uvx from a tool-cache folder, as the real action installs them."""
    folder = Path(ENV.get("RUNNER_TOOL_CACHE", ENV["RUNNER_TEMP"])) / "uv" / version
    folder = folder / platform.machine()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("uv", "uvx"):
        source = uv.with_name(name)
        if not source.is_file():
            continue
        # Made anew by every run (a session's runs share the tool cache, with or without
        # seeding), and swapped in whole: jobs of one run set up at the same time.
        fresh = folder / f".{name}.{os.getpid()}"
        fresh.unlink(missing_ok=True)
        if name == "uv" and ENV.get("E2E_BYTECODE_FROM"):
            write_seeding_uv(fresh, source)
        else:
            fresh.symlink_to(source)
        os.replace(fresh, folder / name)
    return folder


def write_seeding_uv(path: Path, uv: Path) -> None:
    """A `uv` that runs the host's and, after a `uv sync` that succeeded, gives the environment
    the bytecode of the harness's own (E2E_BYTECODE_FROM, seed_bytecode.py)."""
    seeder = Path(__file__).resolve().with_name("seed_bytecode.py")
    path.write_text(
        "#!/bin/sh\n"
        f'{shlex.quote(str(uv))} "$@" || exit\n'
        '[ "$1" != sync ] || [ -z "$E2E_BYTECODE_FROM" ] || '
        f"{shlex.quote(sys.executable)} {shlex.quote(str(seeder))} "
        '"$E2E_BYTECODE_FROM" "${UV_PROJECT_ENVIRONMENT:-.venv}" || :\n',
        encoding="utf-8",
    )
    path.chmod(0o755)


def check_version(wanted: str, installed: str) -> None:
    """Warn when the workflow pins a uv version that differs from the one offered offline."""
    if not wanted or wanted == "latest":
        return
    if re.fullmatch(r"\d+\.\d+\.\d+", wanted) and wanted != installed:
        print(f"::warning::setup-uv stand-in: wanted uv {wanted}, using installed {installed}")
    elif not re.fullmatch(r"\d+\.\d+\.\d+", wanted):
        print(f"setup-uv stand-in: not checking version range {wanted!r}; using {installed}")


def cache_key(workdir: Path, version: str) -> str:
    """Build the cache key and fail like the real action when no dependency file matches."""
    patterns = [p.strip() for p in ENV.get("INPUT_CACHE_DEPENDENCY_GLOB", "").splitlines()]
    patterns = [p for p in patterns if p]
    digest = "no-dependency-glob"
    if patterns:
        files: set[str] = set()
        for pattern in patterns:
            negate = pattern.startswith("!")
            found = glob.glob(
                str(workdir / pattern.lstrip("!")), recursive=True, include_hidden=True
            )
            chosen = {f for f in found if Path(f).is_file()}
            files = files - chosen if negate else files | chosen
        if not files:
            raise SystemExit(
                f"::error::No file in {workdir} matched to [{','.join(patterns)}], "
                "make sure you have checked out the target repository"
            )
        hasher = hashlib.sha256()
        for name in sorted(files):
            hasher.update(hashlib.sha256(Path(name).read_bytes()).digest())
        digest = hasher.hexdigest()
    suffix = f"-{ENV['INPUT_CACHE_SUFFIX']}" if ENV.get("INPUT_CACHE_SUFFIX") else ""
    return f"setup-uv-1-{platform.machine()}-linux-{version}-{digest}{suffix}"


def main() -> None:
    """Do the setup steps in the real action's order."""
    workdir = Path(ENV.get("INPUT_WORKING_DIRECTORY") or ENV["GITHUB_WORKSPACE"])
    if not workdir.is_dir():
        raise SystemExit(f"::error::ENOENT: no such file or directory, scandir '{workdir}'")
    if not any(workdir.iterdir()) and ENV.get("INPUT_IGNORE_EMPTY_WORKDIR") != "true":
        print("::warning::Empty workdir detected. This may cause unexpected behavior.")

    uv = find_uv()
    probe = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
    version = probe.stdout.split()[1]
    check_version(ENV.get("INPUT_VERSION", "").strip(), version)
    activate = boolean("ACTIVATE_ENVIRONMENT", "false")
    cache_input = ENV.get("INPUT_ENABLE_CACHE", "auto").strip()
    enable_cache = cache_input == "true" or (
        cache_input == "auto" and ENV.get("RUNNER_ENVIRONMENT") == "github-hosted"
    )

    home = Path(ENV["HOME"])
    if ENV.get("INPUT_TOOL_BIN_DIR"):
        export("UV_TOOL_BIN_DIR", ENV["INPUT_TOOL_BIN_DIR"])
        add_path(ENV["INPUT_TOOL_BIN_DIR"])
    elif ENV.get("XDG_BIN_HOME"):
        add_path(ENV["XDG_BIN_HOME"])
    elif ENV.get("XDG_DATA_HOME"):
        add_path(f"{ENV['XDG_DATA_HOME']}/../bin")
    else:
        add_path(home / ".local" / "bin")

    tool_folder = link_into_tool_cache(uv, version)
    add_path(tool_folder)
    output("uv-path", str(tool_folder / "uv"))
    output("uvx-path", str(tool_folder / "uvx"))
    if ENV.get("INPUT_TOOL_DIR"):
        export("UV_TOOL_DIR", ENV["INPUT_TOOL_DIR"])

    python_dir = ENV.get("UV_PYTHON_INSTALL_DIR") or str(home / ".local/share/uv/python")
    export("UV_PYTHON_INSTALL_DIR", python_dir)
    add_path(python_dir)
    if ENV.get("INPUT_PYTHON_VERSION"):
        export("UV_PYTHON", ENV["INPUT_PYTHON_VERSION"])
        output("python-version", ENV["INPUT_PYTHON_VERSION"])

    if activate:
        print("Activating python venv...", flush=True)
        subprocess.run(
            [str(tool_folder / "uv"), "venv", ".venv", "--directory", str(workdir)], check=True
        )
        venv = (workdir / ".venv").resolve()
        add_path(venv / "bin")
        export("VIRTUAL_ENV", str(venv))
        output("venv", str(venv))

    if ENV.get("INPUT_CACHE_LOCAL_PATH"):
        export("UV_CACHE_DIR", str(workdir / ENV["INPUT_CACHE_LOCAL_PATH"]))
    elif ENV.get("UV_CACHE_DIR"):
        export("UV_CACHE_DIR", ENV["UV_CACHE_DIR"])
    elif enable_cache:
        export("UV_CACHE_DIR", str(home / ".cache" / "uv"))

    output("uv-version", version)
    print(f"Successfully installed uv version {version}")
    if enable_cache:
        key = cache_key(workdir, version)
        print(f"No GitHub Actions cache found for key: {key}")
        output("cache-key", key)
        output("cache-hit", "false")


if __name__ == "__main__":
    main()
