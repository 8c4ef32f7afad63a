"""How many Claude Code processes this machine can hold, from the memory available now."""

from __future__ import annotations

import os
from pathlib import Path

CLI_BYTES = 250 * 1024 * 1024  # resident size of one idle Claude Code CLI, measured ~230 MB
SHARE = 3 / 4  # of the memory available; the rest is for what Claude runs (builds, tests) and the system
MIN_LIVE, MAX_LIVE = 2, 64


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes (Linux), else physical memory, else None."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def live_clients_for(available: int | None) -> int:
    """One CLI per 250 MB of three quarters of the memory available, within MIN_LIVE..MAX_LIVE (MIN_LIVE when unknown).

    An idle CLI costs memory, not CPU, so memory alone bounds how many stay warm.
    """
    if available is None:
        return MIN_LIVE
    return max(MIN_LIVE, min(MAX_LIVE, int(available * SHARE) // CLI_BYTES))
