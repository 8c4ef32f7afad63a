"""What changed: a turn that edits files in a git work tree ends with the changed-files line and a Diff button."""

from __future__ import annotations

import json

import pytest

from tests.e2e.chat import ask
from tests.e2e.git_repo import git, make_repo
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT = OWNER


def _tool(name: str, args: dict) -> str:
    return f"#tool {name} {json.dumps(args)}"


async def test_a_turn_that_edits_files_ends_with_the_line_and_the_diff_button_sends_it(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    repo = make_repo(bot.work_dir, {"a.txt": "one\ntwo\nthree\n"})
    (repo / "a.txt").write_text("one\nTWO\nthree\n")  # the user's own uncommitted edit is not the turn's
    git(repo, "add", "a.txt")
    index_before = (repo / ".git" / "index").read_bytes()
    await bot.start()

    quiet = await ask(telegram, CHAT, "nothing to change", "echo: nothing to change")
    assert "📝" not in quiet

    new_file = repo / "notes" / "new.txt"
    answer = await ask(telegram, CHAT, _tool("Write", {"file_path": str(new_file), "content": "alpha\nbeta\n"}), "tool result")
    assert answer.rstrip().endswith("📝 1 file changed, +2 −0")
    message = next(m for m in telegram.bot_messages(CHAT) if m.text == answer)
    (button,) = message.buttons()
    assert button["text"] == "Diff"
    assert (repo / ".git" / "index").read_bytes() == index_before  # the user's index is untouched
    assert git(repo, "stash", "list") == ""

    telegram.press_button(CHAT, OWNER, message.message_id, button["callback_data"])
    shown = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if "notes/new.txt" in m.text and "+alpha" in m.text), None)
    )
    assert "a.txt" not in shown.text and "TWO" not in shown.text

    # A long change comes as a document; /diff shows the latest change.
    big = "".join(f"line {n:05d} of a long file\n" for n in range(400))
    answer = await ask(telegram, CHAT, _tool("Write", {"file_path": str(repo / "big.txt"), "content": big}), "tool result")
    assert answer.rstrip().endswith("📝 1 file changed, +400 −0")
    await ask(telegram, CHAT, "/diff", "1 file changed, +400")
    document = await telegram.wait_for(
        lambda: next((m for m in telegram.bot_messages(CHAT) if m.document and m.document[0] == "changes.diff"), None)
    )
    assert "+line 00399 of a long file" in document.document[1].decode()
    assert "new.txt" not in document.document[1].decode()
    assert telegram.errors() == []
