"""The lifecycle is for any model: nothing it prints, writes, templates or defaults to names the
example (NYC green-taxi trip duration), so a team that deletes the example keeps a clean tool."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from mlgate.report.markdown import LEGACY_MARKERS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mlgate"

EXAMPLE_WORDS = {
    "taxi": r"taxi",
    "TLC": r"\btlc\b",
    "trip": r"\btrips?\b|trip[_-]?duration",
    "zone": r"\bzones?\b|zone[_-]?pair|pulocation|dolocation",
    "green": r"\bgreen",
    "minutes as a unit": r"""unit\s*=\s*["']min["']|\(min\)|\bin minutes\b""",
    "alpha as an example parameter": r"\balpha\b",
}


@cache
def _lines() -> tuple[tuple[str, int, str], ...]:
    """Every scanned line, read once for all the words."""
    lines = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".j2", ".md", ".txt", ".toml", ".json"}:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not any(marker in line for marker in LEGACY_MARKERS):
                    lines.append((str(path.relative_to(PACKAGE)), number, line))
    return tuple(lines)


def test_the_scan_reads_code_and_templates() -> None:
    files = {name for name, _, _ in _lines()}
    assert "cli.py" in files
    assert any(name.endswith(".j2") for name in files), "templates are scanned too"


@pytest.mark.parametrize("word", sorted(EXAMPLE_WORDS))
def test_the_lifecycle_never_names_the_example(word: str) -> None:
    pattern = re.compile(EXAMPLE_WORDS[word], re.IGNORECASE)
    hits = [
        f"{name}:{number}: {line.strip()}"
        for name, number, line in _lines()
        if pattern.search(line)
    ]
    assert not hits, f"the example's {word!r} in the lifecycle:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    ("word", "line"),
    [
        ("taxi", "NYC Green Taxi report"),
        ("trip", "scored 10 trips"),
        ("zone", "PULocationID"),
        ("minutes as a unit", 'Target(name="y", unit="min", label="y")'),
        ("alpha as an example parameter", "e.g. --param alpha=0.5"),
    ],
)
def test_the_patterns_catch_what_they_name(word: str, line: str) -> None:
    assert re.search(EXAMPLE_WORDS[word], line, re.IGNORECASE)


def test_the_help_text_is_neutral() -> None:
    import argparse

    from mlgate.arguments import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:  # each subcommand's own help
        if isinstance(action, argparse._SubParsersAction):
            texts.extend(sub.format_help() for sub in action.choices.values())
    assert len(texts) > 5, "the subcommands' help is read"
    words = re.compile("|".join(EXAMPLE_WORDS.values()), re.IGNORECASE)
    hits = [m.group(0) for text in texts for m in words.finditer(text)]
    assert not hits, f"mlgate --help names the example: {sorted(set(hits))}"
