"""Edit a dotenv configuration file in place: set some names, keep every other line and comment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from bot.util.files import write_text_atomic

ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_@%+=:,./~-]*$")


def quoted(value: str) -> str:
    """The value as dotenv reads it back unchanged (quoted only when it must be)."""
    if SAFE_VALUE.match(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def updated(text: str, values: Mapping[str, str]) -> str:
    """`text` with each name in `values` set: its first assignment replaced, later ones dropped, new ones appended."""
    done: set[str] = set()
    lines: list[str] = []
    for line in text.splitlines():
        match = ASSIGNMENT.match(line)
        name = match.group(1).upper() if match else None
        if name in values:
            if name not in done:
                lines.append(f"{name}={quoted(values[name])}")
                done.add(name)
            continue
        lines.append(line)
    lines.extend(f"{name}={quoted(value)}" for name, value in values.items() if name not in done)
    return "\n".join(lines) + "\n"


def write_settings(path: Path, values: Mapping[str, str]) -> None:
    """Set `values` in the file at `path` (created with its directory if missing); the file ends up mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    write_text_atomic(path, updated(text, values))
