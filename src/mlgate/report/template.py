"""The comment's Jinja2 template: loading (the packaged one or a team's own), the escaping
environment, and rendering into named sections that the size budget can drop one by one.

Every `{% block %}` of the template is a section, named after the block. The environment
marks where each block starts and ends in the output (control characters that escaped text
can never contain), so a team's own block is a section too, with no Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context

from mlgate.errors import UserError
from mlgate.report import escape
from mlgate.report import format as fmt
from mlgate.report.escape import Md

PACKAGED = "comment.md.j2"
BUILTIN_PREFIX = "builtin"  # `{% extends "builtin/comment.md.j2" %}` reaches the packaged one
TEMPLATES = Path(__file__).parent / "templates"
_BEGIN, _NAME_END, _END = "\x02", "\x03", "\x04"
_MARK = re.compile(f"{_BEGIN}([^{_NAME_END}]*){_NAME_END}|{_END}")
# Filters whose output would pass as trusted Markdown or skip Markdown escaping.
_REMOVED_FILTERS = ("safe", "tojson", "urlize", "xmlattr", "forceescape", "escape", "e")


@dataclass(frozen=True)
class Section:
    name: str  # the block's name; "" for text outside any block
    body: str


class _SectionMarks(Extension):
    """Emits a start and an end mark around every block's output, from the token stream."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        marked: list[bool] = []  # per open block: whether its end needs a mark
        pending: Token | None = None  # a "{%" whose tag is not known yet
        opening: list[Token] | None = None  # the tokens of "{% block name ... %}" so far
        for token in stream:
            if opening is not None:
                opening.append(token)
                if token.type == "block_end":
                    yield from opening
                    names = [t.value for t in opening if t.type == "name"]
                    required = "required" in names[2:]
                    marked.append(not required)
                    if not required:
                        yield from _call(token.lineno, "_section_begin", names[1])
                    opening = None
                continue
            if pending is not None:
                if token.test("name:filter"):
                    raise jinja2.TemplateSyntaxError(
                        "{% filter %} is not available: it would rewrite text already escaped",
                        token.lineno,
                        stream.name,
                        stream.filename,
                    )
                if token.test("name:endblock") and marked and marked.pop():
                    yield from _call(pending.lineno, "_section_end")
                if token.test("name:block"):
                    opening = [pending, token]
                else:
                    yield pending
                    yield token
                pending = None
                continue
            if token.type == "block_begin":
                pending = token
            else:
                yield token
        if pending is not None:
            yield pending


def _call(lineno: int, function: str, *args: str) -> Iterator[Token]:
    yield Token(lineno, "variable_begin", "{{")
    yield Token(lineno, "name", function)
    yield Token(lineno, "lparen", "(")
    for arg in args:
        yield Token(lineno, "string", arg)
    yield Token(lineno, "rparen", ")")
    yield Token(lineno, "variable_end", "}}")


class _TrustedSuper:
    """`{{ super() }}` is the parent block's output, already escaped: emit it as is."""

    def __init__(self, reference: Any) -> None:
        self._reference = reference

    def __call__(self) -> Md:
        return Md(self._reference())


class _Context(Context):
    def super(self, name: str, current: Any) -> Any:
        reference = super().super(name, current)
        return _TrustedSuper(reference) if callable(reference) else reference


def _environment(own_folder: Path | None) -> jinja2.Environment:
    packaged = jinja2.FileSystemLoader(TEMPLATES)
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({BUILTIN_PREFIX: packaged})]
    if own_folder is not None:
        loaders.append(jinja2.FileSystemLoader(own_folder))
    loaders.append(packaged)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        finalize=fmt.finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=[_SectionMarks],
    )
    env.context_class = _Context
    for name in _REMOVED_FILTERS:
        env.filters.pop(name, None)
    env.filters.update(
        text=escape.text,
        code=escape.code,
        link=escape.link,
        number=fmt.number,
        signed=fmt.signed,
        percent=fmt.percent,
        boolean=fmt.boolean,
        size=fmt.size,
        duration=fmt.duration,
        ms=fmt.milliseconds,
    )
    env.globals.update(
        _section_begin=lambda name: Md(f"{_BEGIN}{name}{_NAME_END}"),
        _section_end=lambda: Md(_END),
    )
    return env


class CommentTemplate:
    """A loaded, compiled template; errors in it are one line naming the file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        if path is None:
            self._env = _environment(None)
            name = PACKAGED
        else:
            if not path.is_file():
                raise UserError(f"{path}: report template not found")
            self._env = _environment(path.resolve().parent)
            name = path.name
        try:
            self._template = self._env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"{self._where(exc)}: template syntax error: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise UserError(f"{self.shown}: cannot load report template ({exc})") from None

    @property
    def shown(self) -> str:
        return str(self.path) if self.path else f"(packaged) {PACKAGED}"

    def _where(self, exc: jinja2.TemplateSyntaxError) -> str:
        where = exc.filename or self.shown
        return f"{where}:{exc.lineno}" if exc.lineno else where

    def sections(self, variables: dict[str, Any]) -> list[Section]:
        """The rendered blocks in display order, each stripped of surrounding blank lines."""
        try:
            rendered = self._template.render(variables)
        except Exception as exc:  # a team's template may fail in any way; say where, briefly
            line = _template_line(exc)
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UserError(f"{self.shown}{line}: cannot render the report: {message}") from None
        return list(_split(rendered))


def _template_line(exc: BaseException) -> str:
    """The template line an error happened on, from the traceback Jinja rewrites for us."""
    tb = exc.__traceback__
    found = ""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            found = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _split(rendered: str) -> Iterable[Section]:
    """Pieces of output by the innermost block they came from; adjacent pieces merged."""
    stack: list[str] = []
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _MARK.finditer(rendered):
        pieces.append((stack[-1] if stack else "", rendered[position : match.start()]))
        if match.group(1) is not None:
            stack.append(match.group(1))
        elif stack:
            stack.pop()
        position = match.end()
    pieces.append((stack[-1] if stack else "", rendered[position:]))
    merged: list[list[str]] = []
    for name, body in pieces:
        if merged and merged[-1][0] == name:
            merged[-1][1] += body
        else:
            merged.append([name, body])
    for name, body in merged:
        if body.strip():
            yield Section(name, body.strip("\n").rstrip())


@cache
def packaged() -> CommentTemplate:
    return CommentTemplate()


def load(path: Path | None) -> CommentTemplate:
    """The team's template when configured, else the packaged one."""
    return packaged() if path is None else CommentTemplate(path)
