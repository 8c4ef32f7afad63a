"""Group upgrades (issue 10): a group that becomes a supergroup gets a new chat id; its session follows."""

from __future__ import annotations

import json

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

GROUP = -4001
SUPER = -1004001
OLD = dict(chat_type="group", chat_title="Team")
NEW = dict(chat_type="supergroup", chat_title="Team")


async def upgrade_while_answering(
    telegram: TelegramStandin, claude_api: MessagesStandin, fruit: str, slow: str, *, service_messages: bool = True
) -> None:
    """The group's conversation remembers ``fruit``; it is upgraded while Claude answers ``slow``."""
    await ask(telegram, GROUP, f"remember {fruit}", f"echo: remember {fruit}", **OLD)
    telegram.user_message(GROUP, OWNER, slow, **OLD)
    words = slow.split(maxsplit=2)[-1]
    await claude_api.wait_for(lambda: any(words in t for r in claude_api.main_requests() for t in r.user_texts))
    telegram.upgrade_group(GROUP, SUPER, OWNER, service_messages=service_messages)


async def test_an_upgraded_group_keeps_its_conversation_and_running_turn(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await upgrade_while_answering(telegram, claude_api, "mango", "#slow 4 slow answer")
    # The running turn's answer, sent to the old id, lands in the supergroup.
    await wait_answer(telegram, SUPER, "echo: #slow 4 slow answer", timeout=60)
    history = await ask(telegram, SUPER, "#history", "history:", **NEW)
    assert "remember mango" in history
    await telegram.wait_for(lambda: bot.session_files() == [f"{SUPER}.json"], timeout=5)
    record = json.loads((bot.session_dir / f"{SUPER}.json").read_text())
    assert record["chat_id"] == SUPER and record["name"] == str(SUPER)
    assert [str(e) for e in telegram.errors() if "upgraded to a supergroup" not in (e.description or "")] == []


async def test_an_upgrade_while_the_bot_was_down_loses_nothing(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    bot.extra_env["SESSION_CHAT_GROUPS"] = json.dumps({"ops": [str(GROUP), "-4999"]})
    await bot.start()
    await ask(telegram, -4002, "remember papaya", "echo: remember papaya", chat_type="group", chat_title="Other")
    await ask(telegram, GROUP, "grouped note", "grouped note", **OLD)
    assert await bot.stop() == 0
    telegram.upgrade_group(-4002, -1004002, OWNER)
    telegram.upgrade_group(GROUP, SUPER, OWNER)
    await bot.start()
    history = await ask(telegram, -1004002, "#history", "history:", chat_type="supergroup", chat_title="Other")
    assert "remember papaya" in history
    await telegram.wait_for(lambda: "SESSION_CHAT_GROUPS 'ops' still names -4001" in bot.log_tail(400), timeout=10)
    assert f"{-1004002}.json" in bot.session_files() and f"{-4002}.json" not in bot.session_files()


async def test_a_send_refused_for_the_old_id_moves_the_session(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await upgrade_while_answering(telegram, claude_api, "guava", "#slow 3 late answer", service_messages=False)  # unheard of
    await wait_answer(telegram, SUPER, "echo: #slow 3 late answer", timeout=60)
    assert any(e.params.get("chat_id") == GROUP and e.error_code == 400 for e in telegram.errors())
    history = await ask(telegram, SUPER, "#history", "history:", **NEW)
    assert "remember guava" in history
