"""Inline keyboards and their typed callback data (each under Telegram's 64-byte limit)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder


class StopCb(CallbackData, prefix="stop"):
    session: str  # session name; a button from an older session of the chat does nothing


class QueueCb(CallbackData, prefix="q"):
    action: str  # "cancel" or "now"
    turn: int


class ResumeCb(CallbackData, prefix="res"):
    session_id: str


class CleanupCb(CallbackData, prefix="cleanup"):
    confirm: bool = True


class ResendCb(CallbackData, prefix="resend"):
    pass  # the edited text is the message the button's message replies to


def stop_keyboard(session_name: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="⏹ Stop", callback_data=StopCb(session=session_name))
    return builder.as_markup()


def queued_keyboard(turn_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="✖️ Cancel", callback_data=QueueCb(action="cancel", turn=turn_id))
    builder.button(text="⏩ Run now", callback_data=QueueCb(action="now", turn=turn_id))
    return builder.as_markup()


def resume_keyboard(choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button a row: (session id, label)."""
    builder = InlineKeyboardBuilder()
    for session_id, label in choices:
        builder.button(text=label, callback_data=ResumeCb(session_id=session_id))
    builder.adjust(1)
    return builder.as_markup()


def resend_keyboard(label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=label, callback_data=ResendCb())
    return builder.as_markup()


def cleanup_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="🧹 Clean up idle sessions", callback_data=CleanupCb())
    return builder.as_markup()
