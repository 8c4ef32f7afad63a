"""Run the real bot process (`python -m bot`) against the local stand-ins."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.forked import ForkedBot, forking
from tests.e2e.orphans import die_with_parent
from tests.standins.cli_env import cli_env
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

ROOT = Path(__file__).resolve().parents[2]
OWNER = 1001  # an allowed user
FRIEND = 1002  # another allowed user
STRANGER = 6666
START_TIMEOUT = 90.0  # a bot start under parallel load (pytest-xdist on 2 cores) may take a while


@dataclass
class BotProcess:
    telegram: TelegramStandin
    claude: MessagesStandin
    tmp: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    drop_env: set[str] = field(default_factory=set)  # left out of the bot's environment (e.g. what a config file holds)
    start_dir: Path | None = None  # where `python -m bot` starts (this tree by default)
    python: list[str] = field(default_factory=lambda: [sys.executable])  # a test may start the bot as another user
    process: asyncio.subprocess.Process | ForkedBot | None = None
    starts: int = 0

    @property
    def session_dir(self) -> Path:
        return self.tmp / "sessions"

    @property
    def work_dir(self) -> Path:
        return self.tmp / "work"

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    @property
    def claude_home(self) -> Path:
        return self.tmp / "claude-home"

    @property
    def config_file(self) -> Path:
        return self.home / ".config" / "tg-claude-code" / "config.env"

    @property
    def log_path(self) -> Path:
        return self.tmp / "bot.log"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_", "ANTHROPIC_"))}
        base.update(cli_env(self.home, self.claude.base_url))
        base.update(
            TELEGRAM_BOT_TOKEN=self.telegram.token,
            TELEGRAM_API_URL=self.telegram.base_url,
            ALLOWED_USERS=f"{OWNER},{FRIEND}",
            CLAUDE_WORKING_DIR=str(self.work_dir),
            ALLOWED_PATHS=str(self.tmp / "work"),
            SESSION_DIR=str(self.session_dir),
            TG_CLAUDE_CODE_CONFIG=str(self.config_file),  # never a `.env` of the repository the bot starts in
            CLAUDE_HOME=str(self.claude_home),  # Claude Code's HOME in its box; its state is CLAUDE_CONFIG_DIR above
            CLAUDE_PERMISSION_MODE="bypassPermissions",
            LOG_LEVEL="DEBUG",
            PYTHONUNBUFFERED="1",
        )
        base.update(self.extra_env)
        return {k: v for k, v in base.items() if k not in self.drop_env}

    async def start(self, *, wait: bool = True) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.touch()
        polls_before = self._polls()
        log = open(self.log_path, "a")
        log.write(f"\n===== start #{self.starts + 1} =====\n")
        log.flush()
        env = self.env() if self.start_dir is None else {**self.env(), "PYTHONPATH": str(ROOT)}
        zygote = forking(self.python, self.start_dir, env)
        if zygote is not None:
            log.close()
            self.process = await zygote.start([], cwd=ROOT, env=env, log=self.log_path)
        else:
            self.process = await asyncio.create_subprocess_exec(
                *self.python, "-m", "bot", cwd=self.start_dir or ROOT, env=env, stdout=log, stderr=log,
                preexec_fn=die_with_parent,  # no bot keeps polling a stand-in that is gone
            )
            log.close()
        self.starts += 1
        if wait:
            await self.wait_polling(polls_before)

    def _polls(self) -> int:
        return self.telegram.polls_started

    async def wait_polling(self, polls_before: int, timeout: float = START_TIMEOUT) -> None:
        async def ready() -> None:
            await self.telegram.wait_for(lambda: self._polls() > polls_before or self.exited(), timeout=timeout)

        await ready()
        if self.exited():
            raise AssertionError(f"bot exited with {self.process.returncode if self.process else '?'}:\n{self.log_tail()}")

    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout=timeout)

    async def kill(self) -> None:
        await self.stop(signal.SIGKILL)

    async def restart(self, sig: int = signal.SIGTERM) -> None:
        await self.stop(sig)
        await self.start()

    async def run_command(self, *args: str, timeout: float = 120) -> tuple[int, str]:
        """`python -m bot ARGS` with the bot's environment (in its own directory, so no .env is read):
        exit status and stdout + stderr."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.touch()  # TG_CLAUDE_CODE_CONFIG names it: doctor, like run, wants it to exist
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=self.tmp, env={**self.env(), "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
        assert process.returncode is not None
        return process.returncode, output.decode(errors="replace")

    def start_output(self) -> str:
        """What the bot wrote since its latest start."""
        return self.log_path.read_text(errors="replace").rsplit(f"===== start #{self.starts} =====\n", 1)[-1]

    async def wait_output(self, text: str, timeout: float = 60) -> None:
        """Until the bot has written `text` since its latest start (its log is a file: checked every 0.1 s)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while text not in self.start_output():
            if self.exited() or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{text!r} not in the bot's output:\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def session_files(self) -> list[str]:
        return sorted(p.name for p in self.session_dir.glob("*.json"))
