"""Which confinement is chosen, and what is refused where none holds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.claude.cli_limits import refused_in, refused_modes
from bot.confine import Box, BoxRefused, Unconfined, Wanted, open_box
from bot.confine import choose
from bot.confine.layout import Layout


def _wanted(tmp_path: Path, choice: str) -> Wanted:
    (tmp_path / "work").mkdir(exist_ok=True)
    (tmp_path / "sessions").mkdir(exist_ok=True)
    return Wanted(choice, (tmp_path / "work",), (tmp_path / "sessions",), None, home=tmp_path / "claude-home")


def _env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "operator"), "CLAUDE_CONFIG_DIR": str(tmp_path / "state")}


def test_the_plan_is_the_strongest_first() -> None:
    assert choose._plan("auto", 0, "/usr/bin/bwrap") == ["user+bubblewrap", "user"]
    assert choose._plan("auto", 0, None) == ["user"]  # root without bubblewrap: file modes and the kernel still hold
    assert choose._plan("auto", 1000, "/usr/bin/bwrap") == ["bubblewrap", "none"]
    assert choose._plan("bubblewrap", 0, None) == ["bubblewrap"]  # asked for: nothing else will do


def test_none_is_unconfined_and_says_so(tmp_path: Path) -> None:
    box = open_box(_wanted(tmp_path, "none"), _env(tmp_path), euid=1000)
    assert not box.confined and "CLAUDE_CONFINEMENT=none" in box.why_not


def test_without_bubblewrap_and_not_root_nothing_holds_and_the_fix_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(choose.shutil, "which", lambda name: None if name == "bwrap" else real(name))
    box = open_box(_wanted(tmp_path, "auto"), _env(tmp_path), euid=1000)
    assert not box.confined and "install bubblewrap" in box.why_not
    with pytest.raises(BoxRefused, match="bubblewrap is not installed"):
        open_box(_wanted(tmp_path, "bubblewrap"), _env(tmp_path), euid=1000)


def test_a_user_of_its_own_needs_root(tmp_path: Path) -> None:
    with pytest.raises(BoxRefused, match="needs the bot to run as root"):
        open_box(_wanted(tmp_path, "user"), _env(tmp_path), euid=1000)


def test_an_unknown_choice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BoxRefused, match="must be one of"):
        open_box(_wanted(tmp_path, "docker"), _env(tmp_path), euid=1000)


def test_the_state_is_claude_config_dir_or_the_operators_login(tmp_path: Path) -> None:
    assert choose.claude_state({"CLAUDE_CONFIG_DIR": str(tmp_path / "s")}, None) == tmp_path / "s"
    assert choose.claude_state({"HOME": str(tmp_path)}, None) == tmp_path / ".claude"


def test_the_operators_claude_json_is_reused_once(tmp_path: Path) -> None:
    home = tmp_path / "operator"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text('{"oauthAccount": {}}')
    choose._reuse_login(home / ".claude", {"HOME": str(home)})
    assert (home / ".claude" / ".claude.json").read_text() == '{"oauthAccount": {}}'


def _works(box: Box) -> bool:
    return choose.probe(box) is None


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_a_real_box_writes_its_workspace_and_sees_nothing_of_the_bots(tmp_path: Path) -> None:
    """Run as the suite runs (root in CI: own user + bubblewrap; else bubblewrap alone)."""
    wanted = _wanted(tmp_path, "auto")
    (tmp_path / "sessions" / "inbox.jsonl").write_text("secret")
    box = open_box(wanted, _env(tmp_path))
    if not box.confined:
        pytest.skip(f"no confinement works here: {box.why_not}")
    script = (
        f"echo made > {tmp_path}/work/out; cat {tmp_path}/sessions/inbox.jsonl; kill -0 {os.getpid()}; "
        f"echo kill=$?; touch {tmp_path}/sessions/x; ls /proc | grep -c '^[0-9]'"
    )
    done = subprocess.run(box.command(["sh", "-c", script]), capture_output=True, text=True, cwd=tmp_path / "work")
    assert (tmp_path / "work" / "out").read_text() == "made\n"  # the command ran, and wrote where it may
    assert "secret" not in done.stdout and "kill=1" in done.stdout
    assert not (tmp_path / "sessions" / "x").exists()
    assert int(done.stdout.split()[-1]) < 10  # its own pid namespace: a handful of processes, not the machine's


def test_bypass_is_refused_where_nothing_confines_unless_allowed(tmp_path: Path) -> None:
    layout = Layout((tmp_path,), tmp_path, tmp_path)
    unconfined = Box(Unconfined(), layout, why_not="bubblewrap is not installed")
    assert "ALLOW_UNCONFINED_BYPASS=true" in refused_modes({}, euid=1000, unconfined="no bubblewrap")["bypassPermissions"]
    assert refused_modes({}, euid=1000) == {}
    if os.geteuid() != 0:  # as root the CLI's own rule (IS_SANDBOX) comes first
        assert "ALLOW_UNCONFINED_BYPASS=true" in refused_in(unconfined, allow_unconfined=False)["bypassPermissions"]
        assert refused_in(unconfined, allow_unconfined=True) == {}
    assert refused_modes({}, euid=0, own_user=True) == {}  # as its own user Claude Code is not root
    assert "IS_SANDBOX=1" in refused_modes({}, euid=0)["bypassPermissions"]
