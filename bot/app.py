"""The bot's core objects, built once at start and handed to the handlers (no globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot

from bot.claude.approvals import Approvals
from bot.claude.cli_limits import refused_in
from bot.claude.desk import DeskWatch
from bot.claude.failures import StderrTail
from bot.claude.launcher import default_cli, write_launcher
from bot.claude.permissions import allowed_tools
from bot.claude.runner import ENTRYPOINT, ClaudeRunner
from bot.claude.tools.send_file import bot_server, send_file_tool
from bot.claude.tools.session_context import session_context_tool
from bot.claude.transcripts import ClaudeTranscripts
from bot.config import Settings
from bot.confine import Box
from bot.features.conversation import ChatCommands
from bot.features.desk import desk_command
from bot.features.diff import ChangeTracker
from bot.features.files import FileTransfers
from bot.features.settings import ChatSettings
from bot.features.sharing import SharingCommands
from bot.sessions.inbox import Inbox
from bot.features.usage import Usage
from bot.features.voice import Transcriber, VoiceNotes
from bot.features.worktrees import Worktrees
from bot.security.access import chat_served
from bot.sessions.links import LinkStore, SessionRoutes
from bot.sessions.manager import SessionManager
from bot.sessions.moves import ChatMoves
from bot.sessions.pairing import Pairing
from bot.sessions.session import ClaudeSession, Turn
from bot.sessions.store import SessionStore
from bot.telegram.outbox import Outboxes
from bot.telegram.views.requests import TelegramRequests
from bot.telegram.views.turns import TelegramTurns
from bot.telegram.webapp import ReviewButtons
from bot.turns.intake import Intake
from bot.turns.prompt import PromptBuilder
from bot.turns.scheduler import TurnScheduler
from bot.webapp.review import Reviews

log = logging.getLogger(__name__)


@dataclass
class Core:
    """Everything the handlers reach; each feature gets only the collaborators it uses."""

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
    sharing: SharingCommands
    commands: ChatCommands
    usage: Usage
    worktrees: Worktrees
    moves: ChatMoves
    intake: Intake  # the only way a message becomes a turn
    inbox: Inbox
    reviews: Reviews | None = None  # the review Mini App (WEBAPP_URL), and the buttons that open it
    review_buttons: ReviewButtons | None = None

    def is_allowed(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.allowed_users

    def serves_chat(self, chat_id: int, chat_type: str) -> bool:
        return chat_served(chat_id, chat_type, self.settings.allowed_chats)


def build_core(settings: Settings, bot: Bot, box: Box) -> Core:
    store = SessionStore(settings.session_dir)
    inbox = Inbox(settings.session_dir)
    links = LinkStore(settings.session_dir, settings.session_chat_groups)
    routes = SessionRoutes(links, settings.session_chat_groups)
    manager = SessionManager(store, settings.claude_working_dir, routes, settings.allowed_paths)

    # Every CLI starts through the launcher: in the box (bot/confine/), and it ends with the bot, even on kill -9.
    cli_path = write_launcher(settings.session_dir, default_cli(), box.command)
    cli_stderr = StderrTail()

    def base_options() -> dict[str, Any]:
        options: dict[str, Any] = {"permission_mode": settings.claude_permission_mode, "stderr": cli_stderr}
        if cli_path:
            options["cli_path"] = cli_path
        if settings.claude_model:
            options["model"] = settings.claude_model
        return options

    outboxes = Outboxes(bot)
    review_buttons = ReviewButtons(settings.webapp_url) if settings.webapp_url else None

    def session_options(session: ClaudeSession, turn: Turn) -> dict[str, Any]:
        # Bound to the session, not the turn: one Claude Code process serves many turns.
        # (Called only when a turn starts, so it may use what is built below.)
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
        stderr_tail=cli_stderr.text,
        desk=DeskWatch(ENTRYPOINT),
    )
    scheduler = TurnScheduler(
        runner,
        TelegramTurns(outboxes, drafts=settings.telegram_drafts, review=review_buttons),
        max_concurrent=settings.max_concurrent_queries,
        build_prompt=PromptBuilder(settings.session_dir, routes),
        inbox=inbox,
        changes=ChangeTracker(box),
        transcripts=ClaudeTranscripts(),
        max_queued=settings.max_queued_per_chat,
    )
    approvals = Approvals(
        TelegramRequests(outboxes, settings.approval_timeout_seconds),
        current_turn=scheduler.current_turn,
        timeout=settings.approval_timeout_seconds,
        allowed_users=settings.allowed_users,
        default_mode=settings.claude_permission_mode,
        waiting=scheduler.waiting_for_answer,
    )
    bot_tools = [
        send_file_tool(outboxes, scheduler.current_turn, settings.allowed_paths),
        lambda session: session_context_tool(session, routes, scheduler.current_turn),
    ]
    pairing = Pairing(ttl=settings.link_code_ttl_seconds)
    chat_settings = ChatSettings(manager, settings.claude_permission_mode, settings.claude_model, refused_in(box, settings.allow_unconfined_bypass))
    sharing = SharingCommands(routes, links, pairing, manager, runner)
    usage = Usage(manager, settings.max_cost_per_day_usd, settings.max_chat_cost_per_day_usd)
    commands = ChatCommands(
        manager, scheduler, runner, routes, sharing, chat_settings, approvals.waiting_lines, usage.budget_lines,
        settings.allowed_paths, settings.idle_cleanup_seconds, settings.live_clients_origin,
        desk=desk_command(box, cli_path),
    )

    files = FileTransfers(manager, outboxes, settings.allowed_paths, settings.max_upload_mb * 1024 * 1024, box.give)
    intake = Intake(
        manager=manager,
        scheduler=scheduler,
        usage=usage,
        outbox=outboxes,
        view=scheduler.view,
        files=files,
        voice=VoiceNotes(_transcriber(settings), outboxes, settings.transcribe_max_seconds),
        inbox=inbox,
    )
    moves = ChatMoves(manager, scheduler, links, settings.session_chat_groups, runner.close_session)
    outboxes.on_chat_moved = moves.move
    reviews = None
    if settings.webapp_url:
        reviews = Reviews(
            sessions=manager, members=routes.members, allowed_chats=settings.allowed_chats, busy=scheduler.is_running,
            outbox=outboxes, box=box, allowed_paths=settings.allowed_paths,
        )
    return Core(
        settings=settings, store=store, manager=manager, runner=runner, scheduler=scheduler, outboxes=outboxes,
        links=links, routes=routes, pairing=pairing, approvals=approvals, files=files, chat_settings=chat_settings,
        sharing=sharing, commands=commands, usage=usage, worktrees=Worktrees(manager, settings.allowed_paths),
        moves=moves, intake=intake, inbox=inbox, reviews=reviews, review_buttons=review_buttons,
    )


def _transcriber(settings: Settings) -> Transcriber | None:
    if not settings.transcribe_base_url:
        return None
    key = settings.transcribe_api_key.get_secret_value() if settings.transcribe_api_key else None
    return Transcriber(settings.transcribe_base_url, key, settings.transcribe_model)
