"""What each chat command does, independent of Telegram: handlers call these and send the text back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.app import Core
from bot.security.access import visible_sessions
from bot.sessions.history import ResumeChoice, resume_choices
from bot.sessions.keys import ChatKey
from bot.util.paths import PathRefused, is_inside, resolve_directory
from bot.sessions.session import ClaudeSession
from bot.features.sharing import SharingCommands
from bot.features.texts import esc, help_text, sessions_text, short_id, status_text


@dataclass(frozen=True)
class ChatCommands:
    core: Core

    async def session(self, key: ChatKey, title: str = "") -> ClaudeSession:
        return await self.core.manager.for_chat(key, title)

    async def help(self, key: ChatKey, title: str = "") -> str:
        return help_text(await self.session(key, title))

    async def status(self, key: ChatKey) -> str:
        session = await self.session(key)
        extra = [
            *SharingCommands(self.core).describe(key),
            self.core.chat_settings.summary(session),
            *self.core.approvals.waiting_lines(session),
        ]
        return status_text(key, session, self.core.manager.count, extra)

    async def change_dir(self, key: ChatKey, argument: str) -> str:
        session = await self.session(key)
        if not argument.strip():
            return f"This chat works in <code>{esc(session.working_dir)}</code>."
        try:
            path = resolve_directory(session.working_dir, argument, self.core.settings.allowed_paths)
        except PathRefused as refused:
            return esc(refused)
        session.set_working_dir(path)
        return f"📁 Now working in <code>{esc(path)}</code>; the conversation continues there."

    async def new_conversation(self, key: ChatKey) -> str:
        session = await self.session(key)
        cancelled = await self.core.scheduler.stop_and_clear(session)
        old = session.start_new_conversation()
        await self.core.runner.close_session(session)
        text = "🆕 Started a fresh conversation in this chat."
        if old:
            text += f" The previous one (<code>{short_id(old)}</code>) is kept: /resume brings it back."
        if cancelled:
            text += f" {cancelled} queued message{'s were' if cancelled > 1 else ' was'} cancelled."
        return text

    async def stop(self, key: ChatKey) -> str:
        session = await self.session(key)
        if await self.core.scheduler.stop(session):
            return "⏹ Stopping the running turn…"
        return "Nothing is running in this chat."

    async def stop_session(self, key: ChatKey, session_name: str) -> str:
        """The Stop button: only acts on the session the chat is in now."""
        session = await self.session(key)
        if session.name != session_name:
            return "That button has expired."
        return "Stopping…" if await self.core.scheduler.stop(session) else "Nothing is running."

    async def resume_options(self, key: ChatKey) -> list[ResumeChoice]:
        session = await self.session(key)
        # In a shared session, the member chats' own conversations are this chat's too.
        ours = {session.name, *(str(member) for member in self.core.routes.members(session.name))}
        owned: dict[bool, set[str]] = {True: set(), False: set()}
        for other in await self.core.manager.load_all():
            if other is not session:
                ids = [other.record.session_id, *(p.session_id for p in other.record.history)]
                owned[other.name in ours].update(sid for sid in ids if sid)
        return await resume_choices(session, owned[False] - owned[True], sorted(owned[True]))

    async def resume(self, key: ChatKey, session_id: str) -> str:
        session = await self.session(key)
        if session_id == session.session_id:
            return "This chat is already in that conversation."
        choices = {choice.session_id: choice for choice in await self.resume_options(key)}
        choice = choices.get(session_id)
        if choice is None:
            return "That conversation is no longer available to this chat."
        if choice.working_dir and not is_inside(Path(choice.working_dir).resolve(), self.core.settings.allowed_paths):
            return f"That conversation ran in <code>{esc(choice.working_dir)}</code>, outside the allowed directories."
        if session.is_running:
            await self.core.scheduler.stop(session)
        session.switch_to(choice.session_id, choice.title, choice.working_dir)
        await self.core.runner.close_session(session)
        return f"↩️ Resumed <b>{esc(choice.title or short_id(choice.session_id))}</b> in <code>{esc(session.working_dir)}</code>."

    async def _visible(self, key: ChatKey, user_id: int | None) -> list[ClaudeSession]:
        return visible_sessions(await self.core.manager.load_all(), key, user_id, self.core.routes.members)

    async def sessions(self, key: ChatKey, user_id: int | None) -> str:
        sessions = await self._visible(key, user_id)
        members = SharingCommands(self.core).members_by_session()
        return sessions_text(sessions, self.core.settings.idle_cleanup_seconds, members)

    async def cleanup(self, key: ChatKey, user_id: int | None) -> str:
        only = {session.name for session in await self._visible(key, user_id)}
        removed = await self.core.manager.cleanup_idle(self.core.settings.idle_cleanup_seconds, only=only)
        for_each = "session was" if removed == 1 else "sessions were"
        return f"🧹 {removed} idle {for_each} removed."
