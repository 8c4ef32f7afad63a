"""A real terminal for end-to-end tests: a command in a detached tmux session, typed into and read."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import uuid
from pathlib import Path

DONE = "[terminal: exit "


class Tmux:
    def __init__(self, tmp: Path) -> None:
        self.name = f"e2e-{uuid.uuid4().hex[:10]}"
        self.tmp = tmp

    def start(self, command: str, env: dict[str, str], cwd: Path) -> None:
        """Run `command` (a shell line) in `cwd` with exactly `env`; the pane stays once it ends."""
        script = self.tmp / f"{self.name}.sh"
        exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
        script.write_text(f"{exports}cd {shlex.quote(str(cwd))}\n{command}\necho '{DONE}'$?']'\nsleep 3600\n")
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "200", "-y", "60", f"env -i /bin/sh {shlex.quote(str(script))}"],
            check=True,
        )

    def send(self, text: str, enter: bool = True) -> None:
        if text:
            subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        if enter:
            subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def interrupt(self) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "C-c"], check=True)

    def screen(self) -> str:
        done = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name], capture_output=True, text=True)
        return done.stdout

    async def wait(self, text: str, timeout: float = 30, after: int = 0) -> int:
        """Until `text` shows after position `after` of the screen; where it ends (for the next wait)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            shown = self.screen()
            found = shown.find(text, after)
            if found >= 0:
                return found + len(text)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{text!r} not shown in the terminal within {timeout} s:\n{shown}")
            await asyncio.sleep(0.1)

    def exit_status(self) -> int | None:
        shown = self.screen()
        if DONE not in shown:
            return None
        return int(shown.rsplit(DONE, 1)[1].split("]", 1)[0])

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
