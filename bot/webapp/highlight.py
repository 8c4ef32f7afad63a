"""Syntax highlighting on the server (Pygments): lines in, HTML lines out, every character escaped.

Each side of a hunk (the old lines, the new lines) is lexed as one text, so a string or comment that
spans lines is coloured as such; the classes are Pygments' short names (`k`, `s`, `c1`…), coloured by
static/app.css. Unknown file types, and very long texts, are escaped only.
"""

from __future__ import annotations

import functools
import html

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.token import STANDARD_TYPES, Token, _TokenType
from pygments.util import ClassNotFound

MAX_CHARS = 200_000  # beyond this, lexing costs more than colour is worth


@functools.lru_cache(maxsize=256)
def _lexer(name: str) -> Lexer | None:
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _css(kind: _TokenType) -> str:
    while kind not in STANDARD_TYPES and kind.parent is not None:
        kind = kind.parent
    return STANDARD_TYPES.get(kind, "")


def highlight(path: str, lines: list[str]) -> list[str]:
    """HTML for each of `lines` (without their newlines), in order."""
    lexer = _lexer(path.rsplit("/", 1)[-1])
    text = "\n".join(lines)
    if lexer is None or not lines or len(text) > MAX_CHARS:
        return [html.escape(line, quote=False) for line in lines]
    out: list[str] = []
    current: list[str] = []
    for kind, value in lexer.get_tokens(text):
        pieces = value.split("\n")
        for number, piece in enumerate(pieces):
            if number:
                out.append("".join(current))
                current = []
            if piece:
                css = _css(kind) if kind is not Token.Text else ""
                escaped = html.escape(piece, quote=False)
                current.append(f'<span class="{css}">{escaped}</span>' if css else escaped)
    out.append("".join(current))
    # A lexer may drop or add a final newline; the lines are what was asked for, no more, no fewer.
    out = (out + [""] * len(lines))[: len(lines)]
    return out
