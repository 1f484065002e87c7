"""Escaping of report-supplied text, the only way a string reaches the comment's Markdown.

The report may come from a fork. A plain `str` is therefore always untrusted: the template
environment escapes every one it outputs (see `format.finalize`). Markdown we built ourselves is an
`Md`, which only this package creates, after escaping every untrusted piece of it. Jinja's
`Markup` (what `|safe` returns) is not an `Md`, so it is escaped like any other string.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

DASH = "\u2014"
DEFAULT_LIMIT = 200

_ENTITIES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "&#124;",
        "`": "&#96;",
        "*": "&#42;",
        "_": "&#95;",
        "[": "&#91;",
        "]": "&#93;",
        "\\": "&#92;",
        "~": "&#126;",
        "$": "&#36;",
        "#": "&#35;",
        "@": "@&#8203;",  # a zero-width space after @ keeps a forged string from pinging people
    }
)
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MERMAID_UNSAFE = re.compile(r"[^\w .:#()/+-]")
_URL_SAFE = ":/?#=&%+,;~.-_!$*'@"


class Md(str):
    """Markdown that is safe to emit as is: built here from escaped pieces and fixed text."""

    __slots__ = ()


def one_line(value: object, limit: int, *, keep_end: bool = False) -> str:
    """Collapse whitespace and drop control characters so a value cannot break a table row."""
    kept = []
    for char in str(value):
        if char.isspace():
            kept.append(" ")
        elif char not in _BIDI_CONTROLS and unicodedata.category(char) not in ("Cc", "Cs"):
            kept.append(char)
    text = " ".join("".join(kept).split())
    if len(text) <= limit:
        return text
    return "\u2026" + text[-(limit - 1) :] if keep_end else text[: limit - 1] + "\u2026"


def text(value: object, limit: int = DEFAULT_LIMIT, *, keep_end: bool = False) -> Md:
    """Untrusted text as inert Markdown: no tags, table breaks, emphasis, links or mentions."""
    if isinstance(value, Md):
        return value
    return Md(one_line(value, limit, keep_end=keep_end).translate(_ENTITIES))


def code(value: object, limit: int = 120, *, keep_end: bool = False) -> Md:
    """An untrusted identifier (path, branch, param) in monospace; GitHub skips mentions there."""
    if value is None:
        return Md(DASH)
    escaped = text(value, limit, keep_end=keep_end)
    return Md(f"<code>{escaped}</code>") if escaped else Md(DASH)


def url(value: str | None) -> str | None:
    """An http(s) URL safe inside `[text](...)`, without credentials; anything else is None."""
    if not value:
        return None
    try:
        parts = urlsplit(one_line(value, 2000))
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port else ""
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return quote(clean, safe=_URL_SAFE).replace("&", "&amp;")


def link(label: object, target: str | None) -> Md | None:
    """`[label](url)`, or None when the URL is not a safe http(s) one."""
    safe = url(target)
    return Md(f"[{text(label, 120)}]({safe})") if safe else None


def redact_uri(uri: str) -> str:
    """A tracking URI without user, password or query, which may carry tokens."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(unparseable URI hidden)"
    if not parts.netloc:
        return uri
    netloc = (host or "") + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def mermaid(value: object, limit: int = 24) -> str:
    """Only characters that cannot end a Mermaid string or the code fence."""
    return _MERMAID_UNSAFE.sub("", one_line(value, limit)).strip()
