"""Small helpers for end-to-end tests: talk to the bot as a user and wait for its answer."""

from __future__ import annotations

from types import EllipsisType

from bot.telegram.reply import DESK_WAIT, RESUMED, SLOT_WAIT, WORKING
from tests.e2e.harness import OWNER
from tests.standins.telegram_api import BotMessage, TelegramStandin

PROGRESS = (WORKING, RESUMED, SLOT_WAIT, DESK_WAIT)


def is_progress(message: BotMessage) -> bool:
    """A running turn's progress message: it streams the answer's text before the answer itself is shown."""
    return (message.text or "").startswith(PROGRESS)


async def wait_answer(
    telegram: TelegramStandin, chat_id: int, contains: str, *, thread_id: int | EllipsisType | None = ..., timeout: float = 30.0
) -> BotMessage:
    """A visible bot message containing `contains` that is not a progress message."""

    def find() -> BotMessage | None:
        found = (m for m in telegram.bot_messages(chat_id, thread_id) if contains in m.visible_text and not is_progress(m))
        return next(found, None)

    try:
        return await telegram.wait_for(find, timeout)
    except TimeoutError as exc:
        raise TimeoutError(f"no answer containing {contains!r} in chat {chat_id}: {exc}") from None


async def ask(telegram: TelegramStandin, chat_id: int, text: str, expect: str, *, user: int = OWNER, timeout: float = 60, **kwargs) -> str:
    """Send `text` as a user and return the text of the first NEW bot message containing `expect`
    (a progress message does not count: it is not the answer yet)."""
    thread = kwargs.get("thread_id", ...)
    seen = {m.message_id for m in telegram.bot_messages(chat_id, thread, include_deleted=True)}
    telegram.user_message(chat_id, user, text, **kwargs)

    def answer() -> str | None:
        for message in telegram.bot_messages(chat_id, thread):
            # A progress message streams the answer's text before the answer itself is shown.
            if message.message_id not in seen and expect in (message.text or "") and not is_progress(message):
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
