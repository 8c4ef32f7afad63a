"""The CLI launcher: a process started through it ends when its parent is killed with SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.claude.launcher import default_cli, write_launcher


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_the_cli_dies_with_a_killed_parent(tmp_path: Path) -> None:
    fake_cli = tmp_path / "claude"
    fake_cli.write_text("#!/bin/sh\nexec sleep 60\n")
    fake_cli.chmod(0o700)
    launcher = write_launcher(tmp_path, fake_cli)
    assert launcher is not None
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, time; p = subprocess.Popen([{launcher!r}]); print(p.pid, flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0] != b"sleep" and time.monotonic() < deadline:
        time.sleep(0.02)  # until the launcher has exec'd the CLI (the fake one execs sleep)
    assert not gone(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the CLI outlived its killed parent")


def test_no_launcher_without_a_cli(tmp_path: Path) -> None:
    assert write_launcher(tmp_path, None) is None
    assert not list(tmp_path.iterdir())


def test_the_default_cli_is_the_bundled_one() -> None:
    cli = default_cli()
    assert cli is not None and cli.name == "claude" and os.access(cli, os.X_OK)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_the_launcher_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    target = tmp_path / "victim.sh"
    target.write_text("original\n")
    (tmp_path / ".claude-launcher").symlink_to(target)
    launcher = write_launcher(tmp_path, tmp_path / "claude")
    assert launcher is not None
    path = Path(launcher)
    assert not path.is_symlink() and path.stat().st_mode & 0o777 == 0o700
    assert target.read_text() == "original\n"


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_the_launcher_runs_the_cli_in_the_box(tmp_path: Path) -> None:
    def box(argv: object) -> list[str]:
        return ["/usr/bin/bwrap", "--unshare-pid", "--", *argv]  # type: ignore[misc]

    launcher = write_launcher(tmp_path, tmp_path / "my cli", box)
    assert launcher is not None
    script = Path(launcher).read_text()
    assert script.endswith(f"--pdeathsig TERM -- /usr/bin/bwrap --unshare-pid -- '{tmp_path}/my cli' \"$@\"\n")
