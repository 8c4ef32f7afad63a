"""Shared sessions end to end: pairing, unlinking, CLI links, chat groups, notify."""

from __future__ import annotations

import asyncio
import json
import re
import sys

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.harness import FRIEND, OWNER, ROOT, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

DM = OWNER
GROUP = -100300
TOPIC = dict(chat_type="supergroup", is_forum=True, chat_title="Project", thread_id=4)
FORUM = -100400


async def code_from(telegram: TelegramStandin, chat_id: int, **kwargs: object) -> str:
    text = await ask(telegram, chat_id, "/link", "/link ", **kwargs)  # type: ignore[arg-type]
    match = re.search(r"/link ([A-Z0-9]{8})", text)
    assert match, text
    return match.group(1)


async def test_pairing_shares_the_first_chats_conversation_and_unlink_restores(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    await ask(telegram, DM, "dm secret walnut", "echo: dm secret walnut")
    await ask(telegram, GROUP, "group own pecan", "echo: group own pecan", chat_type="group", chat_title="Team")
    code = await code_from(telegram, DM)
    # Another user cannot use the owner's code, and a wrong code fails.
    await ask(telegram, GROUP, f"/link {code}", "", user=FRIEND, chat_type="group", chat_title="Team")
    assert "Linked" not in telegram.bot_messages(GROUP)[-1].text
    wrong = await ask(telegram, GROUP, "/link ZZZZ2222", "", chat_type="group", chat_title="Team")
    assert "Linked" not in wrong
    joined = await ask(telegram, GROUP, f"/link {code}", "Linked", chat_type="group", chat_title="Team")
    assert str(DM) in joined
    await wait_answer(telegram, DM, "joined this chat's conversation")
    # The group now answers from the DM's conversation, and Claude knows who speaks from where.
    shared = await ask(telegram, GROUP, "#history", "history:", chat_type="group", chat_title="Team")
    assert "walnut" in shared and "pecan" not in shared
    assert '<speaker chat="Team"' in claude_api.main_requests()[-1].last_user_text
    # The code was single use.
    reused = await ask(telegram, -100301, f"/link {code}", "", chat_type="group", chat_title="Other")
    assert "Linked" not in reused
    status = await ask(telegram, GROUP, "/status", "Status", chat_type="group", chat_title="Team")
    assert "Shared: link" in status and str(DM) in status
    links = await ask(telegram, DM, "/links", "Shared: link")
    assert f"Team ({GROUP})" in links  # the chat's title, not only its id
    await ask(telegram, GROUP, "/unlink", "Unlinked", chat_type="group", chat_title="Team")
    left = await wait_answer(telegram, DM, "left this chat's shared conversation")  # the DM is told
    assert f"Team ({GROUP})" in left.text and "the link ended" in left.text
    own = await ask(telegram, GROUP, "#history", "history:", chat_type="group", chat_title="Team")
    assert "pecan" in own and "walnut" not in own
    # The DM keeps the shared conversation.
    dm = await ask(telegram, DM, "#history", "history:")
    assert "walnut" in dm


async def test_expired_code_fails(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["LINK_CODE_TTL_SECONDS"] = "1"
    await bot.start()
    code = await code_from(telegram, DM)
    await asyncio.sleep(1.2)  # the code's lifetime, not a wait for the bot
    expired = await ask(telegram, GROUP, f"/link {code}", "expired", chat_type="group", chat_title="Team")
    assert "Linked" not in expired


async def test_linked_chats_take_turns_and_answer_where_asked(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    code = await code_from(telegram, DM)
    await ask(telegram, FORUM, f"/link {code}", "Linked", **TOPIC)
    telegram.user_message(DM, OWNER, "#slow 2 from the dm")
    await claude_api.wait_for(lambda: any("from the dm" in r.last_user_text for r in claude_api.main_requests()))
    telegram.user_message(FORUM, OWNER, "from the topic", **TOPIC)
    dm_answer = await wait_answer(telegram, DM, "echo:", timeout=60)
    topic_answer = await wait_answer(telegram, FORUM, "echo:", thread_id=4, timeout=60)
    assert "from the dm" in dm_answer.text and "from the topic" not in dm_answer.text
    assert "from the topic" in topic_answer.text
    first, second = [r for r in claude_api.main_requests() if "from the" in r.last_user_text][:2]
    assert first.done_at <= second.at  # one after the other, never at once


async def test_configured_group_shares_and_ungrouped_chat_does_not(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["SESSION_CHAT_GROUPS"] = json.dumps({"team": [str(DM), f"{FORUM}_4"]})
    await bot.start()
    await ask(telegram, DM, "grouped almond", "grouped almond")
    grouped = await ask(telegram, FORUM, "#history", "history:", **TOPIC)
    assert "almond" in grouped
    alone = await ask(telegram, GROUP, "#history", "history:", chat_type="group", chat_title="Team")
    assert "almond" not in alone
    # /cd in one member moves the shared session for all.
    (bot.work_dir / "shared-dir").mkdir()
    await ask(telegram, DM, "/cd shared-dir", "Now working in")
    pwd = await ask(telegram, FORUM, "#pwd", "pwd:", **TOPIC)
    assert pwd.strip().endswith(str(bot.work_dir / "shared-dir"))
    await telegram.wait_for(lambda: "group-team.json" in bot.session_files(), timeout=5)


async def run_cli(bot: BotProcess, *args: str) -> tuple[int, str, str]:
    env = {**bot.env(), "PYTHONPATH": str(ROOT)}  # this tree's bot, not whichever the venv has installed
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=bot.tmp, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_link_takes_effect_on_the_next_message_and_notify_is_mirrored(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    await ask(telegram, DM, "cli first hazelnut", "echo: cli first hazelnut")
    await ask(telegram, GROUP, "before link", "echo: before link", chat_type="group", chat_title="Team")
    code, out, err = await run_cli(bot, "identity", "link", "--chat", str(DM), "--chat", str(GROUP), "--name", "ops")
    assert code == 0, err
    link_id = out.strip()
    code, out, _ = await run_cli(bot, "identity", "list", "--json")
    assert json.loads(out)[0]["id"] == link_id
    shared = await ask(telegram, GROUP, "#history", "history:", chat_type="group", chat_title="Team")
    assert "hazelnut" in shared
    # notify: delivered to the chat, and the next turn sees it as the assistant's words.
    code, out, err = await run_cli(bot, "notify", "--chat", str(GROUP), "--source", "cron", "nightly build is green")
    assert code == 0, err
    await wait_answer(telegram, GROUP, "nightly build is green")
    await ask(telegram, DM, "what happened overnight", "echo:")
    assert "nightly build is green" in claude_api.main_requests()[-1].last_user_text
    code, _, err = await run_cli(bot, "identity", "unlink", link_id)
    assert code == 0, err
    code, _, err = await run_cli(bot, "identity", "link", "--chat", str(DM))
    assert code == 2 and err.count("\n") == 1


async def test_session_context_tool_called_by_the_real_cli_returns_the_speaking_chat(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    bot.extra_env["SESSION_CHAT_GROUPS"] = json.dumps({"team": [str(DM), f"{FORUM}_4"]})
    await bot.start()
    await ask(telegram, DM, "warm up", "warm up")
    telegram.user_message(FORUM, FRIEND, "#tool mcp__bot__session_context {}", first_name="Ada", username="ada", **TOPIC)
    answer = await wait_answer(telegram, FORUM, "tool result:", thread_id=4, timeout=60)
    context = json.loads(answer.text.split("tool result:", 1)[1].strip())
    assert context["platform"] == "telegram"
    assert context["chat_id"] == FORUM and context["topic_id"] == 4 and context["chat_title"] == "Project"
    assert context["user_id"] == FRIEND and "Ada" in context["user_name"]
    assert context["unified_session"] == "group-team"
    assert context["shared_with"] == [str(DM), f"{FORUM}_4"]
    assert context["session_id"]
