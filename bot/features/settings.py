"""`/mode` and `/model`: a chat's permission mode and model, kept in its JSON across restarts.

Both are part of what a Claude Code process is started with, so the runner starts a new one
(resuming the same conversation) on the chat's next message after a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.sessions.keys import ChatKey
from bot.sessions.manager import SessionManager
from bot.claude.permissions import PERMISSION_MODES, SettingRefused, check_mode, check_model
from bot.sessions.session import ClaudeSession
from bot.util.text import esc


@dataclass(frozen=True)
class ChatSettings:
    manager: SessionManager
    default_mode: str
    default_model: str | None
    refused: dict[str, str] = field(default_factory=dict)  # modes the CLI would refuse here -> why

    def offered_modes(self) -> list[str]:
        """The modes /mode offers: a mode Claude Code would refuse would make every turn fail."""
        return [mode for mode in PERMISSION_MODES if mode not in self.refused]

    def mode_of(self, session: ClaudeSession) -> str:
        return session.record.permission_mode or self.default_mode

    async def mode(self, key: ChatKey, argument: str = "") -> tuple[str, str]:
        """Show or set the mode; returns the reply and the mode now in effect (SettingRefused for a bad one)."""
        session = await self.manager.for_chat(key)
        if argument.strip():
            mode = check_mode(argument)
            if mode in self.refused:
                raise SettingRefused(f"{self.refused[mode]}; choose another mode.")
            session.record.permission_mode = mode
            session.touch()
            return f"🔐 Permission mode is now <b>{esc(mode)}</b> ({esc(PERMISSION_MODES[mode])}); it applies from the next message.", mode
        current = self.mode_of(session)
        lines = [f"🔐 Permission mode: <b>{esc(current)}</b>", ""]
        lines += [f"<b>{esc(name)}</b> — {esc(PERMISSION_MODES[name])}" for name in self.offered_modes()]
        return "\n".join(lines), current

    async def model(self, key: ChatKey, argument: str = "") -> tuple[str, str | None]:
        """Show or set the model ("default" goes back to the bot's); returns the reply and the chat's own choice."""
        session = await self.manager.for_chat(key)
        record = session.record
        if argument.strip():
            if argument.strip().lower() == "default":
                record.model = None
            else:
                record.model = check_model(argument)
            session.touch()
            return f"🧠 Model is now <b>{esc(self._model_name(record.model))}</b>; it applies from the next message.", record.model
        return f"🧠 Model: <b>{esc(self._model_name(record.model))}</b>. Pick one, or send /model &lt;name&gt; for any other.", record.model

    def summary(self, session: ClaudeSession) -> str:
        """For /status."""
        return f"Mode: {esc(self.mode_of(session))} · Model: {esc(self._model_name(session.record.model))}"

    def _model_name(self, model: str | None) -> str:
        if model:
            return model
        return f"{self.default_model} (the bot's default)" if self.default_model else "Claude Code's default"
