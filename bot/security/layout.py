"""Start-up checks of where things lie: nothing of the bot's inside a place Claude may work in.

Claude Code reads and (with permission, or in the permissive modes without asking) writes
anything under its working directory, and `/cd` moves a chat anywhere inside ALLOWED_PATHS. So
the configuration file (the token), SESSION_DIR (session files, links), the bot's own code and
its virtual environment must all lie outside every one of those roots; and a new chat's
directory must be one of the places the operator allowed.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

import bot


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def installation_dirs() -> list[tuple[str, Path]]:
    """The bot's code (both its packages) and, when it runs in one, its virtual environment."""
    dirs = [("the bot's installation", Path(bot.__file__).resolve().parent)]
    handlers = importlib.util.find_spec("handlers")  # found, not imported: it pulls in aiogram
    if handlers is not None and handlers.origin:
        dirs.append(("the bot's installation", Path(handlers.origin).resolve().parent))
    if sys.prefix != sys.base_prefix:
        dirs.append(("the bot's virtual environment", Path(sys.prefix).resolve()))
    return dirs


def layout_problem(
    *,
    working_dir: Path,
    allowed_paths: list[Path],
    session_dir: Path,
    config_files: Iterable[Path],
    installation: Iterable[tuple[str, Path]] | None = None,
) -> str | None:
    """One sentence naming the first unsafe placement, or None when the layout is safe."""
    if not any(_inside(working_dir, root) for root in allowed_paths):
        return f"CLAUDE_WORKING_DIR {working_dir} is not inside ALLOWED_PATHS"
    protected = [("the configuration file", path.resolve()) for path in config_files]
    protected.append(("SESSION_DIR", session_dir))
    protected.extend(installation_dirs() if installation is None else installation)
    for what, path in protected:
        for root in allowed_paths:
            if _inside(path, root):
                return (
                    f"{what} {path} lies inside the workspace {root} (ALLOWED_PATHS), where Claude can read "
                    "and change it; move it outside every workspace"
                )
    return None
