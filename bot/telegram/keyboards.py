"""Inline keyboards and their typed callback data (each under Telegram's 64-byte limit)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.sessions.records import ChangeRef

SHORT = 12  # a Diff button's tree ids are shortened to fit Telegram's 64-byte callback data


class StopCb(CallbackData, prefix="stop"):
    session: str  # session name; a button from an older session of the chat does nothing


class QueueCb(CallbackData, prefix="q"):
    action: str  # "cancel" or "now"
    turn: int


class ResumeCb(CallbackData, prefix="res"):
    session_id: str


class DiffCb(CallbackData, prefix="diff"):
    base: str  # the turn's snapshot trees, shortened: the button shows that turn's change, not the latest
    head: str


class WorktreeCb(CallbackData, prefix="wt"):
    action: str  # "go": move this chat there; "rm": remove it although work would be lost
    name: str  # branch name (at most 48 bytes, see bot.features.worktrees)


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


def diff_keyboard(change: ChangeRef, review: InlineKeyboardButton | None = None) -> InlineKeyboardMarkup:
    """Diff (the text diff in the chat), and beside it the review page's button when there is one."""
    builder = InlineKeyboardBuilder()
    builder.button(text="Diff", callback_data=DiffCb(base=change.base[:SHORT], head=change.head[:SHORT]))
    if review is not None:
        builder.add(review)
    return builder.as_markup()


def worktree_keyboard(branches: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for branch in branches:
        builder.button(text=f"🌿 {branch}", callback_data=WorktreeCb(action="go", name=branch))
    builder.adjust(1)
    return builder.as_markup()


def remove_worktree_keyboard(name: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=f"🗑 Remove {name} anyway", callback_data=WorktreeCb(action="rm", name=name))
    return builder.as_markup()
