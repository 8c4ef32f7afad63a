"""Chat commands for shared sessions: pairing codes, /unlink, /links, and what /status shows of them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.claude.runner import ClaudeRunner
from bot.sessions.keys import ChatKey
from bot.sessions.links import Link, LinkStore, SessionRoutes
from bot.sessions.manager import SessionManager
from bot.sessions.pairing import Pairing
from bot.features.texts import short_id
from bot.util.text import counted, esc


def _members(keys: list[ChatKey], titles: dict[ChatKey, str] | None = None) -> str:
    """Each chat by its title when known, with its key (ids alone mean nothing on a phone)."""
    titles = titles or {}
    return ", ".join(
        f"<b>{esc(titles[key])}</b> (<code>{esc(key)}</code>)" if titles.get(key) else f"<code>{esc(key)}</code>"
        for key in keys
    )


@dataclass(frozen=True)
class SharingCommands:
    routes: SessionRoutes
    links: LinkStore
    pairing: Pairing
    manager: SessionManager
    runner: ClaudeRunner

    async def link(self, key: ChatKey, user_id: int, code: str) -> tuple[str, ChatKey | None]:
        """`/link` issues a code; `/link CODE` joins this chat to the code's chat.

        Returns the reply and, after a join, the other chat so it can be told too; a wrong code
        or a refused join raises (bot.errors)."""
        group = self.routes.group_of(key)
        if group is not None:
            return f"This chat already shares the configured group <b>{esc(group)}</b>; links do not apply to it.", None
        if not code.strip():
            issued = self.pairing.issue(user_id, key)
            minutes = max(1, round(self.pairing.ttl / 60))
            return (
                f"🔗 To share this chat's conversation, send <code>/link {issued}</code> in the other chat "
                f"within {counted(minutes, 'minute')}. The code works once, and only for you.",
                None,
            )
        source = self.pairing.redeem(user_id, code)
        link = await asyncio.to_thread(self.links.join, source, key)
        session = await self.manager.for_chat(key)
        await self.runner.close_session(session)
        text = (
            f"🔗 Linked: this chat now shares one conversation with {_members([m for m in link.members if m != key])} "
            f"(link <code>{esc(link.id)}</code>). Its own conversation is kept and comes back with /unlink."
        )
        return text, source

    async def unlink(self, key: ChatKey) -> tuple[str, list[ChatKey], str]:
        """The reply, and the chats still in the link with what they are told (a chat left)."""
        group = self.routes.group_of(key)
        if group is not None:
            return f"This chat is in the configured group <b>{esc(group)}</b>; the operator changes that in SESSION_CHAT_GROUPS.", [], ""
        link = await asyncio.to_thread(self.links.remove_member, key)
        if link is None:
            return "This chat is not linked to any other chat.", [], ""
        own = await self.manager.own_session(key)
        text = (
            f"🔓 Unlinked from link <code>{esc(link.id)}</code>: this chat is back in its own conversation "
            f"(<code>{short_id(own.session_id)}</code>)."
        )
        others = [member for member in link.members if member != key]
        left = "the link ended with it" if len(others) < 2 else "the others still share this conversation"
        notice = f"🔓 {_members([key], await self._titles([key]))} left this chat's shared conversation; {left}."
        return text, others, notice

    async def _titles(self, keys: list[ChatKey]) -> dict[ChatKey, str]:
        return {key: await self.manager.title_of(key) for key in keys}

    def describe(self, key: ChatKey, titles: dict[ChatKey, str] | None = None) -> list[str]:
        """Lines for /status and /links about this chat's sharing."""
        group = self.routes.group_of(key)
        if group is not None:
            members = self.routes.members(f"group-{group}")
            return [f"Shared: configured group <b>{esc(group)}</b> with {_members(members)}"]
        link = self.routes.link_of(key)
        if link is None:
            return []
        return [f"Shared: link <code>{esc(link.label)}</code> with {_members(link.members, titles)}"]

    async def links_text(self, key: ChatKey) -> str:
        link = self.routes.link_of(key)
        members = link.members if link is not None else []
        lines = self.describe(key, await self._titles(members))
        if not lines:
            return "This chat is not linked. /link gives a code to share its conversation with another chat."
        return "\n".join(lines + ["/unlink leaves and returns this chat to its own conversation."])

    def members_by_session(self) -> dict[str, list[str]]:
        shared: dict[str, list[str]] = {}
        links: list[Link] = self.routes.links()
        for link in links:
            shared[link.session_name] = [str(m) for m in link.members]
        for group, keys in self.routes.groups.items():
            shared[f"group-{group}"] = [str(k) for k in keys]
        return shared
