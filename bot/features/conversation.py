"""What each chat command does, independent of Telegram: handlers call these and send the text back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.claude.runner import ClaudeRunner
from bot.features import claude_commands
from bot.features.desk import DeskCommand, holder_line
from bot.features.settings import ChatSettings
from bot.features.sharing import SharingCommands
from bot.features.texts import (
    BUTTON_EXPIRED,
    COMMANDS,
    help_text,
    live_clients_line,
    sessions_text,
    short_id,
    start_text,
    status_text,
)
from bot.features.worktrees import branch_of
from bot.sessions.history import ResumeChoice, resume_choices
from bot.sessions.keys import ChatKey
from bot.sessions.links import SessionRoutes
from bot.sessions.manager import SessionManager
from bot.sessions.visibility import visible_sessions
from bot.sessions.session import ClaudeSession
from bot.turns.scheduler import TurnScheduler
from bot.util.paths import is_inside, resolve_directory
from bot.util.text import esc


@dataclass(frozen=True)
class ChatCommands:
    manager: SessionManager
    scheduler: TurnScheduler
    runner: ClaudeRunner
    routes: SessionRoutes
    sharing: SharingCommands
    chat_settings: ChatSettings
    waiting_lines: Callable[[ClaudeSession], list[str]]  # Claude's requests still waiting, for /status
    budget_lines: Callable[[ClaudeSession], Awaitable[list[str]]]  # what is left of the daily budgets, for /status
    roots: list[Path]
    idle_cleanup_seconds: float
    live_clients_origin: str  # why MAX_LIVE_CLIENTS is what it is ("set", "from 3.2 GB available"), for /status
    desk: DeskCommand | None = None  # how a terminal continues a chat's conversation, for /status

    async def session(self, key: ChatKey, title: str = "") -> ClaudeSession:
        return await self.manager.for_chat(key, title)

    async def help(self, key: ChatKey, title: str = "") -> str:
        session = await self.session(key, title)
        own = {name for name, _ in COMMANDS}
        return "\n".join([help_text(session), *claude_commands.help_lines(session, own)])

    async def menu(self, key: ChatKey) -> list[tuple[str, str]]:
        """This chat's command menu: the bot's commands and Claude Code's that Telegram can show."""
        return claude_commands.menu(await self.session(key), COMMANDS)

    async def start(self, key: ChatKey, title: str = "") -> str:
        return start_text(await self.session(key, title))

    async def status(self, key: ChatKey) -> str:
        session = await self.session(key)
        self.scheduler.refresh_progress(session)
        extra = [
            *self.sharing.describe(key),
            self.chat_settings.summary(session),
            *self.waiting_lines(session),
            *await self.budget_lines(session),
            live_clients_line(self.runner.live_count, self.runner.max_live, self.live_clients_origin),
        ]
        if branch := await branch_of(session.working_dir):
            extra.insert(0, f"Branch: <code>{esc(branch)}</code>")
        if self.desk is not None and session.session_id:
            extra += [holder_line(writer) for writer in await self.runner.elsewhere(session)]
            command = self.desk.command(str(session.working_dir), session.session_id)
            extra.append(f"At the desk ({esc(self.desk.note())}):\n<code>{esc(command)}</code>")
        return status_text(key, session, self.scheduler.activity(session), self.manager.count, extra)

    async def change_dir(self, key: ChatKey, argument: str) -> str:
        session = await self.session(key)
        if not argument.strip():
            return f"This chat works in <code>{esc(session.working_dir)}</code>."
        path = resolve_directory(session.working_dir, argument, self.roots)
        session.set_working_dir(path)
        return f"📁 Now working in <code>{esc(path)}</code>; the conversation continues there."

    async def new_conversation(self, key: ChatKey) -> str:
        session = await self.session(key)
        cancelled = await self.scheduler.stop_and_clear(session)
        old = session.start_new_conversation()
        await self.runner.close_session(session)
        text = "🆕 Started a fresh conversation in this chat."
        if old:
            text += f" The previous one (<code>{short_id(old)}</code>) is kept: /resume brings it back."
        if cancelled:
            text += f" {cancelled} queued message{'s were' if cancelled > 1 else ' was'} cancelled."
        return text

    async def stop(self, key: ChatKey) -> str | None:
        """None when a turn is being stopped: its own message ends with "⏹ Stopped.", and that is the answer."""
        session = await self.session(key)
        if await self.scheduler.stop(session):
            return None
        return "Nothing is running in this chat."

    async def stop_session(self, key: ChatKey, session_name: str) -> str:
        """The Stop button: only acts on the session the chat is in now."""
        session = await self.session(key)
        if session.name != session_name:
            return BUTTON_EXPIRED
        return "Stopping…" if await self.scheduler.stop(session) else "Nothing is running."

    async def queue_button(self, key: ChatKey, message_id: int, turn_id: int, action: str) -> str:
        """A queue notice's Cancel or Run now: what the presser is told."""
        found = self.scheduler.find_turn(turn_id)
        # Turn ids restart with the bot: a button is only good on the very message it was sent with.
        if found is None or found[1].key != key or found[1].queued_message_id != message_id:
            return BUTTON_EXPIRED
        session, turn = found
        if action == "cancel":
            return "Cancelled." if await self.scheduler.cancel(session, turn) else "Too late: it is already running."
        if action == "now":
            return "Running it next." if await self.scheduler.run_now(session, turn) else "It is already running."
        return BUTTON_EXPIRED

    async def resume_options(self, key: ChatKey) -> list[ResumeChoice]:
        session = await self.session(key)
        # In a shared session, the member chats' own conversations are this chat's too.
        ours = {session.name, *(str(member) for member in self.routes.members(session.name))}
        owned: dict[bool, set[str]] = {True: set(), False: set()}
        for other in await self.manager.load_all():
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
        if choice.working_dir and not is_inside(Path(choice.working_dir).resolve(), self.roots):
            return f"That conversation ran in <code>{esc(choice.working_dir)}</code>, outside the allowed directories."
        owner = self.manager.owner_of(choice.session_id)
        if owner is not None and owner is not session and self.scheduler.is_busy(owner):
            # Two chats writing one conversation at once would fork it.
            return "Another chat is working in that conversation right now; resume it when its turn has finished."
        await self.scheduler.stop(session)  # a turn still running would answer from the old conversation
        session.switch_to(choice.session_id, choice.title, choice.working_dir)
        await self.runner.close_session(session)
        return f"↩️ Resumed <b>{esc(choice.title or short_id(choice.session_id))}</b> in <code>{esc(session.working_dir)}</code>."

    async def _visible(self, key: ChatKey, user_id: int | None) -> list[ClaudeSession]:
        return visible_sessions(await self.manager.load_all(), key, user_id, self.routes.members)

    async def sessions_command(self, key: ChatKey, user_id: int | None, argument: str) -> tuple[str, bool]:
        """`/sessions [cleanup]`: the reply, and whether it offers the clean-up button."""
        argument = argument.strip().lower()
        if argument == "cleanup":
            return await self.cleanup(key, user_id), False
        if argument:
            return "Use /sessions to list sessions or /sessions cleanup to remove idle ones.", False
        return await self.sessions(key, user_id)

    async def sessions(self, key: ChatKey, user_id: int | None) -> tuple[str, bool]:
        """The list of what the asker may see, and whether any of it is idle enough for the clean-up button."""
        sessions = await self._visible(key, user_id)
        found = await asyncio.gather(*(branch_of(s.working_dir) for s in sessions))
        branches = {s.name: b for s, b in zip(sessions, found, strict=True) if b}
        only = {session.name for session in sessions}
        cleanable = bool(await self.manager.idle(self.idle_cleanup_seconds, self.scheduler.is_busy, only))
        text = sessions_text(
            sessions, self.scheduler.activity, self.idle_cleanup_seconds, self.sharing.members_by_session(), branches
        )
        return text, cleanable

    async def cleanup(self, key: ChatKey, user_id: int | None) -> str:
        only = {session.name for session in await self._visible(key, user_id)}
        removed = await self.manager.cleanup_idle(self.idle_cleanup_seconds, self.scheduler.is_busy, only=only)
        for_each = "session was" if removed == 1 else "sessions were"
        return f"🧹 {removed} idle {for_each} removed."
