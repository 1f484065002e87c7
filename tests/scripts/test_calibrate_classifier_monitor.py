"""The classifier monitoring calibration, as documented, on a few seeds: unshifted months raise
no alarm, a shifted class prior drifts the predicted class, a scaled feature drifts itself."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_the_calibration_separates_shifted_months_from_unshifted_ones(
    calibrate_classifier_monitor: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calibrate_classifier_monitor.main(["--seeds", "3"]) == 0
    rows = [line.strip("|").split("|") for line in capsys.readouterr().out.splitlines()[2:]]
    table = {(r[0].strip(), r[1].strip().split()[0]): r for r in rows}
    for task in ("binary", "multiclass"):
        assert table[(task, "unshifted")][2].strip() == "0 of 3"
        prior = table[(task, "rarest")]
        assert prior[2].strip() == "3 of 3"
        assert "predicted class chi-square (3)" in prior[3]
        feature = next(r for key, r in table.items() if key[0] == task and key[1].startswith("`"))
        assert feature[2].strip() == "3 of 3"
        assert feature[1].split("`")[1] + " PSI (3)" in feature[3]


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--rows", "10"], ["--prior", "1.5"]])
def test_out_of_range_arguments_are_one_line(
    calibrate_classifier_monitor: ModuleType, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert calibrate_classifier_monitor.main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1
