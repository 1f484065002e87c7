"""`.ci/install-postgres`: detection and the install commands, with stand-in system tools.

The stand-ins (`pg_config`, `id`, `sudo`, `apt-get`, `apt-cache`) record what they were asked
to do; installing makes `initdb` and `pg_ctl` appear, as the real package does.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "install-postgres"

STUBS = {
    "pg_config": """#!/bin/sh
[ -x "$FAKE_PG/initdb" ] || exit 1
echo "$FAKE_PG"
""",
    "id": """#!/bin/sh
echo "$FAKE_UID"
""",
    "sudo": """#!/bin/sh
[ "$FAKE_SUDO" = yes ] || exit 1
[ "$1" = -n ] && exit 0
echo "sudo $*" >> "$FAKE_LOG"
"$@"
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
case "$*" in *install*)
  mkdir -p "$FAKE_PG"
  for tool in initdb pg_ctl; do printf '#!/bin/sh\\necho "%s (PostgreSQL) 15.9"\\n' $tool \\
    > "$FAKE_PG/$tool"; chmod +x "$FAKE_PG/$tool"; done;;
esac
""",
    "apt-cache": """#!/bin/sh
[ "$FAKE_HAS_15" = yes ]
""",
}


def run(tmp_path: Path, *, installed: bool, uid: int, sudo: bool, has_15: bool = True):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    pg, log = tmp_path / "pg" / "bin", tmp_path / "calls.log"
    log.touch()
    if installed:
        pg.mkdir(parents=True)
        for tool in ("initdb", "pg_ctl"):
            (pg / tool).write_text(f'#!/bin/sh\necho "{tool} (PostgreSQL) 15.9"\n')
            (pg / tool).chmod(0o755)
    env = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "FAKE_PG": str(pg),
        "FAKE_LOG": str(log),
        "FAKE_UID": str(uid),
        "FAKE_SUDO": "yes" if sudo else "no",
        "FAKE_HAS_15": "yes" if has_15 else "no",
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return done, log.read_text().splitlines()


def test_present_postgres_installs_nothing(tmp_path: Path) -> None:
    done, calls = run(tmp_path, installed=True, uid=0, sudo=False)
    assert done.returncode == 0, done.stderr
    assert calls == []
    assert "initdb (PostgreSQL) 15.9" in done.stdout


@pytest.mark.parametrize(
    ("uid", "sudo", "has_15", "prefix", "package"),
    [
        (0, False, True, "", "postgresql-15"),
        (1001, True, True, "sudo ", "postgresql-15"),
        (0, False, False, "", "postgresql"),
    ],
)
def test_missing_postgres_is_installed_with_apt(
    tmp_path: Path, uid: int, sudo: bool, has_15: bool, prefix: str, package: str
) -> None:
    done, calls = run(tmp_path, installed=False, uid=uid, sudo=sudo, has_15=has_15)
    assert done.returncode == 0, done.stderr
    apt = [c.removeprefix("sudo ") for c in calls if c.startswith("apt-get")]
    assert apt[0] == "apt-get update -qq"
    assert apt[1].startswith("apt-get install -y")
    assert apt[1].split()[-1] == package
    assert any(c.startswith("sudo ") for c in calls) == bool(prefix)
    assert "initdb (PostgreSQL) 15.9" in done.stdout


def test_missing_postgres_without_root_or_sudo_says_what_to_install(tmp_path: Path) -> None:
    done, calls = run(tmp_path, installed=False, uid=1001, sudo=False)
    assert done.returncode == 1
    assert calls == []
    assert done.stderr.strip().count("\n") == 0
    assert "install postgresql-15" in done.stderr


def test_the_ci_entry_point_runs_it_before_the_tests() -> None:
    lines = (SCRIPT.parent / "run").read_text().splitlines()
    assert lines.index(".ci/install-postgres") < lines.index("uv run pytest")
    assert os.access(SCRIPT, os.X_OK)
