"""`notify` over the Bot API: send a text to a chat as plain messages and mirror it for Claude's next turn.

The queue and its rules (parts, what counts as delivered, the record) live in bot/turns/mirror.py;
this module only sends.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.config import operator_config_files
from bot.sessions.keys import ChatKey
from bot.telegram import client as telegram_client
from bot.turns.mirror import DeliveryFailed, MirrorSettings, deliver_and_record, parts_to_send


def _make_bot(settings: MirrorSettings) -> Bot:
    return telegram_client.make_bot(settings.telegram_bot_token, settings.telegram_api_url)


async def mirror_to_session(
    key: ChatKey, text: str, source: str, *, settings: MirrorSettings | None = None, bot: Bot | None = None
) -> int:
    """Send `text` to the chat as plain text and record it for the chat's next Claude turn.

    Returns the id of the (first) message sent. Delivery errors propagate (aiogram's
    TelegramAPIError); a failure to record is only logged, since the chat already has the text.
    """
    parts = parts_to_send(text)
    settings = settings or MirrorSettings(_env_file=operator_config_files())  # type: ignore[call-arg]
    client = bot or _make_bot(settings)

    async def send(key: ChatKey, part: str) -> int:
        message = await client.send_message(key.chat_id, part, message_thread_id=key.thread_id, parse_mode=None)
        return message.message_id

    try:
        return await deliver_and_record(settings.session_dir, key, parts, source, send)
    finally:
        if bot is None:
            await client.session.close()


async def notify(settings: MirrorSettings, key: ChatKey, text: str, source: str) -> int:
    """The operator's `notify` (bot/cli.py gets it from bot/__main__.py): DeliveryFailed when Telegram refuses."""
    try:
        return await mirror_to_session(key, text, source, settings=settings)
    except TelegramAPIError as exc:
        raise DeliveryFailed(f"delivery to chat {key} failed: {exc.message}") from None
