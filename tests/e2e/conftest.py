from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin


@pytest.fixture()
async def telegram() -> AsyncIterator[TelegramStandin]:
    async with TelegramStandin() as standin:
        yield standin


@pytest.fixture()
async def claude_api() -> AsyncIterator[MessagesStandin]:
    async with MessagesStandin() as standin:
        yield standin


@pytest.fixture()
async def bot(telegram: TelegramStandin, claude_api: MessagesStandin, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[BotProcess]:
    """The real bot process, not yet started: tests set `extra_env` first, then `await bot.start()`."""
    process = BotProcess(telegram, claude_api, tmp_path)
    yield process
    if process.process is not None and process.process.returncode is None:
        await process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"\n----- bot log ({process.log_path}) -----\n{process.log_tail(200)}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
