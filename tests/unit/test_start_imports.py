"""The bot polls before it needs Claude: claude-agent-sdk (with mcp, about half a second) is imported after."""

import subprocess
import sys


def test_starting_the_bot_does_not_import_claude_agent_sdk() -> None:
    probe = "import sys, bot.__main__, bot.app, handlers; print(sorted(m for m in ('claude_agent_sdk', 'mcp') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
