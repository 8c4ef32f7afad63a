"""The bot's core objects, built once at start and handed to the handlers (no globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot

from bot.claude.approvals import Approvals
from bot.features.settings import ChatSettings
from bot.claude.runner import ClaudeRunner
from bot.claude.launcher import default_cli, write_launcher
from bot.config import Settings
from bot.sessions.links import LinkStore, SessionRoutes
from bot.features.files import FileTransfers
from bot.sessions.manager import SessionManager
from bot.sessions.moves import ChatMoves
from bot.claude.tools.send_file import bot_server, send_file_tool
from bot.claude.tools.session_context import session_context_tool
from bot.sessions.pairing import Pairing
from bot.claude.permissions import allowed_tools
from bot.features.voice import Transcriber, VoiceNotes
from bot.turns.gather import Gatherer
from bot.turns.prompt import PromptBuilder
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from bot.telegram.outbox import Outboxes
from bot.turns.scheduler import TurnScheduler

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
    approvals: Approvals
    files: FileTransfers
    chat_settings: ChatSettings
    moves: ChatMoves
    gather: Gatherer
    voice: VoiceNotes

    def is_allowed(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.allowed_users


def _cli_stderr(line: str) -> None:
    logging.getLogger("claude.cli").debug("%s", line.rstrip())


def build_core(settings: Settings, bot: Bot) -> Core:
    store = SessionStore(settings.session_dir)
    links = LinkStore(settings.session_dir, settings.session_chat_groups)
    routes = SessionRoutes(links, settings.session_chat_groups)
    manager = SessionManager(store, settings.claude_working_dir, routes)

    cli_path = write_launcher(settings.session_dir, default_cli())  # CLIs end with the bot, even on kill -9

    def base_options() -> dict[str, Any]:
        options: dict[str, Any] = {"permission_mode": settings.claude_permission_mode, "stderr": _cli_stderr}
        if cli_path:
            options["cli_path"] = cli_path
        if settings.claude_model:
            options["model"] = settings.claude_model
        return options

    outboxes = Outboxes(bot)
    approvals = Approvals(
        outboxes,
        timeout=settings.approval_timeout_seconds,
        allowed_users=settings.allowed_users,
        default_mode=settings.claude_permission_mode,
    )
    bot_tools = [send_file_tool(outboxes), lambda session: session_context_tool(session, routes)]

    def session_options(session: ClaudeSession, turn: Turn) -> dict[str, Any]:
        # Bound to the session, not the turn: one Claude Code process serves many turns.
        return {
            "can_use_tool": approvals.callback_for(session),
            "allowed_tools": allowed_tools(session.record),
            "mcp_servers": {"bot": bot_server(session, bot_tools)},
        }

    runner = ClaudeRunner(
        base_options=base_options,
        extra_options=session_options,
        max_live=settings.max_live_clients,
        idle_seconds=settings.client_idle_seconds,
    )

    scheduler = TurnScheduler(
        runner,
        outboxes,
        max_concurrent=settings.max_concurrent_queries,
        build_prompt=PromptBuilder(settings.session_dir, routes),
    )
    async def submit(turn: Turn) -> None:
        await scheduler.submit(await manager.for_chat(turn.key, turn.chat_title), turn)

    gather = Gatherer(submit)
    moves = ChatMoves(manager, links, routes, settings.session_chat_groups, runner.close_session)
    outboxes.on_chat_moved = moves.move
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
        approvals=approvals,
        files=FileTransfers(
            manager, scheduler, outboxes, settings.allowed_paths, settings.max_upload_mb * 1024 * 1024, gather
        ),
        chat_settings=ChatSettings(manager, settings.claude_permission_mode, settings.claude_model),
        moves=moves,
        gather=gather,
        voice=VoiceNotes(_transcriber(settings), outboxes, submit, settings.transcribe_max_seconds),
    )


def _transcriber(settings: Settings) -> Transcriber | None:
    if not settings.transcribe_base_url:
        return None
    key = settings.transcribe_api_key.get_secret_value() if settings.transcribe_api_key else None
    return Transcriber(settings.transcribe_base_url, key, settings.transcribe_model)
