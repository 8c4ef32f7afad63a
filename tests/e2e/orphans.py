"""No process of a test outlives it: a child asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG),
so a killed xdist worker or a Ctrl-C leaves no bot, zygote or browser behind. An exec keeps the setting."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: a forked child only calls it


def die_with_parent() -> None:
    """In the child (before exec, or after a fork): SIGKILL when the parent that started it dies."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
