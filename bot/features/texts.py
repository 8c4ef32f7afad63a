"""Command replies, as Telegram HTML (every value escaped here, so no reply can fail to parse)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.features.commands import BOT_COMMANDS
from bot.sessions.session import ClaudeSession
from bot.turns.live import Activity
from bot.util.text import ago, counted, esc

BUTTON_EXPIRED = "This button has expired."
STOPPING_REACTION = "👌"  # /stop's answer: the stopped turn's own message says "⏹ Stopped."
STOPPING = "⏹ Stopping the running turn…"  # the same where the chat allows no reactions

def short_id(session_id: str | None) -> str:
    return session_id[:8] if session_id else "none yet"


# The bot's menu (name, description) and /help's lines (as typed, what it does), from the one table.
COMMANDS: list[tuple[str, str]] = [(command.name, command.description) for command in BOT_COMMANDS]
USAGE: list[tuple[str, str]] = [(command.usage, command.explained) for command in BOT_COMMANDS if command.explained]


def start_text(session: ClaudeSession) -> str:
    lines = [
        "<b>Claude Code in this chat.</b> Every chat (and forum topic) is its own project: "
        "send a message and Claude Code works on it in this chat's directory; the conversation "
        "survives restarts of the bot.",
        "",
        f"Directory: <code>{esc(session.working_dir)}</code>",
        "",
        "Send a file to put it in the directory. /help lists the commands.",
    ]
    return "\n".join(lines)


def help_text(session: ClaudeSession) -> str:
    # The command itself plain, so Telegram makes it tappable; its arguments after it.
    lines = [f"<b>Commands</b> · <code>{esc(session.working_dir)}</code>"]
    lines += [f"{esc(usage)} — {esc(meaning)}" for usage, meaning in USAGE]
    lines.append("Anything else goes to Claude; reply to a request or a question to answer it in words.")
    return "\n".join(lines)


def state_line(activity: Activity, now: float | None = None) -> str:
    if activity.running_since is None:
        return "idle"
    elapsed = int((now or time.time()) - activity.running_since)
    tool = f" · {esc(activity.current_tool)}" if activity.current_tool else ""
    return f"running for {elapsed} s{tool}"


def live_clients_line(live: int, cap: int, origin: str) -> str:
    return f"Claude Code processes: {live} running, at most {cap} (MAX_LIVE_CLIENTS, {esc(origin)})"


def status_text(
    key: object, session: ClaudeSession, activity: Activity, sessions_held: int, extra: list[str] | None = None
) -> str:
    record = session.record
    totals = record.totals
    lines = [
        "<b>Status</b>",
        f"Chat: <code>{esc(key)}</code>",
        f"Session: <code>{esc(short_id(record.session_id))}</code>",
        f"State: {state_line(activity)}",
        f"Queued: {activity.queued}" if activity.queued else "",
        f"Carried on after a restart: {activity.recovered} (accepted before it, answered once)" if activity.recovered else "",
        f"Directory: <code>{esc(record.working_dir)}</code>",
        f"Last activity: {ago(record.last_activity)}",
        f"Totals: {counted(totals.turns, 'turn')} · {totals.input_tokens:,} tokens in · {totals.output_tokens:,} out · ${totals.cost_usd:.4f}",
    ]
    last = record.last_turn
    if last is not None:
        context = (
            f"context {last.context_tokens:,}/{last.context_window:,} tokens ({100 * last.context_tokens / last.context_window:.1f}%)"
            if last.context_window
            else f"context {last.context_tokens:,} tokens"
        )
        lines.append(f"Last turn: {context} · ${last.cost_usd:.4f} · {last.duration_ms / 1000:.1f} s")
    lines += extra or []
    lines.append(f"The bot holds {counted(sessions_held, 'session')}: /sessions lists them.")
    return "\n".join(line for line in lines if line)


def sessions_text(
    sessions: list[ClaudeSession],
    activity_of: Callable[[ClaudeSession], Activity],
    idle_limit_s: float,
    members: dict[str, list[str]] | None = None,
    branches: dict[str, str] | None = None,
) -> str:
    if not sessions:
        return "The bot holds no sessions yet."
    now = time.time()
    ordered = sorted(sessions, key=lambda s: s.record.last_activity, reverse=True)
    lines = [f"<b>{counted(len(ordered), 'session')}</b>"]
    for session in ordered[:50]:
        record = session.record
        label = record.title or session.name
        shared = (members or {}).get(session.name)
        branch = (branches or {}).get(session.name)
        lines.append(
            f"• <b>{esc(label)}</b> (<code>{esc(session.name)}</code>) — {state_line(activity_of(session), now)}\n"
            f"  <code>{esc(record.working_dir)}</code>{f' · branch {esc(branch)}' if branch else ''} · {ago(record.last_activity, now)}"
            + (f"\n  shared by {esc(', '.join(shared))}" if shared else "")
        )
    if len(ordered) > 50:
        lines.append(f"… and {len(ordered) - 50} more")
    idle = sum(1 for s in ordered if activity_of(s).running_since is None and s.idle_seconds(now) > idle_limit_s)
    lines.append(f"\n{idle} idle longer than {idle_limit_s / 3600:g} h: /sessions cleanup removes them.")
    return "\n".join(lines)
