"""What a confined Claude Code sees: the paths it may write, read, and must never see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BoxUser:
    """The unprivileged user Claude Code runs as when the bot is root (created if missing)."""

    name: str
    uid: int
    gid: int
    home: Path


@dataclass(frozen=True)
class Layout:
    """The box's view of the machine; everything not named here is absent (bubblewrap) or not the box user's."""

    workspaces: tuple[Path, ...]  # ALLOWED_PATHS: written by Claude, and by the bot's git
    home: Path  # HOME inside the box: Claude Code's own, never the bot's (which holds the config file)
    state: Path  # CLAUDE_CONFIG_DIR: the login, settings, .claude.json and the transcripts
    read_only: tuple[Path, ...] = ()  # beyond the system: the CLI's own directory in the bot's venv
    hidden: tuple[Path, ...] = ()  # never visible even below a bound path: config files, SESSION_DIR
    scratch: Path | None = None  # the bot's temporary files for its own git (diff snapshots' index)

    @property
    def writable(self) -> tuple[Path, ...]:
        extra = (self.scratch,) if self.scratch else ()
        return tuple(dict.fromkeys((*self.workspaces, self.home, self.state, *extra)))

    def environment(self) -> dict[str, str]:
        """What a process in the box is told about its home (the rest of the bot's cleaned environment stays);
        the bot's XDG and TMPDIR paths would point where the box has nothing."""
        home = self.home
        return {
            "HOME": str(home), "CLAUDE_CONFIG_DIR": str(self.state), "TMPDIR": "/tmp",
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_STATE_HOME": str(home / ".local" / "state"),
        }
