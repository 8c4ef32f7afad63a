"""The box user, when the bot is root: created if missing, and given what Claude must be able to change."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from bot.confine.layout import BoxUser


class NoBoxUser(Exception):
    """The user could not be found or created: one sentence with the fix."""


def ensure_user(name: str, notes: list[str]) -> BoxUser:
    """The system user `name`, created (no login shell, home in /var/lib/NAME) if it does not exist.
    What was done goes to `notes` (logged once the bot has signed in: a refused start stays one line)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise NoBoxUser(f"there is no user {name} and no useradd to create it: create it, or set CLAUDE_USER") from None
        done = subprocess.run(
            [useradd, "--system", "--user-group", "--create-home", "--home-dir", f"/var/lib/{name}",
             "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            raise NoBoxUser(f"could not create the user {name}: {done.stderr.strip() or done.returncode}") from None
        notes.append(f"created the user {name} for Claude Code")
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise NoBoxUser(f"CLAUDE_USER {name} is root: name an unprivileged user")
    return BoxUser(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def hand_over(path: Path, user: BoxUser, notes: list[str]) -> None:
    """`path` and everything below it become the user's, once: a tree whose top is already theirs is left alone
    (symlinks are changed themselves, never followed)."""
    if path.lstat().st_uid == user.uid:
        return
    notes.append(f"gave {path} to {user.name} (once)")
    os.lchown(path, user.uid, user.gid)
    for top, dirs, files in os.walk(path, followlinks=False):
        for name in (*dirs, *files):
            os.lchown(os.path.join(top, name), user.uid, user.gid)
