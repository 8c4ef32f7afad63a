"""Small helpers for end-to-end tests: talk to the bot as a user and wait for its answer."""

from __future__ import annotations

from tests.e2e.harness import OWNER
from tests.standins.telegram_api import TelegramStandin


async def ask(telegram: TelegramStandin, chat_id: int, text: str, expect: str, *, user: int = OWNER, timeout: float = 60, **kwargs) -> str:
    """Send `text` as a user and return the text of the first NEW bot message containing `expect`."""
    thread = kwargs.get("thread_id", ...)
    seen = {m.message_id for m in telegram.bot_messages(chat_id, thread, include_deleted=True)}
    telegram.user_message(chat_id, user, text, **kwargs)

    def answer() -> str | None:
        for message in telegram.bot_messages(chat_id, thread):
            if message.message_id not in seen and expect in message.text:
                return message.text
        return None

    return await telegram.wait_for(answer, timeout=timeout)


def squash(text: str) -> str:
    return "".join(text.split())


async def stop_turn(telegram: TelegramStandin, chat_id: int, *, user: int = OWNER, timeout: float = 30, **kwargs) -> int:
    """Send /stop while a turn runs and wait for the bot's 👌 on it (the stopped turn's own message is
    the one answer); returns the /stop message's id."""
    message_id = telegram.user_message(chat_id, user, "/stop", **kwargs)["message"]["message_id"]
    await telegram.wait_for(
        lambda: any(m.message_id == message_id and m.reactions for m in telegram.user_messages(chat_id)), timeout=timeout
    )
    reactions = next(m.reactions for m in telegram.user_messages(chat_id) if m.message_id == message_id)
    assert reactions == [{"type": "emoji", "emoji": "👌"}], reactions
    return message_id
