"""Inline keyboards for driving Claude: approvals, questions, plans, permission modes and models."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.claude.permissions import MODEL_CHOICES, PERMISSION_MODES
from bot.util.text import clip

BUTTON_TEXT = 40


class ApprovalCb(CallbackData, prefix="ap"):
    token: str  # random per request: a button from an earlier run of the bot never matches
    action: str  # once, always, deny, approve, keep, pick, done, dismiss
    choice: int = -1  # the option of a question


class ModeCb(CallbackData, prefix="mode"):
    value: str


class ModelCb(CallbackData, prefix="model"):
    value: str  # a model alias, or "default"


def tool_keyboard(token: str, remember_label: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="✅ Allow once", callback_data=ApprovalCb(token=token, action="once"))
    if remember_label:
        builder.button(text=clip(remember_label, BUTTON_TEXT), callback_data=ApprovalCb(token=token, action="always"))
    builder.button(text="❌ Deny", callback_data=ApprovalCb(token=token, action="deny"))
    builder.adjust(1)
    return builder.as_markup()


def plan_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="✅ Approve", callback_data=ApprovalCb(token=token, action="approve"))
    builder.button(text="📝 Keep planning", callback_data=ApprovalCb(token=token, action="keep"))
    return builder.as_markup()


def question_keyboard(token: str, labels: list[str], *, multi: bool, picked: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, label in enumerate(labels):
        mark = "✅ " if label in picked else ""
        builder.button(text=clip(mark + label, BUTTON_TEXT), callback_data=ApprovalCb(token=token, action="pick", choice=index))
    if multi:
        builder.button(text="☑️ Done", callback_data=ApprovalCb(token=token, action="done"))
    builder.button(text="✖️ Dismiss", callback_data=ApprovalCb(token=token, action="dismiss"))
    builder.adjust(1)
    return builder.as_markup()


def mode_keyboard(current: str, modes: list[str] | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for mode in PERMISSION_MODES if modes is None else modes:
        builder.button(text=("● " if mode == current else "") + mode, callback_data=ModeCb(value=mode))
    builder.adjust(2)
    return builder.as_markup()


def model_keyboard(current: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for model in [*MODEL_CHOICES, "default"]:
        chosen = model == current or (model == "default" and current is None)
        builder.button(text=("● " if chosen else "") + model, callback_data=ModelCb(value=model))
    builder.adjust(4)
    return builder.as_markup()
