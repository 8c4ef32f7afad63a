"""One bot process per SESSION_DIR: an advisory lock the OS releases even after `kill -9`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".bot.lock"


class AlreadyRunning(RuntimeError):
    pass


class DirectoryLock:
    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another bot process (pid {holder}) is already using {self.path.parent}; stop it first "
                "(two processes on one bot token would take each other's messages)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
