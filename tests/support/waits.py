"""What the slow tests are waiting for, shown on the terminal even while pytest captures output.

Starting a tracking server or running a workflow under act takes from seconds to minutes; a
line before and after (and every `HEARTBEAT_S` while it lasts) says what the suite waits for.
"""

from __future__ import annotations

import sys
import time

import pytest

HEARTBEAT_S = 30.0
_pytest: dict[str, pytest.Config] = {}


def bind(config: pytest.Config) -> None:
    """Called once from the root conftest, so lines can bypass output capture."""
    _pytest["config"] = config


def announce(message: str) -> None:
    line = f"[wait {time.strftime('%H:%M:%S')}] {message}\n"
    config = _pytest.get("config")
    capture = config.pluginmanager.getplugin("capturemanager") if config else None
    if capture is None:
        sys.stderr.write(line)
        sys.stderr.flush()
        return
    with capture.global_and_fixture_disabled():
        sys.stderr.write(line)
        sys.stderr.flush()
