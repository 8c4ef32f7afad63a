"""Files only the bot's user may read: private directories, atomic 0600 writes, exclusive locks."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def write_text_atomic(path: Path, data: str) -> None:
    """Temporary file, fsync, rename over `path`; mode 0600. A `kill -9` never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(fd, 0o600)  # a leftover temporary file may have had another mode
        handle.write(data)
        handle.flush()
        os.fsync(fd)
    os.replace(tmp, path)


async def write_text_atomic_async(path: Path, data: str) -> None:
    """`write_text_atomic` off the event loop."""
    await asyncio.to_thread(write_text_atomic, path, data)


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `lock_path` (created 0600) for the block."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
