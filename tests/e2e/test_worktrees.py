"""/worktree end to end: the real CLI runs in each chat's own worktree of one repository."""

from __future__ import annotations

import json

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.git_repo import git, make_repo
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

CHAT_A = OWNER
CHAT_B = -100400
GROUP = dict(chat_type="group", chat_title="Team")


def _write(path: object, content: str) -> str:
    return "#tool Write " + json.dumps({"file_path": str(path), "content": content})


async def test_each_chat_gets_its_own_worktree_and_the_cli_runs_there(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    repo = make_repo(bot.work_dir)
    feat_x, feat_y = repo / ".claude" / "worktrees" / "feat-x", repo / ".claude" / "worktrees" / "feat-y"
    await bot.start()
    await ask(telegram, CHAT_A, "before the move", "echo: before the move")

    created = await ask(telegram, CHAT_A, "/worktree feat-x", "worktree")
    assert created.startswith("🌿 Created worktree") and str(feat_x) in created and "feat-x" in created
    pwd = await ask(telegram, CHAT_A, "#pwd", "pwd:")
    assert pwd.strip().endswith(str(feat_x))
    told = next(r for r in claude_api.requests if r.is_main and any("#pwd" in t for t in r.user_texts))
    assert any(f"{feat_x} on git branch feat-x" in text for text in told.user_texts)
    history = await ask(telegram, CHAT_A, "#history", "history:")
    assert "before the move" in history  # the conversation continued

    await ask(telegram, CHAT_B, "/worktree feat-y", "Created worktree", **GROUP)
    pwd = await ask(telegram, CHAT_B, "#pwd", "pwd:", **GROUP)
    assert pwd.strip().endswith(str(feat_y))

    # Both chats at once, each in its own files.
    telegram.user_message(CHAT_A, OWNER, _write(feat_x / "a.txt", "from a\n"))
    telegram.user_message(CHAT_B, OWNER, _write(feat_y / "b.txt", "from b\n"), **GROUP)
    for chat in (CHAT_A, CHAT_B):
        await telegram.wait_for(lambda: any("📝 1 file changed, +1 −0" in m.text for m in telegram.bot_messages(chat)), timeout=60)
    assert (feat_x / "a.txt").exists() and not (feat_y / "a.txt").exists()
    assert (feat_y / "b.txt").exists() and not (feat_x / "b.txt").exists() and not (repo / "a.txt").exists()

    status = await ask(telegram, CHAT_A, "/status", "Status")
    assert "Branch: feat-x" in status
    sessions = await ask(telegram, CHAT_A, "/sessions", "sessions")
    assert "branch feat-x" in sessions and "branch feat-y" in sessions

    # Refusals: one sentence, nothing created.
    branches = git(repo, "branch", "--list")
    assert "does not accept" in await ask(telegram, CHAT_A, "/worktree bad..name", "bad..name")
    assert "already checked out" in await ask(telegram, CHAT_A, "/worktree main", "main")
    assert git(repo, "branch", "--list") == branches
    assert sorted(p.name for p in (repo / ".claude" / "worktrees").iterdir()) == ["feat-x", "feat-y"]

    # The list moves the chat back with a button.
    listing = await ask(telegram, CHAT_A, "/worktree", "Worktrees of")
    message = next(m for m in telegram.bot_messages(CHAT_A) if m.text == listing)
    assert [b["text"] for b in message.buttons()] == ["🌿 main", "🌿 feat-x", "🌿 feat-y"]
    telegram.press_button(CHAT_A, OWNER, message.message_id, message.buttons()[0]["callback_data"])
    await wait_answer(telegram, CHAT_A, "on branch main now")
    pwd = await ask(telegram, CHAT_A, "#pwd", "pwd:")
    assert pwd.strip().endswith(str(repo))

    # Removing a worktree with uncommitted work asks first and says what would be lost.
    asked = await ask(telegram, CHAT_A, "/worktree remove feat-x", "would lose")
    assert "uncommitted: a.txt" in asked and feat_x.exists()
    message = next(m for m in telegram.bot_messages(CHAT_A) if m.text == asked)
    telegram.press_button(CHAT_A, OWNER, message.message_id, message.buttons()[0]["callback_data"])
    await wait_answer(telegram, CHAT_A, "Removed worktree feat-x")
    assert not feat_x.exists() and "feat-x" not in git(repo, "branch", "--list")
    # Another chat's worktree is not removed from under it.
    assert "works in that worktree" in await ask(telegram, CHAT_A, "/worktree remove feat-y", "worktree")
    assert telegram.errors() == []


async def test_outside_a_repository_nothing_is_created(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    await bot.start()
    refused = await ask(telegram, CHAT_A, "/worktree feat-x", "not inside a git repository")
    assert refused.count(".") == 1
    assert not (bot.work_dir / ".claude").exists()


async def test_a_worktree_claude_points_outside_the_roots_is_refused_and_no_longer_offered(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    repo = make_repo(bot.work_dir)
    await bot.start()
    await ask(telegram, CHAT_A, "/worktree away", "Created worktree")
    listing = await ask(telegram, CHAT_A, "/worktree", "Worktrees of")
    old = next(m for m in telegram.bot_messages(CHAT_A) if m.text == listing)
    assert [b["text"] for b in old.buttons()] == ["🌿 main", "🌿 away"]
    telegram.press_button(CHAT_A, OWNER, old.message_id, old.buttons()[0]["callback_data"])
    await wait_answer(telegram, CHAT_A, "on branch main now")

    # Claude tells git the worktree lives in SESSION_DIR (writing only inside its repository).
    command = (
        f"printf '%s\\n' '{bot.session_dir}/.git' > .git/worktrees/away/gitdir"
        f" && git worktree list --porcelain | grep -c '^worktree {bot.session_dir}$'"
    )
    ran = await ask(telegram, CHAT_A, "#tool Bash " + json.dumps({"command": command}), "tool result")
    assert "tool result: 1" in ran  # git itself now lists the worktree outside the roots

    telegram.press_button(CHAT_A, OWNER, old.message_id, old.buttons()[1]["callback_data"])
    refused = (await wait_answer(telegram, CHAT_A, "outside the allowed directories")).text
    assert refused == "The worktree of branch away lies outside the allowed directories; this chat stays where it is."
    assert (await ask(telegram, CHAT_A, "#pwd", "pwd:")).strip().endswith(str(repo))
    listing = await ask(telegram, CHAT_A, "/worktree", "Worktrees of")
    now = next(m for m in telegram.bot_messages(CHAT_A) if m.text == listing)
    assert [b["text"] for b in now.buttons()] == ["🌿 main"]
    assert f"{bot.session_dir} (outside the allowed directories)" in listing
    assert telegram.errors() == []
