"""The documentation's shell blocks, by name, for the tests that run them.

A shell block is named by an HTML comment on the line before its fence,
`<!-- shell: NAME -->` (indented like the fence inside a list). A test that runs a block reads
it with `shell_block(PAGE, NAME)`, PAGE relative to the repository (`README.md`,
`docs/serving.md`); that call is what claims the block, and `tests/docs/test_doc_blocks.py`
fails on any shell block that no test claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELLS = ("bash", "sh", "shell", "console")
FENCE = re.compile(
    r"^(?P<indent> *)(?:<!-- (?P<marker>[^>]*?) -->\n(?P=indent))?```(?P<language>[\w-]*)\n"
    r"(?P<body>.*?)^(?P=indent)```$",
    re.M | re.S,
)
NAME = re.compile(r"shell: ([\w-]+)")


@dataclass(frozen=True)
class Block:
    page: str
    name: str | None  # None: the block has no `<!-- shell: NAME -->` line
    line: int
    text: str


def pages() -> list[str]:
    """Every page of the documentation: the README, CONTRIBUTING and the site's pages."""
    site = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
    return ["README.md", "CONTRIBUTING.md", *site]


def shell_blocks(page: str) -> list[Block]:
    """The shell blocks of one page, dedented, in order."""
    text = (ROOT / page).read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match["language"] not in SHELLS:
            continue
        named = NAME.fullmatch(match["marker"] or "")
        indent = len(match["indent"])
        body = "".join(line[indent:] for line in match["body"].splitlines(True))
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, named[1] if named else None, line, body))
    return found


def shell_block(page: str, name: str) -> str:
    """The text of the block named `name` on `page`; claims it for the calling test."""
    named = [b for b in shell_blocks(page) if b.name == name]
    assert len(named) == 1, f"{page}: {len(named)} shell blocks named {name!r}, expected 1"
    return named[0].text


def commands(block: str) -> list[str]:
    """The block's commands, one per line: comments dropped, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = (re.sub(r"(^|\s{2,})#.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line]
