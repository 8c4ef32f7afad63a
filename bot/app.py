"""The bot's core objects, built once at start and handed to the handlers (no globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot

from bot.claude import ClaudeRunner
from bot.config import Settings
from bot.links import LinkStore, SessionRoutes
from bot.manager import SessionManager
from bot.pairing import Pairing
from bot.prompt import PromptBuilder
from bot.store import SessionStore
from bot.telegram.outbox import Outboxes
from bot.turns import TurnScheduler

log = logging.getLogger(__name__)


@dataclass
class Core:
    settings: Settings
    store: SessionStore
    manager: SessionManager
    runner: ClaudeRunner
    scheduler: TurnScheduler
    outboxes: Outboxes
    links: LinkStore
    routes: SessionRoutes
    pairing: Pairing

    def is_allowed(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.allowed_users


def _cli_stderr(line: str) -> None:
    logging.getLogger("claude.cli").debug("%s", line.rstrip())


def build_core(settings: Settings, bot: Bot) -> Core:
    store = SessionStore(settings.session_dir)
    links = LinkStore(settings.session_dir, settings.session_chat_groups)
    routes = SessionRoutes(links, settings.session_chat_groups)
    manager = SessionManager(store, settings.claude_working_dir, routes)

    def base_options() -> dict[str, Any]:
        options: dict[str, Any] = {"permission_mode": settings.claude_permission_mode, "stderr": _cli_stderr}
        if settings.claude_model:
            options["model"] = settings.claude_model
        return options

    runner = ClaudeRunner(base_options=base_options)
    outboxes = Outboxes(bot)

    scheduler = TurnScheduler(
        runner,
        outboxes,
        max_concurrent=settings.max_concurrent_queries,
        build_prompt=PromptBuilder(settings.session_dir, routes),
    )
    return Core(
        settings=settings,
        store=store,
        manager=manager,
        runner=runner,
        scheduler=scheduler,
        outboxes=outboxes,
        links=links,
        routes=routes,
        pairing=Pairing(ttl=settings.link_code_ttl_seconds),
    )
