"""What Claude receives for a turn: messages mirrored in from outside, who is speaking in a
shared session, the user's text, and images."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.claude.framing import Prompt
from bot.sessions.links import SessionRoutes
from bot.turns.delimit import escape_attribute
from bot.turns.mirror import drain_mirrored, format_mirrored
from bot.sessions.session import ClaudeSession, Turn


def speaker_prefix(turn: Turn) -> str:
    """Who speaks, from which chat: titles and names are other people's text, so one escaped tag."""
    speaker = f'<speaker chat="{escape_attribute(turn.chat_title or str(turn.key))}"'
    if turn.user_name:
        speaker += f' from="{escape_attribute(turn.user_name)}"'
    return speaker + " />\n"


@dataclass(frozen=True)
class PromptBuilder:
    session_dir: Path
    routes: SessionRoutes

    async def __call__(self, session: ClaudeSession, turn: Turn) -> Prompt:
        if turn.command:  # Claude Code only recognises a slash command at the very start of the prompt
            return Prompt(turn.prompt)
        members = self.routes.members(session.name)
        # Messages sent to any member chat from outside (`python -m bot notify`) since the last turn.
        mirrored = await asyncio.to_thread(drain_mirrored, self.session_dir, members or [turn.key])
        notes = "".join(f"[{note}]\n" for note in session.record.notes_for_claude)
        if notes:
            session.record.notes_for_claude = []
            session.save()
        text = format_mirrored(mirrored) + notes + (speaker_prefix(turn) if members else "") + turn.prompt
        return Prompt(text, tuple(turn.images))
