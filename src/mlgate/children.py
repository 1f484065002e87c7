"""Child processes that die with their parent, and temporary folders swept after a dead owner.

A job killed with SIGKILL (a cancelled runner, the OOM killer) runs no `finally`: a child it
started would keep scoring for minutes, and a temporary folder it made would stay forever.
On Linux a child asks the kernel for SIGKILL when its parent goes (`prctl(PR_SET_PDEATHSIG)`);
folders carry their owner's pid in their name, and the next run removes those whose owner
is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

PARENT_ENV = "MLGATE_PARENT_PID"
"""The pid the child must outlive no longer than: set by the parent, read by the child."""
PR_SET_PDEATHSIG = 1


def parent_env() -> dict[str, str]:
    """What to add to a child's environment so `die_with_parent` knows whom to watch."""
    return {PARENT_ENV: str(os.getpid())}


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel kill this process when its parent exits; exit now if it already has.

    Called first thing in the child, so no pre-exec hook runs in a threaded parent. The parent
    may have died between starting us and this call: then our parent is no longer `parent`.
    """
    if parent is None:
        raw = os.environ.get(PARENT_ENV, "")
        parent = int(raw) if raw.isdigit() else None
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(128 + signal.SIGKILL)


def owned_prefix(kind: str) -> str:
    """A temporary folder prefix naming this process as its owner: `mlgate-<kind>-<pid>-`."""
    return f"mlgate-{kind}-{os.getpid()}-"


def alive(pid: int) -> bool:
    """Whether `pid` runs on this machine (a pid we may not signal is someone's, so alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(kind: str, folder: Path | None = None) -> list[Path]:
    """Remove the `mlgate-<kind>-<pid>-*` folders whose owner has exited; returns them."""
    where = Path(folder or tempfile.gettempdir())
    pattern = re.compile(rf"mlgate-{re.escape(kind)}-(\d+)-")
    removed = []
    with contextlib.suppress(OSError):
        for entry in where.iterdir():
            found = pattern.match(entry.name)
            if not found or int(found.group(1)) == os.getpid() or alive(int(found.group(1))):
                continue
            mine = entry.lstat().st_uid == os.getuid()
            if mine and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed
