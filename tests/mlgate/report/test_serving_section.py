"""The Serving section: contract outcome with the failing request, HTTP latency and model size
against the champion, and whether the clean-environment check ran."""

from __future__ import annotations

import re

import pytest

from mlgate.report.document import Latency, Report, Serving, ServingCheck
from mlgate.report.markdown import render_markdown
from support.report_cases import make_report

GOOD = [
    ServingCheck(name="dataframe_split", passed=True, detail="→ 200, 5 predictions"),
    ServingCheck(name="missing column", passed=True, detail="→ 400; server still serving"),
]


def _with(serving: Serving | None, **fields) -> Report:
    return make_report().model_copy(update={"serving": serving, **fields})


def _section(md: str) -> str:
    match = re.search(r"#### Serving\n(.*?)(?=\n#### |\n<sub>|\Z)", md, re.S)
    assert match, md
    return match.group(1)


def test_no_serving_result_means_no_section() -> None:
    assert "#### Serving" not in render_markdown(_with(None))


def test_passed_contract_counts_the_requests() -> None:
    section = _section(render_markdown(_with(Serving(passed=True, checks=GOOD))))
    assert "\u2705" in section.splitlines()[1]
    assert "2/2" in section


def test_failed_contract_shows_the_failing_request_escaped() -> None:
    bad = ServingCheck(
        name="dataframe_split", passed=False, detail="→ 400: Model is missing inputs ['c'] <b>"
    )
    serving = Serving(
        passed=False, checks=[bad, *GOOD], failed_request=f"dataframe_split: {bad.detail}"
    )
    section = _section(render_markdown(_with(serving)))
    head = section.strip().splitlines()[0]
    assert head.startswith("\u274c **The candidate cannot be served")
    assert "dataframe&#95;split" in head
    assert "missing inputs" in head
    assert "<b>" not in section


@pytest.mark.parametrize("champion", [True, False], ids=["with-champion", "first-model"])
def test_latency_and_size_sit_beside_the_champions(champion: bool) -> None:
    serving = Serving(
        passed=True,
        checks=GOOD,
        latency_one=Latency(batch_size=1, p50_ms=3.25, p95_ms=4.5),
        latency_batch=Latency(batch_size=1000, p50_ms=12.0, p95_ms=15.75),
        champion_latency_one=Latency(batch_size=1, p50_ms=2.5, p95_ms=3.0) if champion else None,
        champion_latency_batch=(
            Latency(batch_size=1000, p50_ms=20.0, p95_ms=22.0) if champion else None
        ),
        model_size_bytes=400_000,
        champion_model_size_bytes=300_000 if champion else None,
    )
    section = _section(render_markdown(_with(serving)))
    rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| HTTP") or line.startswith("| Model size")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows["HTTP latency, 1 record"][0] == "p50 3.25 ms \u00b7 p95 4.50 ms"
    assert rows["HTTP latency, batch of 1,000 records"][0] == "p50 12.00 ms \u00b7 p95 15.75 ms"
    assert rows["Model size on disk"][0] == "390.6 KB"
    if champion:
        assert rows["HTTP latency, 1 record"][1] == "p50 2.50 ms \u00b7 p95 3.00 ms"
        assert rows["Model size on disk"][1] == "293.0 KB"
    else:
        assert {cells[1] for cells in rows.values()} == {"\u2014"}


@pytest.mark.parametrize(
    ("checked", "words"),
    [(True, "install into a clean"), (False, "do not install"), (None, "did not run")],
)
def test_requirements_check_outcome_is_stated(checked: bool | None, words: str) -> None:
    section = _section(
        render_markdown(_with(Serving(passed=True, checks=GOOD, requirements_checked=checked)))
    )
    assert words in section
