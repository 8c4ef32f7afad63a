"""The harness's side of tests/e2e/zygote.py: one zygote per test process, and a forked bot that looks
to a test like the `asyncio.subprocess.Process` an exec'd bot is, as far as the harness uses one (pid, returncode,
send_signal, wait).

`E2E_EXEC=1` makes every bot an exec'd `python -m bot` again (to compare, or to rule the zygote out)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.orphans import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


def _interpreter_settings(env: dict[str, str]) -> dict[str, str]:
    """What Python reads only when it starts (a fork cannot take them on): PYTHON*, the locale."""
    return {k: v for k, v in env.items() if k.startswith("PYTHON") or k in ("LANG", "LC_ALL", "LC_CTYPE")}


@dataclass
class ForkedBot:
    pid: int
    _reader: asyncio.StreamReader
    _writer: asyncio.StreamWriter
    returncode: int | None = None
    _exited: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._wait_exit())

    async def _wait_exit(self) -> None:
        line = await self._reader.readline()
        # No line: the zygote died, and PR_SET_PDEATHSIG took the bot with it.
        self.returncode = json.loads(line)["exit"] if line else -signal.SIGKILL
        self._writer.close()
        self._exited.set()

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode


class Zygote:
    def __init__(self) -> None:
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.socket = Path(tempfile.mkdtemp(prefix="zygote-")) / "socket"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.zygote", str(self.socket)], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, preexec_fn=die_with_parent,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"the test zygote did not start (status {self.process.wait()})")

    def can_run(self, env: dict[str, str]) -> bool:
        return self.process.poll() is None and _interpreter_settings(env) == _interpreter_settings(self.env)

    async def start(self, args: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> ForkedBot:
        """`python -m bot ARGS` in `cwd` with `env`, its output appended to `log`."""
        reader, writer = await asyncio.open_unix_connection(str(self.socket))
        writer.write(json.dumps({"args": args, "cwd": str(cwd), "env": env, "log": str(log)}).encode() + b"\n")
        await writer.drain()
        line = await reader.readline()
        if not line:
            raise RuntimeError("the test zygote closed the connection instead of starting the bot")
        return ForkedBot(json.loads(line)["pid"], reader, writer)


_zygote: Zygote | None = None


def forking(python: list[str], start_dir: Path | None, env: dict[str, str]) -> Zygote | None:
    """The zygote, when it can start this bot as `python -m bot` would: this interpreter, this tree,
    the same interpreter settings; None for a bot started as another user or from another directory."""
    global _zygote
    if os.environ.get("E2E_EXEC") == "1" or python != [sys.executable] or start_dir is not None:
        return None
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = Zygote()
    return _zygote if _zygote.can_run(env) else None
