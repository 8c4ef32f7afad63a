"""The desk command /status gives, for each box the bot may run Claude Code in (bot/features/desk.py)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from bot.confine import Box
from bot.confine.confinement import OwnUser, Unconfined
from bot.confine.layout import BoxUser, Layout
from bot.claude.desk import Writer
from bot.features.desk import desk_command, holder_line

SID = "6d7f3711-ef26-4af5-9e86-14d86eb635cd"
WORK = "/srv/it's work"  # a quote in the path: the command must still be one argument per part


def box(state: Path, user: BoxUser | None = None) -> Box:
    layout = Layout(workspaces=(Path("/srv"),), home=Path("/var/lib/tg-claude"), state=state)
    return Box(OwnUser(user, "/usr/bin/setpriv") if user else Unconfined(), layout)


def words(command: str) -> list[str]:
    return shlex.split(command)


def test_the_bots_own_account_and_default_state_is_plain_claude(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    command = desk_command(box(tmp_path / ".claude"), "/sessions/.claude-launcher").command(WORK, SID)
    assert words(command) == ["cd", WORK, "&&", "claude", "--resume", SID]


def test_another_state_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    desk = desk_command(box(tmp_path / "bot state"), None)
    assert words(desk.command(WORK, SID)) == ["cd", WORK, "&&", f"CLAUDE_CONFIG_DIR={tmp_path / 'bot state'}", "claude", "--resume", SID]
    assert "keeps its conversations" in desk.note()


def test_as_root_the_desk_runs_the_bots_launcher_as_its_box_user(tmp_path: Path) -> None:
    user = BoxUser("tg-claude", 995, 994, Path("/var/lib/tg-claude"))
    desk = desk_command(box(Path("/var/lib/tg-claude/.claude"), user), "/var/lib/bot/sessions/.claude-launcher")
    assert words(desk.command(WORK, SID)) == ["cd", WORK, "&&", "/var/lib/bot/sessions/.claude-launcher", "--resume", SID]
    assert "as tg-claude in the bot's box" in desk.note()


def test_the_command_is_what_a_shell_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    work = tmp_path / "it's here"
    work.mkdir()
    command = desk_command(box(tmp_path / "st ate"), None).command(str(work), SID)
    shown = command.replace(" claude --resume", " sh -c 'echo \"$PWD|$CLAUDE_CONFIG_DIR|$0\"' --resume")
    done = subprocess.run(["sh", "-c", shown], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"{work}|{tmp_path / 'st ate'}|--resume"


def test_status_says_what_holds_the_conversation_at_the_desk() -> None:
    assert "mid-turn" in holder_line(Writer(pid=7, status="busy", entrypoint="cli"))
    assert "resume it there again" in holder_line(Writer(pid=7, status="idle", entrypoint="cli"))
