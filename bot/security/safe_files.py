"""Reading a file for the chat without following a symlink swapped in after the path was checked.

`resolve_user_path` resolves symlinks and checks the result against the allowed roots; the file
is then opened component by component from the root with O_NOFOLLOW (`openat`), so a symlink
planted anywhere on the way after that check makes the open fail instead of leading outside.
The bytes come from that descriptor, and its fstat says what was really opened.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path, PurePath

from bot.util.paths import PathRefused, is_inside, resolve_user_path

MAX_SEND_BYTES = 50 * 1024 * 1024  # the Bot API's upload limit

# Names Claude's `send_file` never sends: they usually hold credentials (matched case-insensitively).
SECRET_PATTERNS = (
    ".*",  # hidden files: .env, .npmrc, .netrc, .pgpass, .git-credentials …
    "*.env", "*.env.*", "env.*",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.gpg", "*.asc",
    "id_*",  # ssh keys: id_rsa, id_ed25519 …
    "*credentials*", "*secret*", "*password*",
    "authorized_keys", "known_hosts", "htpasswd", "*.ovpn",
)


def looks_secret(relative: PurePath) -> bool:
    """A hidden file, anything under a hidden directory, or a name that looks like it holds a secret."""
    parts = relative.parts
    if any(part.startswith(".") for part in parts[:-1]):
        return True
    name = parts[-1].lower() if parts else ""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_PATTERNS)


class NotARegularFile(OSError):
    pass


def open_beneath(root: Path, path: Path) -> int:
    """A read-only descriptor of `path` (inside `root`), reached from `root` without following any symlink."""
    relative = path.relative_to(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in relative.parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        if not relative.parts:
            raise NotARegularFile(f"{path} is not a file")
        # O_NONBLOCK: a FIFO planted under the name must not block the bot; fstat rejects it below.
        file_fd = os.open(relative.parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise NotARegularFile(f"{path} is not a file")
    return file_fd


def read_descriptor(fd: int, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_for_sending(
    current: Path, argument: str, roots: list[Path], max_bytes: int = MAX_SEND_BYTES, *, refuse_secrets: bool = False
) -> tuple[str, bytes]:
    """The name and bytes of a file to send to the chat; PathRefused (one sentence) for anything else.

    `refuse_secrets` (Claude's send_file): no hidden file, nothing under a hidden directory, no
    name that looks like a key or credentials; the user's own /file may fetch those explicitly.
    """
    if not argument.strip():
        raise PathRefused("Give the file's path, for example /file report.pdf.")
    path = resolve_user_path(current, argument, roots)
    root = max((r for r in roots if is_inside(path, [r])), key=lambda r: len(r.parts))
    if refuse_secrets and looks_secret(path.relative_to(root)):
        raise PathRefused(f"{path.name} is hidden or looks like it holds secrets; only the user can fetch it, with /file.")
    try:
        fd = open_beneath(root, path)
    except FileNotFoundError:
        raise PathRefused(f"{path} does not exist.") from None
    except NotARegularFile:
        raise PathRefused(f"{path} is not a file.") from None
    except OSError as exc:  # ELOOP: a symlink appeared on the way after the path was checked
        raise PathRefused(f"{path} cannot be read ({exc.strerror or exc}).") from None
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise PathRefused(f"{path.name} is {megabytes(size)}; Telegram takes files up to {megabytes(max_bytes)}.")
        if size == 0:
            raise PathRefused(f"{path.name} is empty, and Telegram does not take empty files.")
        return path.name, read_descriptor(fd, size)
    except OSError as exc:
        raise PathRefused(f"{path} cannot be read ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
