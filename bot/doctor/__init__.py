"""`doctor`: check the set-up and print a checklist with the fix for each failure (exit 0 only if all pass)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import APP_NAME, ConfigProblem, Settings, checked_settings, config_files
from bot.config_sources import export_claude_settings, file_to_edit
from bot.confine import Box
from bot.doctor.checks import CHECKS, Facts, Status, Verdict
from bot.util.botapi import ApiUnreachable, BotIdentity, TokenRefused

# getMe for (token, api_url); injected by the entry point, since only bot/telegram/ speaks aiogram.
Probe = Callable[[str, str], Awaitable[BotIdentity]]

MARKS = {Status.PASS: "[ok]  ", Status.FAIL: "[FAIL]", Status.SKIP: "[skip]"}


async def gather_facts(probe: Probe) -> Facts:
    settings: Settings | None = None
    error: str | None = None
    try:  # the very sources, order and checks `run` uses
        settings = checked_settings().settings
    except ConfigProblem as exc:
        error = str(exc)
    environ = dict(os.environ)
    export_claude_settings(config_files(), environ)  # the CLI would get the file's key even when a setting is bad
    identity: BotIdentity | None = None
    api_error: Exception | None = None
    if settings is not None:
        try:
            identity = await asyncio.wait_for(probe(settings.telegram_bot_token, settings.telegram_api_url), timeout=30)
        except (TokenRefused, ApiUnreachable) as exc:
            api_error = exc
        except TimeoutError:
            api_error = ApiUnreachable("no answer within 30 s")
    box, box_error = _box(settings) if settings is not None else (None, None)
    return Facts(
        settings, error, identity, api_error, environ, os.geteuid(), Path.cwd(), file_to_edit(config_files()), box, box_error
    )


def _box(settings: Settings) -> tuple[Box | None, str | None]:
    """The box as the start opens it (so as root this creates CLAUDE_USER and gives it the workspaces, as the start would)."""
    from bot.confine import BoxRefused, open_box
    from bot.confine.wanted import wanted_from

    try:
        return open_box(wanted_from(settings)), None
    except BoxRefused as exc:
        return None, str(exc)


def summary(results: list[tuple[str, Verdict]]) -> str:
    failed = sum(verdict.status is Status.FAIL for _, verdict in results)
    skipped = sum(verdict.status is Status.SKIP for _, verdict in results)
    if not failed and not skipped:
        return f"all {len(results)} checks passed"
    parts = [f"{failed} failed"] if failed else []
    if skipped:
        parts.append(f"{skipped} not checked")
    return f"{len(results) - failed - skipped} of {len(results)} checks passed, " + " and ".join(parts)


def report(results: list[tuple[str, Verdict]], secret: str | None, config_file: Path | None = None) -> str:
    lines = [f"{APP_NAME} doctor"]
    if config_file is not None:
        read = "read" if config_file.is_file() else "not there yet"
        lines.append(f"configuration: {config_file} ({read}; the environment wins over it)")
    for name, verdict in results:
        lines.append(f"{MARKS[verdict.status]} {name}: {verdict.detail}")
        if verdict.fix:
            lines.append(f"         fix: {verdict.fix}")
    lines.append(summary(results))
    text = "\n".join(lines)
    if secret:  # belt and braces: no check puts the token in its text
        text = text.replace(secret, "<token>")
    return text


def main(probe: Probe) -> int:
    facts = asyncio.run(gather_facts(probe))
    results = [(name, check(facts)) for name, check in CHECKS]
    secret = facts.settings.telegram_bot_token if facts.settings else os.environ.get("TELEGRAM_BOT_TOKEN")
    print(report(results, secret, facts.config_file))
    sys.stdout.flush()
    return 0 if all(verdict.status is Status.PASS for _, verdict in results) else 1
