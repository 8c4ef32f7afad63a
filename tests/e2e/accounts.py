"""The bot run as root (the suite's own user: Claude Code runs as a user of its own in bubblewrap) or as an
ordinary user the test creates (bubblewrap alone): what tests/e2e/test_box.py and test_desk.py run twice."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

BOT_USER = "tg-bot-e2e"


def bot_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(BOT_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", BOT_USER],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(BOT_USER)
    return entry.pw_uid, entry.pw_gid


def python_as(uid: int, gid: int, pythonpath: str) -> list[str]:
    """How the user starts this tree's bot: the suite's interpreter when the user can run it, else (a pyenv under
    /root) the system's python3 of the same version, with this tree and the venv's packages on PYTHONPATH."""
    switch = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    want = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for python in (sys.executable, "/usr/bin/python3"):
        done = subprocess.run(
            [*switch, python, "-c", "import sys, aiogram; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, env={"PYTHONPATH": pythonpath, "PATH": os.environ["PATH"]}, cwd="/",
        )
        if done.returncode == 0 and done.stdout.strip() == want:
            return [*switch, python]
    pytest.skip(f"no python {want} the user {BOT_USER} can run")


def give(path: Path, uid: int, gid: int) -> None:
    for top, dirs, files in os.walk(path):
        os.chown(top, uid, gid)
        for name in files:
            os.chown(os.path.join(top, name), uid, gid)


@contextlib.asynccontextmanager
async def bot_as(
    account: str, telegram: TelegramStandin, claude_api: MessagesStandin, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    """The bot, not started yet, as "root" or as an ordinary "user" (its own tmp directory: /tmp/pytest-of-root
    is root's alone); stopped at the end."""
    tmp = None
    if account == "root" or os.geteuid() != 0:
        process = BotProcess(telegram, claude_api, tmp_path)
    else:
        uid, gid = bot_user()
        tmp = Path(tempfile.mkdtemp(prefix="tg-bot-e2e-"))
        pythonpath = f"{ROOT}:{sysconfig.get_paths()['purelib']}"
        process = BotProcess(telegram, claude_api, tmp, python=python_as(uid, gid, pythonpath))
        process.extra_env["PYTHONPATH"] = pythonpath
    for path in (process.work_dir, process.home, process.config_file.parent):
        path.mkdir(parents=True, exist_ok=True)
    process.config_file.touch()
    if tmp is not None:
        give(tmp, *bot_user())
    try:
        yield process
    finally:
        if process.process is not None and process.process.returncode is None:
            await process.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
