"""Give an environment that `uv sync` just made the bytecode another environment already has.

A project environment the act harness keeps between runs (tests/support/act_environments.py)
still starts empty: its first run compiles MLflow, scikit-learn and pandas as it imports them,
6-13 CPU-seconds. Python checks a .pyc against the size and modification time of its source,
and uv installs a package's files with the same times in every environment, so a .pyc made for
the same file elsewhere is valid here, and one made for another file is ignored and compiled
again. Only a file whose source is installed here gets one: a folder holding bytecode alone
would import as an empty namespace package.

    python seed_bytecode.py SOURCE_SITE_PACKAGES ENVIRONMENT
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MAX_FILES = 200_000  # far more than any environment this project installs


def site_packages(environment: Path) -> Path | None:
    """The environment's site-packages folder, if it is one."""
    found = sorted(environment.glob("lib/python3*/site-packages"))
    return found[0] if found else None


def seed(source: Path, environment: Path) -> int:
    """Link each of `source`'s .pyc files into `environment` where its source file exists and
    no .pyc is yet; the number linked."""
    target = site_packages(environment)
    if target is None or not source.is_dir():
        return 0
    suffix = f".{sys.implementation.cache_tag}.pyc"
    seeded = seen = 0
    for folder, _, names in os.walk(source):
        if not folder.endswith("__pycache__"):
            continue
        package = target / Path(folder).parent.relative_to(source)
        for name in names:
            seen += 1
            if seen > MAX_FILES:
                return seeded
            if not name.endswith(suffix):
                continue
            cached = package / "__pycache__" / name
            if cached.exists() or not (package / f"{name.split('.')[0]}.py").is_file():
                continue
            cached.parent.mkdir(exist_ok=True)
            try:
                os.link(Path(folder) / name, cached)
            except FileExistsError:
                continue  # a process of the run wrote its own meanwhile
            except OSError:
                shutil.copyfile(Path(folder) / name, cached)
            seeded += 1
    return seeded


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: seed_bytecode.py SOURCE_SITE_PACKAGES ENVIRONMENT", file=sys.stderr)
        return 2
    seed(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
