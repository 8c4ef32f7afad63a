"""Git the bot runs in a workspace runs none of the repository's code (issue 18): Claude plants an fsmonitor,
a hook and a clean filter with the real CLI; the bot's diff snapshots around its turns spring none of them,
while plain git in the same repository springs each one."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.chat import ask
from tests.e2e.git_repo import make_repo
from tests.e2e.harness import OWNER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

# Each trap notes its own name and who ran it; as a filter it passes its input on.
PLANT = (
    "printf '#!/bin/sh\\necho \"$(basename $0) $(tr \"\\\\0\" \" \" < /proc/$PPID/cmdline)\" >> \"$PWD/.git/sprung\"\\ncat\\n' > .git/trap"
    " && chmod +x .git/trap && mkdir -p .git/traps && cp .git/trap .git/traps/post-index-change"
    " && cp .git/trap .git/fsmonitor && cp .git/trap .git/clean"
    " && git config core.fsmonitor \"$PWD/.git/fsmonitor\" && git config core.hooksPath .git/traps"
    " && git config filter.x.clean \"$PWD/.git/clean\" && echo '* filter=x' > .gitattributes"
    " && git config --get-regexp 'fsmonitor|hookspath|filter' | wc -l"
)


async def test_traps_claude_plants_in_the_repository_never_run_under_the_bots_git(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    repo = make_repo(bot.work_dir, {"a.txt": "one\n"})
    await bot.start()
    planted = await ask(telegram, OWNER, "#tool Bash " + json.dumps({"command": PLANT}), "tool result")
    assert "tool result: 3" in planted  # Claude's command ran: three settings in the repository's config
    assert planted.rstrip().endswith("📝 1 file changed, +1 −0")  # the after-turn snapshot saw .gitattributes
    write = {"file_path": str(repo / "b.txt"), "content": "two\n"}
    answer = await ask(telegram, OWNER, "#tool Write " + json.dumps(write), "tool result")
    assert answer.rstrip().endswith("📝 1 file changed, +1 −0")  # both snapshots of this turn were taken
    sprung = repo / ".git" / "sprung"
    assert not sprung.exists(), sprung.read_text()

    # plain git (as the bot user would run it, past git's ownership check): every trap is live
    subprocess.run(["git", "-c", "safe.directory=*", "add", "-A"], cwd=repo, check=True, capture_output=True)
    names = {line.split()[0] for line in sprung.read_text().splitlines()}
    assert names == {"fsmonitor", "clean", "post-index-change"}
    assert telegram.errors() == []
