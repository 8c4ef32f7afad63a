"""The confinements: each turns a command into the same command run confined (argv only, no shell)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.confine.layout import BoxUser, Layout

# The system a coding agent needs, read-only; /usr-merged systems have symlinks for the rest.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
FRESH_DIRS = ("/tmp", "/var/tmp", "/run")  # empty in every box (tmpfs), never the bot's


class Confinement(ABC):
    """One way to run a command out of the bot's reach."""

    name: str
    confines = True  # False only for Unconfined
    sees_processes = False  # True when the box shares the bot's pid namespace
    user: BoxUser | None = None  # who the command runs as; None: the bot's own user

    @abstractmethod
    def wrap(self, argv: Sequence[str]) -> list[str]:
        """`argv` run in this confinement."""


class Unconfined(Confinement):
    name = "none"
    confines = False
    sees_processes = True

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return list(argv)


@dataclass
class OwnUser(Confinement):
    """setpriv to an unprivileged user: no groups, no capabilities, no way back (no_new_privs), dies with its parent."""

    user: BoxUser  # type: ignore[misc]  # narrows the base class's optional attribute
    setpriv: str = "/usr/bin/setpriv"
    name = "own user"
    sees_processes = True  # the same pid namespace, but the kernel refuses signals to and /proc of other users

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return [
            self.setpriv, f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--pdeathsig=TERM", "--", *argv,
        ]


@dataclass
class Bubblewrap(Confinement):
    """bwrap: a new mount namespace holding only the system (read-only), the CLI, the workspaces and Claude's
    state; a new pid namespace (no other process visible or signalable); killed with the bot."""

    layout: Layout
    bwrap: str = "/usr/bin/bwrap"
    name = "bubblewrap"

    def wrap(self, argv: Sequence[str]) -> list[str]:
        args = [
            self.bwrap, "--die-with-parent", "--new-session",  # new session: no TIOCSTI into the bot's terminal
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        ]
        for name in SYSTEM_DIRS:
            path = Path(name)
            if path.is_symlink():
                args += ["--symlink", str(path.readlink()), name]
            elif path.is_dir():
                args += ["--ro-bind", name, name]
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp"]
        args += ["--tmpfs", "/run"]
        resolver = Path("/etc/resolv.conf").resolve()  # often a link into /run (systemd-resolved): DNS must work
        if not resolver.is_relative_to("/etc") and resolver.exists():
            args += ["--ro-bind", str(resolver), str(resolver)]
        args += self._parents()
        for path in self.layout.read_only:
            args += ["--ro-bind", str(path), str(path)]
        for path in self.layout.writable:
            args += ["--bind", str(path), str(path)]
        bound = [Path(name) for name in SYSTEM_DIRS] + [*self.layout.read_only, *self.layout.writable]
        for path in self.layout.hidden:  # after the binds, so a mask wins over a bind that covers it
            if not any(path.is_relative_to(top) for top in bound):
                continue  # not in the box at all
            if path.is_dir():
                args += ["--tmpfs", str(path), "--remount-ro", str(path)]
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        return [*args, "--", *argv]


    def _parents(self) -> list[str]:
        """The directories above each bound path, made traversable (bwrap makes them with the bot's umask,
        often 077, which would keep the box's own user from its workspaces)."""
        system = [Path(name) for name in (*SYSTEM_DIRS, *FRESH_DIRS)]
        made: list[str] = []
        for path in (*self.layout.read_only, *self.layout.writable):
            for parent in reversed(path.parents[:-1]):  # without "/"
                if parent not in system and not any(parent.is_relative_to(top) for top in system[: len(SYSTEM_DIRS)]) and str(parent) not in made:
                    made.append(str(parent))
        return [arg for parent in made for arg in ("--perms", "0755", "--dir", parent)]


@dataclass
class Stacked(Confinement):
    """`outer` around `inner`: bubblewrap (as root, so it can bind any path) around the switch to the own user."""

    outer: Confinement
    inner: Confinement

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.inner.name} + {self.outer.name}"

    @property
    def sees_processes(self) -> bool:  # type: ignore[override]
        return self.outer.sees_processes and self.inner.sees_processes

    @property
    def user(self) -> BoxUser | None:  # type: ignore[override]
        return self.inner.user or self.outer.user

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return self.outer.wrap(self.inner.wrap(argv))
