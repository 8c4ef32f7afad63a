"""Translate Telegram updates into chat keys, speaker names and turns; refusals into one sentence."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import CallbackQuery, Chat, ErrorEvent, Message, User

from bot.app import Core
from bot.features.texts import BUTTON_EXPIRED
from bot.sessions.inbox import Accepted
from bot.sessions.keys import ChatKey
from bot.sessions.session import ClaudeSession, Turn
from bot.turns.addressing import with_quote, without_spans

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


def turn_from(message: Message, prompt: str, accepted: Accepted | None = None) -> Turn:
    """A Claude turn for `message`, answered in its chat (and topic); `accepted`: its inbox entry."""
    return Turn(
        key=key_of(message),
        prompt=accepted.prompt if accepted is not None and accepted.prompt is not None else prompt,  # edited meanwhile
        reply_to=message.message_id,
        user_id=user_id_of(message),
        user_name=user_name(message.from_user),
        chat_title=chat_title(message.chat),
        queued_message_id=accepted.notice_id if accepted else None,
        inbox=[accepted] if accepted else [],
    )


async def prompt_of(message: Message, bot: Bot) -> str:
    """The message's text as Claude should read it: without the bot's @mention, after a quote of what it replies to."""
    text = message.text or ""
    me = (await bot.me()).username or ""
    mine = [
        (e.offset, e.length)
        for e in message.entities or []
        if e.type == "mention" and e.extract_from(text).lower() == f"@{me}".lower()
    ]
    prompt = without_spans(text, mine) if mine else text.strip()
    replied = message.reply_to_message
    # In a topic every message "replies" to the topic's creation message: that is no reply.
    if prompt and replied is not None and replied.forum_topic_created is None:
        quoted = message.quote.text if message.quote else (replied.text or replied.caption or "")
        if quoted:
            author = "your earlier message" if replied.from_user and replied.from_user.id == bot.id else user_name(replied.from_user)
            prompt = with_quote(prompt, quoted, author or "an earlier message")
    return prompt


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
