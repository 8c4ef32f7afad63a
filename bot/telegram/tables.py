"""Markdown tables as text a phone can read: aligned by display width, narrow, split with headers."""

from __future__ import annotations

import unicodedata

PHONE_WIDTH = 40  # monospace columns a phone shows in a code block before wrapping
BLOCK_CHARS = 1500  # a table block's size, so a message split falls between blocks (each with its header)


def display_width(text: str) -> int:
    """Terminal columns: wide (CJK, most emoji) take two, combining marks and joiners none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(rows: list[list[str]]) -> list[tuple[str, bool]]:
    """Blocks of text for a table, each flagged True when it is monospace.

    A table that fits a phone is aligned in code blocks of at most BLOCK_CHARS, each
    starting with the header; a wider one becomes one plain block per row
    ("header: value" lines), which wraps naturally.
    """
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    rows = [[cell.strip() for cell in row] + [""] * (columns - len(row)) for row in rows]
    widths = [max(display_width(row[i]) for row in rows) for i in range(columns)]
    header, body = rows[0], rows[1:]
    if sum(widths) + 3 * (columns - 1) > PHONE_WIDTH and body:
        return [("\n".join(f"{name}: {value}" for name, value in zip(header, row)), False) for row in body]
    lines = [" | ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    head = [lines[0]] + (["-+-".join("-" * w for w in widths)] if body else [])
    blocks: list[list[str]] = []
    for line in lines[1:] or [None]:
        if not blocks or (line is not None and len("\n".join([*blocks[-1], line])) > BLOCK_CHARS):
            blocks.append(list(head))
        if line is not None:
            blocks[-1].append(line)
    return [("\n".join(block), True) for block in blocks]
