"""The example comments drawn as GitHub would draw them (cmark-gfm, its sanitising, Mermaid,
Chromium), checked by the structure of the page a reviewer sees, not by its pixels."""

from __future__ import annotations

import os
import re
import shutil
from types import ModuleType

import pytest

from mlgate.report.markdown import render_markdown

pytestmark = pytest.mark.slow  # one headless Chromium run per example

VERDICTS = {
    "first-model": "\u2705 Would be promoted on merge: there is no champion yet",
    "better": "\u2705 Would be promoted on merge: the quality gate passed against champion v3.",
    "worse": "\u274c Would not be promoted on merge: the quality gate failed against champion v3.",
    "failed": "\u274c The workflow failed at step tests: nothing was registered",
    "tuning": "\u2705 Would be promoted on merge",
    "truncated": "\u2705 Would be promoted on merge",
    "classifier": "\u2705 Would be promoted on merge: the quality gate passed against champion v3.",
}


@pytest.fixture(scope="module")
def tools(render_comments: ModuleType) -> ModuleType:
    missing = shutil.which("chromium") is None or not render_comments.MERMAID_JS.is_file()
    if missing:
        if os.environ.get("MLGATE_REQUIRE_RENDER"):  # set by .ci/run, which installs both
            pytest.fail("chromium or npm mermaid missing: see .ci/run")
        pytest.skip("needs chromium and `npm ci --prefix scripts/render`")
    return render_comments


@pytest.fixture(scope="module")
def pages(tools: ModuleType) -> dict[str, tuple[object, list]]:
    """Each example rendered once: its report, and its page's top-level blocks and status."""
    rendered = {}
    for name, build in tools.EXAMPLES.items():
        report = build()
        result = tools.render(render_markdown(report))
        rendered[name] = (report, tools.structure(result.dom), result.status)
    return rendered


@pytest.mark.parametrize("name", list(VERDICTS))
def test_title_then_verdict_come_first(pages, name):
    report, blocks, _ = pages[name]
    assert blocks[0].tag == "h3"
    assert blocks[0].text.startswith(report.model.title)
    assert blocks[1].tag == "p"
    assert blocks[1].text.startswith(VERDICTS[name]), blocks[1].text


@pytest.mark.parametrize("name", ["first-model", "better", "worse", "tuning", "truncated"])
def test_metrics_table_has_a_row_per_metric(pages, name):
    report, blocks, _ = pages[name]
    heading = next(i for i, b in enumerate(blocks) if b.tag == "h4" and "Metrics" in b.text)
    table = blocks[heading + 1] if blocks[heading + 1].tag == "table" else blocks[heading + 2]
    assert table.tag == "table"
    metrics = set(report.candidate.metrics) | set(
        report.champion.metrics if report.champion else {}
    )
    assert len(table.rows) == len(metrics)
    unit = report.model.unit
    assert table.rows[0][0] == f"RMSE ({unit}) \U0001f3af"
    assert table.rows[0][1] == f"{report.candidate.metrics['root_mean_squared_error']:,.3f}"


@pytest.mark.parametrize("name", list(VERDICTS))
def test_charts_render_without_mermaid_errors(pages, name):
    report, blocks, status = pages[name]
    assert status["errors"] == []
    breakdown = report.candidate.breakdown if report.candidate else None
    curves = 2 if breakdown is not None and breakdown.roc is not None else 0
    charts = (1 if len(report.history) else 0) + (1 if report.tuning else 0) + curves
    assert status["diagrams"] == status["rendered"] == charts
    assert sum(block.svgs for block in blocks) == charts
    assert not any(block.tag == "pre" for block in blocks)  # no chart left as source


def test_a_classifier_shows_its_classes_matrices_and_curves(pages):
    report, blocks, _ = pages["classifier"]
    heading = next(i for i, b in enumerate(blocks) if b.tag == "h4" and b.text == "Classes")
    balance, note, matrix = blocks[heading + 1 : heading + 4]
    classes = report.candidate.breakdown.classes
    assert balance.tag == "table"
    assert [row[0] for row in balance.rows] == sorted(
        classes, key=lambda c: -report.candidate.breakdown.per_class[classes.index(c)].support
    )
    assert note.text.startswith("Confusion matrix on the validation rows")
    assert matrix.tag == "table"
    mine, theirs = report.candidate.breakdown.confusion, report.champion.breakdown.confusion
    width = len(classes)
    for row, expected_mine, expected_theirs in zip(matrix.rows, mine, theirs, strict=True):
        assert [int(c.replace(",", "")) for c in row[1 : width + 1]] == expected_mine
        assert [int(c.replace(",", "")) for c in row[width + 2 :]] == expected_theirs
    titles = [b.text for b in blocks[heading:] if b.tag == "p" and "curve:" in b.text]
    assert [t.split(":")[0] for t in titles] == ["ROC curve", "Precision-recall curve"]


def test_truncated_example_sheds_the_data_and_says_so(pages):
    _, blocks, _ = pages["truncated"]
    assert not any(b.tag == "h4" and b.text == "Data" for b in blocks)
    assert blocks[-1].text.startswith("\u2702\ufe0f Omitted to fit the comment size limit: data.")


def test_lineage_is_folded_and_raw_html_is_sanitised(tools):
    blocks = tools.structure(
        tools.render(
            "### t\n\n<details><summary>Lineage</summary>\n\nx\n\n</details>\n\n"
            '<p style="color:red" onclick="alert(1)">styled</p>\n\n<script>alert(1)</script>\n'
        ).dom
    )
    assert [b.tag for b in blocks[:3]] == ["h3", "details", "p"]
    dom = tools.render('<p style="color:red" onclick="x()">s</p>').dom
    article = dom[dom.index('<article class="markdown-body">') : dom.index("</article>")]
    assert "style=" not in article
    assert "onclick" not in article
    assert "<script>" not in article


def test_a_broken_chart_is_reported(tools):
    result = tools.render("### t\n\n```mermaid\nxychart-beta\n    line [1, 2\n```\n")
    assert result.status["rendered"] == 0
    assert result.status["errors"], result.status
    assert "error" in result.status["errors"][0]["message"].lower()


def test_the_comment_page_shows_every_example_and_each_image_exists(render_comments):
    page = (render_comments.REPO_ROOT / "docs" / "pr-comment.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(images/comment-([a-z-]+)\.png\)", page))
    assert shown == set(render_comments.EXAMPLES)
    for name in shown:
        image = render_comments.IMAGES / f"comment-{name}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
