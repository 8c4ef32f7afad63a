"""Which confinement holds here, chosen once at start (CLAUDE_CONFINEMENT) and proved by running it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.confine.account import NoBoxUser, ensure_user, hand_over
from bot.confine.box import Box
from bot.confine.confinement import Bubblewrap, Confinement, OwnUser, Stacked, Unconfined
from bot.confine.layout import BoxUser, Layout

CHOICES = ("auto", "bubblewrap", "user", "user+bubblewrap", "none")
INSTALL_BWRAP = "install bubblewrap (apt-get install bubblewrap, dnf install bubblewrap)"
NO_NAMESPACES = (
    "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / "
    "kernel.apparmor_restrict_unprivileged_userns=0), or run the bot as root so Claude Code runs as a user of its own"
)


class BoxRefused(Exception):
    """The confinement asked for cannot hold here: one sentence with the fix (a configuration error)."""


@dataclass(frozen=True)
class Wanted:
    """What the box is made of, from the settings."""

    choice: str  # one of CHOICES
    workspaces: tuple[Path, ...]
    hidden: tuple[Path, ...]  # SESSION_DIR and the configuration files
    cli: Path | None  # the CLI binary, bound read-only
    user_name: str = "tg-claude"
    home: Path | None = None  # CLAUDE_HOME; None: the box user's home, or a directory of the bot's own


def claude_state(environ: Mapping[str, str], user: BoxUser | None) -> Path:
    """CLAUDE_CONFIG_DIR: the one already set (a test's hermetic home), the box user's, or the operator's ~/.claude
    (so an existing login and its transcripts keep working)."""
    if environ.get("CLAUDE_CONFIG_DIR"):
        return Path(environ["CLAUDE_CONFIG_DIR"]).expanduser().resolve()
    base = user.home if user is not None else Path(environ.get("HOME") or Path.home())
    return (base / ".claude").resolve()


def claude_home(wanted: Wanted, user: BoxUser | None) -> Path:
    if wanted.home is not None:
        return wanted.home.expanduser().resolve()
    if user is not None:
        return user.home.resolve()
    import platformdirs

    return (Path(platformdirs.user_data_dir("tg-claude-code")) / "claude-home").resolve()


def _plan(choice: str, euid: int, bwrap: str | None) -> list[str]:
    """The confinements to try, best first."""
    if choice != "auto":
        return [choice]
    if euid == 0:
        return ["user+bubblewrap", "user"] if bwrap else ["user"]
    return ["bubblewrap", "none"]


def _build(kind: str, layout: Layout, user: BoxUser | None, bwrap: str | None, setpriv: str | None) -> Confinement:
    own: Confinement | None = None
    if "user" in kind:
        if user is None or setpriv is None:
            raise BoxRefused("a user of its own needs the bot to run as root and setpriv (util-linux)")
        own = OwnUser(user, setpriv)
    if "bubblewrap" not in kind:
        assert own is not None, kind
        return own
    if bwrap is None:
        raise BoxRefused(f"bubblewrap is not installed: {INSTALL_BWRAP}")
    box = Bubblewrap(layout, bwrap)
    return Stacked(box, own) if own is not None else box


def probe(box: Box) -> str | None:
    """Run the box once: None if it works and can write everything it must, else why not (one line)."""
    script = 'for d; do test -w "$d" || { echo "cannot write $d"; exit 3; }; done'
    try:
        done = subprocess.run(
            box.command(["sh", "-c", script, "probe", *map(str, (*box.layout.workspaces, box.layout.home, box.layout.state))]),
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    said = (done.stdout + done.stderr).strip().splitlines()
    return said[-1] if said else f"exit status {done.returncode}"


def _scratch(user: BoxUser | None) -> Path:
    """Where the bot's own git keeps its temporary index: made by the bot, reachable (not listable) by the box."""
    path = Path(tempfile.mkdtemp(prefix="tg-claude-code-git-"))
    path.chmod(0o711 if user is not None else 0o700)
    atexit.register(shutil.rmtree, path, True)
    return path


def _prepare(layout: Layout, user: BoxUser | None, notes: list[str]) -> None:
    for path in (layout.home, layout.state):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if user is None:
        return
    for path in (layout.home, layout.state, *layout.workspaces):
        hand_over(path, user, notes)
    for path in layout.hidden:  # file modes are what keeps a user of its own out: no config file readable by others
        if path.is_file() and path.stat().st_mode & 0o077:
            path.chmod(path.stat().st_mode & 0o700)
            notes.append(f"made {path} readable by its owner only: it holds the bot's settings")


def _reuse_login(state: Path, environ: Mapping[str, str]) -> None:
    """With CLAUDE_CONFIG_DIR set, Claude Code keeps .claude.json inside it: copy the operator's ~/.claude.json once."""
    if environ.get("CLAUDE_CONFIG_DIR"):
        return
    source = Path(environ.get("HOME") or Path.home()) / ".claude.json"
    target = state / ".claude.json"
    if source.is_file() and not target.exists():
        shutil.copy2(source, target)


def open_box(wanted: Wanted, environ: Mapping[str, str] | None = None, euid: int | None = None) -> Box:
    """The box Claude Code will run in. Raises BoxRefused when the confinement asked for cannot hold."""
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    if wanted.choice not in CHOICES:
        raise BoxRefused(f"CLAUDE_CONFINEMENT must be one of {', '.join(CHOICES)}")
    if wanted.choice == "none":
        return _unconfined(wanted, environ, None, "CLAUDE_CONFINEMENT=none; remove it to confine Claude Code")
    if not sys.platform.startswith("linux"):
        why = "bubblewrap and setpriv are Linux tools; on this system only Claude Code's permission modes hold"
        if wanted.choice != "auto":
            raise BoxRefused(why)
        return _unconfined(wanted, environ, None, why)
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    user: BoxUser | None = None
    notes: list[str] = []
    if euid == 0 and wanted.choice in ("auto", "user", "user+bubblewrap"):
        try:
            user = ensure_user(wanted.user_name, notes)
        except NoBoxUser as exc:
            raise BoxRefused(str(exc)) from None
    elif "user" in wanted.choice:
        raise BoxRefused(f"CLAUDE_CONFINEMENT={wanted.choice} needs the bot to run as root (it switches to CLAUDE_USER)")
    state = claude_state(environ, user)
    layout = Layout(
        workspaces=wanted.workspaces, home=claude_home(wanted, user), state=state,
        read_only=(wanted.cli.parent,) if wanted.cli else (), hidden=wanted.hidden, scratch=_scratch(user),
    )
    _prepare(layout, user, notes)
    if user is None:  # the operator's own login; a user of its own logs in for itself
        _reuse_login(state, environ)
    failures: list[str] = []
    for kind in _plan(wanted.choice, euid, bwrap):
        if kind == "none":
            break
        try:  # built only when its tools are there
            box = Box(_build(kind, layout, user, bwrap, setpriv), layout, notes=notes)
        except BoxRefused as exc:
            failures.append(str(exc))
            continue
        problem = probe(box)
        if problem is None:
            notes += [f"a stronger confinement does not work here: {failure}" for failure in failures]
            return box
        failures.append(f"{kind} does not work here ({problem})")
    if wanted.choice != "auto":
        raise BoxRefused(f"CLAUDE_CONFINEMENT={wanted.choice}: {failures[-1]}")
    if "cannot write" in failures[-1]:
        why = f"{failures[-1]}: give it to the user Claude Code runs as"
    elif bwrap is None:
        why = f"bubblewrap is not installed: {INSTALL_BWRAP}"
    else:
        why = f"{failures[-1]}: {NO_NAMESPACES}"
    return _unconfined(wanted, environ, user, why, notes)


def _unconfined(wanted: Wanted, environ: Mapping[str, str], user: BoxUser | None, why: str, notes: list[str] | None = None) -> Box:
    layout = Layout(wanted.workspaces, claude_home(wanted, user), claude_state(environ, user), hidden=wanted.hidden)
    return Box(Unconfined(), layout, why_not=why, notes=notes or [])

