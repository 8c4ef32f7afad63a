"""Translate Telegram updates into chat keys, speaker names and the intake's messages; refusals into one sentence."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import (
    CallbackQuery, Chat, ErrorEvent, Message, MessageOriginChannel, MessageOriginChat, MessageOriginHiddenUser,
    MessageOriginUser, User,
)

from bot.app import Core
from bot.features.texts import BUTTON_EXPIRED
from bot.sessions.inbox import Accepted
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession
from bot.turns.addressing import without_spans
from bot.turns.intake import Incoming, Quote

log = logging.getLogger(__name__)


def key_of(message: Message) -> ChatKey:
    # Topics (forums, and private chats in Threaded Mode, Bot API 9.3) are separate sessions; in plain
    # groups message_thread_id only marks a reply thread, and there is_topic_message is unset.
    thread = message.message_thread_id if message.is_topic_message else None
    return ChatKey(message.chat.id, thread)


def chat_title(chat: Chat) -> str:
    if chat.title:
        return chat.title
    return " ".join(part for part in (chat.first_name, chat.last_name) if part) or str(chat.id)


def user_name(user: User | None) -> str:
    if user is None:
        return ""
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


def user_id_of(message: Message) -> int | None:
    """Who sent it; None for a message sent on behalf of a channel or an anonymous admin."""
    return message.from_user.id if message.from_user else None


async def incoming_of(message: Message, bot: Bot, accepted: Accepted | None = None, *, text: str | None = None) -> Incoming:
    """The message as the core's intake takes it: its text without the bot's @mention, and what it replies
    to; or, given ``text`` (a file's caption, a command as typed), exactly that and no quote."""
    if text is not None:
        return _incoming(message, text, None, accepted)
    typed = message.text or ""
    me = (await bot.me()).username or ""
    mine = [
        (e.offset, e.length)
        for e in message.entities or []
        if e.type == "mention" and e.extract_from(typed).lower() == f"@{me}".lower()
    ]
    return _incoming(message, without_spans(typed, mine) if mine else typed.strip(), _quote_of(message, bot), accepted)


def _quote_of(message: Message, bot: Bot) -> Quote | None:
    replied = message.reply_to_message
    # In a topic every message "replies" to the topic's creation message: that is no reply.
    if replied is None or replied.forum_topic_created is not None:
        return None
    quoted = message.quote.text if message.quote else (replied.text or replied.caption or "")
    from_bot = replied.from_user is not None and replied.from_user.id == bot.id
    return Quote(quoted, replied.message_id, user_name(replied.from_user), from_bot) if quoted else None


def _origin_of(message: Message) -> str | None:
    """Who first wrote a forwarded message (None: not a forward)."""
    origin = message.forward_origin
    if origin is None:
        return None
    if isinstance(origin, MessageOriginUser):
        return user_name(origin.sender_user)
    if isinstance(origin, MessageOriginHiddenUser):
        return origin.sender_user_name
    if isinstance(origin, (MessageOriginChat, MessageOriginChannel)):
        chat = origin.sender_chat if isinstance(origin, MessageOriginChat) else origin.chat
        return chat_title(chat)
    return ""


def _incoming(message: Message, text: str, quote: Quote | None, accepted: Accepted | None) -> Incoming:
    return Incoming(
        key=key_of(message),
        message_id=message.message_id,
        user_id=user_id_of(message),
        user_name=user_name(message.from_user),
        chat_title=chat_title(message.chat),
        text=text,
        quote=quote,
        forwarded_from=_origin_of(message),
        accepted=accepted,
    )


def message_of(query: CallbackQuery) -> Message | None:
    """The message a button was on; None when Telegram no longer has it (too old to act on)."""
    return query.message if isinstance(query.message, Message) else None


async def button_message(query: CallbackQuery, expired: str = BUTTON_EXPIRED) -> Message | None:
    """The message a button was on, or None after telling the presser the button expired."""
    message = message_of(query)
    if message is None:
        await query.answer(expired)
    return message


async def button_chat(query: CallbackQuery, core: Core) -> tuple[Message, ClaudeSession] | None:
    """For a button answered in its chat: the message it was on and the chat's session, the press acknowledged."""
    if (message := await button_message(query)) is None:
        return None
    await query.answer()
    return message, await core.manager.for_chat(key_of(message))


async def say_refusal(event: ErrorEvent, core: Core) -> None:
    """The one place a refusal (bot.errors) becomes a sentence: a reply to the message, or the button's notice."""
    sentence = str(event.exception)
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(sentence)
    elif update.message is not None:
        await core.outboxes.send_text(key_of(update.message), sentence, reply_to=update.message.message_id)
    else:  # no update type the bot handles gets here; keep it visible in the log
        log.warning("refusal without a chat to say it in: %s", sentence)
