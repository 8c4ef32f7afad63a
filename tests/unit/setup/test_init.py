from pathlib import Path

import pytest

from bot.setup.init import Telegram, main
from bot.setup.terminal import Terminal
from bot.util.botapi import BotIdentity, TokenRefused

BOT = BotIdentity(username="my_bot", can_read_all_group_messages=False, has_topics_enabled=False, name="My Bot")


class Said(Terminal):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)

    def ask(self, question: str, default: str = "") -> str:
        raise AssertionError(f"--yes asked: {question}")

    secret = ask


def _telegram(tokens: list[str]) -> Telegram:
    async def probe(token: str, url: str) -> BotIdentity:
        tokens.append(token)
        if token.startswith("9:"):
            raise TokenRefused("Telegram refuses the token (Unauthorized)")
        return BOT

    async def first_message(*args: object) -> None:
        raise AssertionError("no message was needed")

    return Telegram(probe, first_message)


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.env"
    monkeypatch.setenv("TG_CLAUDE_CODE_CONFIG", str(path))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "home" / ".claude"))
    return path


def test_run_again_it_edits_the_file_keeping_every_other_setting(config: Path, tmp_path: Path) -> None:
    config.parent.mkdir()
    config.write_text("# mine\nTELEGRAM_BOT_TOKEN=1:old\nALLOWED_USERS=5\nMAX_UPLOAD_MB=50\n")
    tokens: list[str] = []
    term = Said()
    work = tmp_path / "work" / "new"
    assert main(["--yes", "--user-id", "7", "--workspace", str(work)], "tg-claude-code", _telegram(tokens), term) == 0
    assert tokens == ["1:old"]  # the file's token, checked again
    assert config.read_text() == f"# mine\nTELEGRAM_BOT_TOKEN=1:old\nALLOWED_USERS=5,7\nMAX_UPLOAD_MB=50\nCLAUDE_WORKING_DIR={work}\n"
    assert (config.stat().st_mode & 0o777) == 0o600 and work.is_dir()
    assert "the bot is My Bot (@my_bot)" in "\n".join(term.lines)
    assert term.lines[-1].startswith("Start the bot with:  TG_CLAUDE_CODE_CONFIG=")


def test_a_refused_token_from_a_flag_is_one_sentence_and_nothing_is_written(config: Path, tmp_path: Path) -> None:
    term = Said()
    status = main(["--yes", "--token", "9:bad", "--user-id", "7", "--workspace", str(tmp_path / "w")], "x", _telegram([]), term)
    assert status == 2 and not config.exists()
    assert term.lines[-1] == "init: TELEGRAM_BOT_TOKEN: Telegram refuses the token (Unauthorized); copy it again from @BotFather."


def test_a_workspace_holding_the_configuration_file_is_refused(config: Path, tmp_path: Path) -> None:
    term = Said()
    status = main(["--yes", "--token", "1:x", "--user-id", "7", "--workspace", str(tmp_path)], "x", _telegram([]), term)
    assert status == 2 and not config.exists()
    assert term.lines[-1].startswith("init: CLAUDE_WORKING_DIR: the configuration file")
