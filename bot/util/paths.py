"""Where `/cd` (and file transfers) may go: inside ALLOWED_PATHS, after resolving `~`, `..` and symlinks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from bot.errors import Refused

MAX_PATH_ARG = 1024


class PathRefused(Refused):
    """A path the user may not use; the message is one sentence for the chat."""


def is_inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


QUOTES = {'"': '"', "'": "'", "“": "”", "„": "“", "‘": "’", "«": "»"}  # phone keyboards type curly ones


def unquote(argument: str) -> str:
    """`"my project"` → `my project`: a path in matching quotes (the words inside may have spaces)."""
    argument = argument.strip()
    if len(argument) >= 2 and QUOTES.get(argument[0]) == argument[-1]:
        return argument[1:-1]
    return argument


def resolve_user_path(current: Path, argument: str, roots: list[Path]) -> Path:
    """Resolve `argument` relative to `current`; refuse anything outside `roots` (after symlinks)."""
    argument = unquote(argument)
    if not argument:
        raise PathRefused("Give a path, for example /cd src.")
    if "\x00" in argument or len(argument) > MAX_PATH_ARG or any(ord(c) < 32 for c in argument):
        raise PathRefused("That path contains characters a path cannot have.")
    candidate = Path(os.path.expanduser(argument))
    if not candidate.is_absolute():
        candidate = current / candidate
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError):  # symlink loops, names too long
        raise PathRefused("That path cannot be resolved.") from None
    if not is_inside(resolved, roots):
        allowed = ", ".join(str(root) for root in roots)
        raise PathRefused(f"{resolved} is outside the allowed directories ({allowed}).")
    return resolved


def require(path: Path, kind: Literal["file", "directory"]) -> None:
    """PathRefused unless `path` exists and is a file or a directory (OSError passes through)."""
    if not path.exists():
        raise PathRefused(f"{path} does not exist.")
    if not (path.is_file() if kind == "file" else path.is_dir()):
        raise PathRefused(f"{path} is not a {kind}.")


def resolve_directory(current: Path, argument: str, roots: list[Path]) -> Path:
    path = resolve_user_path(current, argument, roots)
    try:
        require(path, "directory")
    except OSError:
        raise PathRefused(f"{path} cannot be read.") from None
    return path
