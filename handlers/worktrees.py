"""/worktree [NAME | remove NAME] and its buttons (bot.features.worktrees)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.app import Core
from bot.features.worktrees import Answer
from bot.telegram.keyboards import WorktreeCb, remove_worktree_keyboard, worktree_keyboard
from handlers.context import button_chat, key_of

router = Router(name="worktrees")


def _keyboard(answer: Answer) -> InlineKeyboardMarkup | None:
    if answer.confirm_remove:
        return remove_worktree_keyboard(answer.confirm_remove)
    return worktree_keyboard(answer.choices) if answer.choices else None


@router.message(Command("worktree"))
async def worktree(message: Message, command: CommandObject, core: Core) -> None:
    key = key_of(message)
    session = await core.manager.for_chat(key)
    words = (command.args or "").split()
    if not words:
        answer = await core.worktrees.listing(session)
    elif words[0] == "remove":
        answer = await core.worktrees.remove(session, " ".join(words[1:]))
    elif len(words) == 1:
        answer = await core.worktrees.create_or_reuse(session, words[0])
    else:
        answer = Answer("Use /worktree NAME, /worktree alone to list them, or /worktree remove NAME.", [])
    await core.outboxes.send_text(key, answer.html, parse_mode="HTML", reply_to=message.message_id, reply_markup=_keyboard(answer))


@router.callback_query(WorktreeCb.filter())
async def worktree_button(query: CallbackQuery, callback_data: WorktreeCb, core: Core) -> None:
    if (pressed := await button_chat(query, core)) is None:
        return
    message, session = pressed
    key = key_of(message)
    if callback_data.action == "rm":
        answer = await core.worktrees.remove(session, callback_data.name, confirmed=True)
        await core.outboxes.send_text(key, answer.html, parse_mode="HTML", reply_markup=_keyboard(answer))
    else:
        await core.outboxes.send_text(key, await core.worktrees.go(session, callback_data.name), parse_mode="HTML")
