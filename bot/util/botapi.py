"""What a Bot API probe (getMe, a first message) reports, as plain types the core can read without aiogram."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BotIdentity:
    username: str
    # False: privacy mode is on, so in groups the bot sees only commands, replies and mentions.
    can_read_all_group_messages: bool
    # True: the bot's private chats have forum topics (each topic is its own project).
    has_topics_enabled: bool
    name: str = ""  # the bot's display name (first_name)


@dataclass(frozen=True)
class Sender:
    """Who sent a message to the bot (`init` takes the operator's user id from it)."""

    user_id: int
    name: str
    username: str


class PollConflict(Exception):
    """getUpdates refused with 409: another process polls with this token, or a webhook is set."""


class TokenRefused(Exception):
    """Telegram does not accept the token (401, or 404 for a token of the wrong form)."""


class ApiUnreachable(Exception):
    """The Bot API could not be reached or answered with a server error; worth retrying."""
