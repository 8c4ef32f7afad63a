"""Translate Telegram updates into chat keys and speaker names."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Chat, Message, User

from bot.sessions.keys import ChatKey
from bot.sessions.session import Turn


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


def turn_from(message: Message, prompt: str) -> Turn:
    """A Claude turn for `message`, answered in its chat (and topic)."""
    return Turn(
        key=key_of(message),
        prompt=prompt,
        reply_to=message.message_id,
        user_id=message.from_user.id if message.from_user else None,
        user_name=user_name(message.from_user),
        chat_title=chat_title(message.chat),
    )


BUTTON_EXPIRED = "This button has expired."


def message_of(query: CallbackQuery) -> Message | None:
    """The message a button was on; None when Telegram no longer has it (too old to act on)."""
    return query.message if isinstance(query.message, Message) else None
