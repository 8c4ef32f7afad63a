"""The review Mini App's way in from a group: its t.me link opens the private chat with `/start rv_…`,
answered with the web_app button for that group's page (Telegram allows web_app buttons only in private chats)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from bot.app import Core
from bot.util.text import esc
from bot.webapp.links import PENDING, PREFIX, from_payload
from handlers.context import key_of

router = Router(name="review")

UNKNOWN = "That review link is not one this bot made; open the review from the group's button again."


@router.message(CommandStart(deep_link=True, magic=F.args.startswith(PREFIX)), F.chat.type == "private")
async def open_from_group(message: Message, command: CommandObject, core: Core) -> None:
    key = key_of(message)
    if core.review_buttons is not None and command.args == PENDING:
        await core.outboxes.send_text(
            key, "Everything waiting for your answer:", reply_to=message.message_id, reply_markup=core.review_buttons.pending_opener(),
        )
        return
    request = from_payload(command.args or "")
    if core.reviews is None or core.review_buttons is None or request is None or message.from_user is None:
        await core.outboxes.send_text(key, UNKNOWN, reply_to=message.message_id)
        return
    title, change = await core.reviews.opening(message.from_user.id, request)
    await core.outboxes.send_text(
        key, f"Review the changes of <b>{esc(title)}</b>:", parse_mode="HTML", reply_to=message.message_id,
        reply_markup=core.review_buttons.opener(request.key, change),
    )
