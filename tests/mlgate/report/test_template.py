"""A team's own comment template: a section is a template edit, escaping cannot be switched
off for report text, and a broken template is a one-line error naming the file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlgate.config import load_settings
from mlgate.errors import UserError
from mlgate.report.markdown import MARKER, render_configured, render_markdown
from mlgate.report.template import CommentTemplate
from support.report_cases import HOSTILE, assert_inert, make_report, table_after, verdict_line

BUSINESS = """\
{% extends "builtin/comment.md.j2" %}
{% block cost %}
{{ super() }}

{% block business %}
#### Cost per 1,000 predictions

| Item | Value |
|:---|---:|
| Latency p50 | {{ report.candidate.latency.p50_ms|ms }} |
| Model | {{ report.candidate.estimator|code }} |
{% for share in [1, 2, 5, 10, 20, 50] %}
| Share at {{ share }}% traffic | {{ (share / 100 * report.candidate.latency.p50_ms)|ms }} |
{% endfor %}
{% endblock %}
{% endblock %}
"""


def _template(tmp_path: Path, source: str, name: str = "comment.md.j2") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def _settings(tmp_path: Path, template: Path, keep: str = "") -> object:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        f'[tool.mlgate.report]\ntemplate = "{template.name}"\n{keep}', encoding="utf-8"
    )
    return load_settings(config)


def test_a_new_section_is_a_template_edit(tmp_path):
    settings = _settings(tmp_path, _template(tmp_path, BUSINESS))
    report = make_report()
    md = render_configured(settings, report)
    assert md.startswith(MARKER)
    assert verdict_line(md) == verdict_line(render_markdown(report))
    rows = table_after(md, "#### Cost per 1,000 predictions")
    assert rows[2] == ["Latency p50", f"{report.candidate.latency.p50_ms:.2f} ms"]
    assert md.index("#### Cost\n") < md.index("#### Cost per 1,000") < md.index("```mermaid")


def test_a_new_section_is_shed_by_its_configured_rank(tmp_path):
    report = make_report()
    template = CommentTemplate(_template(tmp_path, BUSINESS))
    full = render_markdown(report, template=template)
    last = _settings(tmp_path, template.path, "keep = { business = 5 }\n")
    md = render_markdown(report, max_chars=len(full) - 1, template=template, keep=last.report.keep)
    assert "Omitted to fit the comment size limit: business." in md
    assert "<details>" in md
    kept = render_markdown(
        report, max_chars=len(full) - 1, template=template, keep={"business": 99}
    )
    assert "#### Cost per 1,000" in kept
    assert "Omitted to fit the comment size limit: lineage." in kept


HOSTILE_REASON = {"gate": {"reasons": [HOSTILE]}}


@pytest.mark.parametrize(
    "expression",
    [
        "{{ report.gate.reasons[0] }}",
        "{{ report.gate.reasons[0]|upper|lower }}",
        "{{ report.gate.reasons[0] ~ verdict.headline }}",
        "{% autoescape false %}{{ report.gate.reasons[0] }}{% endautoescape %}",
        "{% autoescape true %}{{ report.gate.reasons[0] }}{% endautoescape %}",
        "{% set x %}{{ report.gate.reasons[0] }}{% endset %}{{ x }}",
        "{{ report.gate.reasons }}",
        "{{ report.gate.reasons|join(' ') }}",
        "{{ report.gate.reasons[0]|replace('x', 'y') }}",
        "{{ report.gate.reasons[0]|text(500) }}",
        "{{ report.gate.reasons[0]|code }}",
    ],
)
def test_report_text_is_escaped_whatever_the_template_does(tmp_path, expression):
    path = _template(tmp_path, f"{{% block verdict %}}\n{expression}\n{{% endblock %}}\n")
    md = render_markdown(make_report(**HOSTILE_REASON), template=CommentTemplate(path))
    assert_inert(md)
    assert "x|y" not in md


@pytest.mark.parametrize("bypass", ["safe", "tojson", "e", "urlize"])
def test_filters_that_would_mark_text_trusted_are_not_available(tmp_path, bypass):
    path = _template(tmp_path, f"{{{{ report.gate.reasons[0]|{bypass} }}}}\n")
    with pytest.raises(UserError, match=rf"comment\.md\.j2:1: template syntax error: .*{bypass}"):
        CommentTemplate(path)


def test_filter_blocks_cannot_rewrite_escaped_text(tmp_path):
    source = '{% block verdict %}\n{% filter replace("&#42;", "*") %}x{% endfilter %}\n'
    path = _template(tmp_path, source + "{% endblock %}\n")
    with pytest.raises(UserError, match=r"comment\.md\.j2:2: template syntax error: .*filter"):
        CommentTemplate(path)


def test_missing_template_is_one_line(tmp_path):
    settings = _settings(tmp_path, tmp_path / "nowhere.md.j2")
    with pytest.raises(UserError) as caught:
        render_configured(settings, make_report())
    assert str(caught.value) == f"{tmp_path / 'nowhere.md.j2'}: report template not found"


def test_syntax_error_names_the_file_and_line(tmp_path):
    path = _template(tmp_path, "{% block verdict %}\nok\n{% if %}\n{% endblock %}\n")
    with pytest.raises(UserError) as caught:
        CommentTemplate(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: template syntax error:")
    assert "\n" not in message


def test_render_error_names_the_file_and_line(tmp_path):
    path = _template(tmp_path, "{% block verdict %}\n{{ verdict.headlin }}\n{% endblock %}\n")
    with pytest.raises(UserError) as caught:
        render_markdown(make_report(), template=CommentTemplate(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:2: cannot render the report:")
    assert "headlin" in message
    assert "\n" not in message


def test_keep_out_of_range_is_a_config_error(tmp_path):
    path = _template(tmp_path, BUSINESS)
    with pytest.raises(UserError, match=r"report\.keep"):
        _settings(tmp_path, path, "keep = { business = 101 }\n")


def test_packaged_template_ships_with_the_package():
    from importlib.resources import files

    templates = files("mlgate.report") / "templates"
    assert (templates / "comment.md.j2").is_file()
    assert (templates / "table.md.j2").is_file()


def test_any_render_failure_is_one_line(tmp_path):
    path = _template(tmp_path, "{% block verdict %}\n\n{{ 1 / 0 }}\n{% endblock %}\n")
    with pytest.raises(UserError, match=r"comment\.md\.j2:3: cannot render the report: division"):
        render_markdown(make_report(), template=CommentTemplate(path))
