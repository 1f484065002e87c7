"""`python -m green_taxi.calibrate_monitor` runs the monitor's own checks on synthetic months:
the shifted months are flagged and the unshifted ones are not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from green_taxi import calibrate_monitor

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_calibration_flags_shifted_months_and_not_unshifted_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeds = 2
    assert (
        calibrate_monitor.main(
            ["--seeds", str(seeds), "--rows", "3000", "--config", str(ROOT / "pyproject.toml")]
        )
        == 0
    )
    flagged = {
        name.strip(): int(count)
        for name, count in re.findall(
            r"^(\S.*?)\s+(\d+)/\d+ flagged", capsys.readouterr().out, re.M
        )
    }
    assert flagged == {
        "distances x1.3": seeds,
        "new zone mix (30% of trips)": seeds,
        "unshifted": 0,
    }
