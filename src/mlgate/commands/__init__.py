"""The commands behind `mlgate`, by the workflow that runs them: `candidate` (train, tune),
`review` (report, comment), `promotion` (promote, rollback) and `operations` (monitor,
fetch-current, drift-issue, serve-check, predict). Each imports its heavy libraries only
when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.config import Settings


def settings_of(args: argparse.Namespace, *, names: bool = False) -> Settings:
    """The configuration; with `names`, the tracking names are checked too (before any work)."""
    from mlgate.config import load_settings

    settings = load_settings(args.config)
    if names:
        settings.names()
    return settings


def default_report(settings: Settings) -> Path:
    return settings.path(settings.report.directory) / "report.json"
