"""Mini App buttons in the Telegram stand-in, driven by a real aiogram Bot: where Telegram takes them, and
the URL a user opens by pressing one."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LoginUrl,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from tests.standins.telegram_api import TelegramStandin

CHAT = 1001  # the private chat of the fixture
GROUP = -500
SUPERGROUP = -1001234
CHANNEL = -1009999
APP = "https://127.0.0.1:8443/app?chat=1"


def _web_app(url: str = APP, text: str = "Open") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))]])


async def test_a_web_app_button_in_a_private_chat_opens_its_url(bot: Bot, tg: TelegramStandin) -> None:
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text="Diff", web_app=WebAppInfo(url=APP))],
        [InlineKeyboardButton(text="Stop", callback_data="stop")],
    ])
    sent = await bot.send_message(CHAT, "3 files changed", reply_markup=keyboard)
    assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].web_app.url == APP
    assert tg.web_app_url(CHAT, sent.message_id, "Diff") == APP
    assert tg.web_app_url(CHAT, sent.message_id) == APP  # its only web_app button
    assert tg.web_app_opens == [(CHAT, sent.message_id, APP), (CHAT, sent.message_id, APP)]
    with pytest.raises(ValueError, match="no single web_app button 'Stop'"):
        tg.web_app_url(CHAT, sent.message_id, "Stop")  # a callback button opens nothing
    await bot.delete_message(CHAT, sent.message_id)
    with pytest.raises(ValueError, match="no visible bot message"):
        tg.web_app_url(CHAT, sent.message_id)


@pytest.mark.parametrize(("chat", "kind"), [(GROUP, "group"), (SUPERGROUP, "supergroup"), (CHANNEL, "channel")])
async def test_web_app_buttons_are_refused_outside_private_chats(
    bot: Bot, tg: TelegramStandin, chat: int, kind: str,
) -> None:
    tg.add_chat(chat, chat_type=kind, title="Team")
    with pytest.raises(TelegramBadRequest, match=r"^Telegram server says - Bad Request: BUTTON_TYPE_INVALID$"):
        await bot.send_message(chat, "diff", reply_markup=_web_app())
    sent = await bot.send_message(chat, "diff", reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text="Open", url=APP)],  # what groups allow: a url (or login_url) button
        [InlineKeyboardButton(text="Log in", login_url=LoginUrl(url=APP))],
    ]))
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.edit_message_reply_markup(chat_id=chat, message_id=sent.message_id, reply_markup=_web_app())
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.edit_message_text("diff!", chat_id=chat, message_id=sent.message_id, reply_markup=_web_app())


async def test_web_app_and_login_urls_must_be_https(bot: Bot, tg: TelegramStandin) -> None:
    plain = "http://127.0.0.1:8080/app"
    with pytest.raises(TelegramBadRequest, match=(
        r"Bad Request: inline keyboard button Web App URL 'http://127\.0\.0\.1:8080/app' is invalid: "
        r"Only HTTPS links are allowed$"
    )):
        await bot.send_message(CHAT, "x", reply_markup=_web_app(plain))
    with pytest.raises(TelegramBadRequest, match="inline keyboard button Web App URL 'not a url' is invalid: Wrong HTTP URL"):
        await bot.send_message(CHAT, "x", reply_markup=_web_app("not a url"))
    with pytest.raises(TelegramBadRequest, match=(
        "inline keyboard button login URL 'http://127.0.0.1:8080/app' is invalid: Only HTTPS links are allowed"
    )):
        await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Log in", login_url=LoginUrl(url=plain))]]))
    # The link is checked before Telegram's chat rule: an http web_app button in a group fails on its URL.
    tg.add_chat(GROUP, chat_type="group", title="Team")
    with pytest.raises(TelegramBadRequest, match="Only HTTPS links are allowed"):
        await bot.send_message(GROUP, "x", reply_markup=_web_app(plain))
    # A url button keeps its own rule: http is fine there.
    await bot.send_message(CHAT, "x", reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", url=plain)]]))
    assert tg.errors()[-1].description == (
        "Bad Request: inline keyboard button Web App URL 'http://127.0.0.1:8080/app' is invalid: "
        "Only HTTPS links are allowed"
    )


async def test_the_menu_button_opens_a_web_app_over_https_only(bot: Bot, tg: TelegramStandin) -> None:
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    await bot.set_chat_menu_button(chat_id=CHAT, menu_button=MenuButtonWebApp(text="Review", web_app=WebAppInfo(url=APP)))
    menu = await bot.get_chat_menu_button(chat_id=CHAT)
    assert isinstance(menu, MenuButtonWebApp) and (menu.text, menu.web_app.url) == ("Review", APP)
    assert tg.menu_button(CHAT) == {"type": "web_app", "text": "Review", "web_app": {"url": APP}}
    assert tg.menu_web_app_url(CHAT) == APP
    assert tg.web_app_opens == [(CHAT, 0, APP)]
    with pytest.raises(TelegramBadRequest, match=(
        "Bad Request: menu button Web App URL 'http://127.0.0.1/app' is invalid: Only HTTPS links are allowed"
    )):
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text="Review", web_app=WebAppInfo(url="http://127.0.0.1/app")))
    with pytest.raises(TelegramBadRequest, match="Bad Request: menu button text must be non-empty"):
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text="", web_app=WebAppInfo(url=APP)))
    tg.add_chat(GROUP, chat_type="group", title="Team")
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid chat_id specified"):
        await bot.set_chat_menu_button(chat_id=GROUP, menu_button=MenuButtonDefault())
    await bot.set_chat_menu_button(chat_id=CHAT, menu_button=MenuButtonDefault())
    with pytest.raises(ValueError, match="no web_app menu button"):
        tg.menu_web_app_url(CHAT)


async def test_a_reply_keyboards_web_app_button_is_for_private_chats_and_https(bot: Bot, tg: TelegramStandin) -> None:
    def keyboard(url: str) -> ReplyKeyboardMarkup:
        return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Review", web_app=WebAppInfo(url=url))]])

    await bot.send_message(CHAT, "x", reply_markup=keyboard(APP))
    with pytest.raises(TelegramBadRequest, match=(
        "Bad Request: keyboard button Web App URL 'http://127.0.0.1/app' is invalid: Only HTTPS links are allowed"
    )):
        await bot.send_message(CHAT, "x", reply_markup=keyboard("http://127.0.0.1/app"))
    tg.add_chat(SUPERGROUP, chat_type="supergroup", title="Team")
    with pytest.raises(TelegramBadRequest, match="Bad Request: web App buttons can be used in private chats only"):
        await bot.send_message(SUPERGROUP, "x", reply_markup=keyboard(APP))
