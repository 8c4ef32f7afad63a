import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.sessions.keys import ChatKey
from bot.sessions.links import LINKS_FILE, LinkStore
from bot.turns.mirror import drain_mirrored
from tests.unit.conftest import BotApi

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_"))}
    return {**clean, "PYTHONPATH": str(ROOT), "SESSION_DIR": str(tmp_path / "sessions"), **extra}


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # cwd=tmp_path: no .env is picked up; no TELEGRAM_* variables: identity must not need them.
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=_env(tmp_path, **env), cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )


def test_link_list_show_unlink(tmp_path: Path) -> None:
    assert cli(tmp_path, "identity", "list", "--json").stdout.strip() == "[]"
    made = cli(tmp_path, "identity", "link", "--chat", "42", "--chat", "-1001234_7", "--name", "ops")
    assert made.returncode == 0, made.stderr
    link_id = made.stdout.strip()
    [listed] = json.loads(cli(tmp_path, "identity", "list", "--json").stdout)
    assert listed["id"] == link_id and listed["name"] == "ops"
    assert listed["members"] == ["42", "-1001234_7"] and listed["session"] == f"link-{link_id}"
    shown = json.loads(cli(tmp_path, "identity", "show", link_id, "--json").stdout)
    assert shown == listed
    plain = cli(tmp_path, "identity", "show", link_id).stdout
    assert f"Session: link-{link_id}" in plain and "Members: 42, -1001234_7" in plain
    assert link_id in cli(tmp_path, "identity", "list").stdout
    gone = cli(tmp_path, "identity", "unlink", link_id)
    assert gone.returncode == 0 and link_id in gone.stdout
    assert json.loads(cli(tmp_path, "identity", "list", "--json").stdout) == []


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For in-process runs of `main`: the same clean environment the subprocesses get."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "ALLOWED_", "CLAUDE_", "SESSION_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SESSION_DIR", str(tmp_path / "sessions"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "args, words",
    [
        (["link", "--chat", "42", "--chat", "abc"], "not a chat key"),
        (["link", "--chat", "42"], "at least two"),
        (["link", "--chat", "42", "--chat", "42"], "listed twice"),
        (["link", "--chat", "1", "--chat", "43"], "already in link"),
        (["link", "--chat", "-5", "--chat", "43"], "chat group 'ops'"),
        (["link", "--chat", "43", "--chat", "44", "--name", "x" * 65], "at most 64"),
        (["link"], "--chat"),
        (["show", "nope"], "no link with id"),
        (["unlink", "nope"], "no link with id"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_leaves_the_file(
    here: Path, args: list[str], words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SESSION_CHAT_GROUPS", '{"ops": ["-5"]}')
    LinkStore(here / "sessions").create([ChatKey(1), ChatKey(2)])
    before = (here / "sessions" / LINKS_FILE).read_bytes()
    assert main(["identity", *args]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], err
    assert out == ""
    assert (here / "sessions" / LINKS_FILE).read_bytes() == before


def test_bad_input_in_a_subprocess(tmp_path: Path) -> None:
    link = LinkStore(tmp_path / "sessions").create([ChatKey(1), ChatKey(2)])
    before = (tmp_path / "sessions" / LINKS_FILE).read_bytes()
    result = cli(tmp_path, "identity", "link", "--chat", "2", "--chat", "-1001234_7")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: Chat 2 is already in link {link.id}; unlink it first."]
    assert (tmp_path / "sessions" / LINKS_FILE).read_bytes() == before


def test_an_unreadable_links_file_exits_1(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sessions").mkdir()
    (here / "sessions" / LINKS_FILE).write_text("{")
    assert main(["identity", "list"]) == 1
    assert "not a valid links file" in capsys.readouterr().err


def test_identity_reads_session_dir_from_dotenv(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSION_DIR")
    (here / ".env").write_text(f"SESSION_DIR={here / 'elsewhere'}\n")
    assert main(["identity", "link", "--chat", "1", "--chat", "2"]) == 0
    assert (here / "elsewhere" / LINKS_FILE).exists()


@pytest.mark.parametrize(
    "args, env, words",
    [
        (["--chat", "42", "hi"], {"TELEGRAM_BOT_TOKEN": "nonsense"}, "TELEGRAM_BOT_TOKEN"),
        (["--chat", "x", "hi"], {"TELEGRAM_BOT_TOKEN": "1:x"}, "not a chat key"),
        (["--chat", "42", " "], {"TELEGRAM_BOT_TOKEN": "1:x"}, "empty"),
        (["hi"], {"TELEGRAM_BOT_TOKEN": "1:x"}, "--chat"),
    ],
)
def test_notify_bad_input_exits_2_with_one_line(
    here: Path, args: list[str], env: dict[str, str], words: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["notify", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines


def test_notify_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "notify", "--chat", "42", "hi")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: TELEGRAM_BOT_TOKEN is not set (set it in "), lines


async def _notify(tmp_path: Path, url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "notify", *args,
        env=_env(tmp_path, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL=url), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_notify_delivers_and_records(tmp_path: Path, bot_api: BotApi) -> None:
    settings, calls = bot_api
    status, out, err = await _notify(
        tmp_path, settings.telegram_api_url, "--chat", "-100_7", "--source", "nightly-backup", "done: 3 GB"
    )
    assert (status, out.strip()) == (0, "101"), err
    assert calls[0]["chat_id"] == "-100" and calls[0]["message_thread_id"] == "7"
    [message] = drain_mirrored(tmp_path / "sessions", [ChatKey(-100, 7)])
    assert (message.text, message.source) == ("done: 3 GB", "nightly-backup")


async def test_notify_failed_delivery_exits_1_with_one_line(tmp_path: Path, bot_api: BotApi) -> None:
    settings, _ = bot_api
    status, out, err = await _notify(tmp_path, settings.telegram_api_url, "--chat", "42", "fail")
    assert status == 1 and out == ""
    assert err.strip().splitlines() == ["error: delivery to chat 42 failed: Bad Request: chat not found"]


def test_notify_source_is_one_short_word(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "--chat", "42", "--source", "ci]\n[Chat: Team", "hi"]) == 2
    assert "a source is one word" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="giving SESSION_DIR to another user needs root")
def test_operator_commands_refuse_another_users_session_dir(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "sessions").mkdir()
    os.chown(here / "sessions", 4242, 4242)
    assert main(["identity", "link", "--chat", "1", "--chat", "2"]) == 2
    assert "belongs to uid 4242" in capsys.readouterr().err
    assert not (here / "sessions" / LINKS_FILE).exists()
