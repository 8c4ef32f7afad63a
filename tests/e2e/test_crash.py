"""Crashes: the bot killed with SIGKILL at random moments, and Claude Code CLIs killed under it.

After every restart each chat continues its conversation, every session file parses, the lock
is free again, and no CLI of the dead bot is left running; and in the end every message a user
sent (running, queued, or sent while the bot was down) has been answered exactly once, but for the
one window no bot can close: Telegram's sends carry no idempotency key, so a kill between Telegram
taking an answer and the bot's record of it shows that answer again after the start. A repeat is
allowed only there: the journal at that kill held the answer, not yet marked done, and the repeat is
that recorded answer, word for word (not Claude asked again).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.chat import ask, wait_answer
from tests.e2e.harness import FRIEND, OWNER, BotProcess
from tests.e2e.procs import cli_processes, kill_all
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

SEED = 20261121
ROUNDS = 4


@dataclass
class Chat:
    chat_id: int
    user: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)  # prompts whose final reply reached the chat
    sent: list[int] = field(default_factory=list)  # ids of every message the user sent (all must be answered)

    def send(self, telegram: TelegramStandin, text: str) -> None:
        update = telegram.user_message(self.chat_id, self.user, text, **self.kwargs)
        self.sent.append(update["message"]["message_id"])

    @property
    def thread(self) -> int | None:
        return self.kwargs.get("thread_id")

    @property
    def file(self) -> str:
        return f"{self.session}.json"

    @property
    def session(self) -> str:
        return f"{self.chat_id}_{self.thread}" if self.thread else f"{self.chat_id}"


CHATS = [
    Chat(OWNER, OWNER),
    Chat(FRIEND, FRIEND),
    Chat(-100900, OWNER, {"chat_type": "group", "chat_title": "Team"}),
    Chat(-100901, FRIEND, {"chat_type": "supergroup", "is_forum": True, "chat_title": "Forum", "thread_id": 5}),
]


def final_shown(telegram: TelegramStandin, chat: Chat, prompt: str) -> bool:
    final = f"echo: {prompt}"
    return any(m.text == final for m in telegram.bot_messages(chat.chat_id, chat.thread))


async def history(telegram: TelegramStandin, chat: Chat) -> str:
    """The conversation's user texts, from the final `#history` reply (never the progress view)."""
    seen = {m.message_id for m in telegram.bot_messages(chat.chat_id, chat.thread, include_deleted=True)}
    chat.send(telegram, "#history")

    def reply() -> str | None:
        for m in telegram.bot_messages(chat.chat_id, chat.thread):
            if m.message_id not in seen and (m.text or "").startswith("history:"):
                return m.text
        return None

    return await telegram.wait_for(reply, timeout=120)  # behind turns carried on from before the kill


TRANSIENT = ("⏳", "⏸", "↻")  # queue notices and progress messages, not answers


def answers_to(telegram: TelegramStandin, chat: Chat, message_id: int) -> list[str]:
    """The bot's answers to one user message: what replies to it and is not a notice or a progress view."""
    return [
        m.text
        for m in telegram.bot_messages(chat.chat_id, chat.thread)
        if m.reply_to_message_id == message_id and m.text and not m.text.startswith(TRANSIENT)
    ]


def assert_files_parse(bot: BotProcess) -> None:
    for path in bot.session_dir.glob("*.json"):
        json.loads(path.read_text())  # a torn write would fail here
    assert not list(bot.session_dir.glob("*.corrupt")), "a session file was found corrupt"


def answers_in_flight(bot: BotProcess) -> set[str]:
    """The journal's entries ("<session>:<message id>") whose answer is recorded and not yet marked done:
    a kill now may come after Telegram took that answer, so the start shows it once more."""
    entries = [json.loads(line) for line in (bot.session_dir / "inbox.jsonl").read_text().splitlines()]
    answered = {e.get("id") for e in entries if e.get("t") == "answer"}
    return answered - {e.get("id") for e in entries if e.get("t") == "done"}


def assert_answered_once(telegram: TelegramStandin, chats: list[Chat], in_flight: set[str]) -> None:
    for chat in chats:
        twice = {m: answers_to(telegram, chat, m) for m in chat.sent if len(answers_to(telegram, chat, m)) != 1}
        unavoidable = {
            m: texts for m, texts in twice.items() if f"{chat.session}:{m}" in in_flight and len(set(texts)) == 1
        }
        assert twice == unavoidable, f"chat {chat.chat_id}: answered more than once: {twice}"


async def kill_and_check(bot: BotProcess, in_flight: set[str] | None = None) -> None:
    """SIGKILL the bot; its CLIs must end with it (even one mid-turn) and every session file must parse.
    `in_flight` gains the answers the kill may have caught on their way to Telegram."""
    assert bot.process is not None
    children = cli_processes(bot.process.pid)
    await bot.kill()
    deadline = time.monotonic() + 15
    while (left := [pid for pid in children if pid in cli_processes()]) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    kill_all(left)
    assert not left, f"CLI processes {left} outlived the killed bot"
    assert_files_parse(bot)
    if in_flight is not None:
        in_flight |= answers_in_flight(bot)


async def test_sigkill_at_random_moments_loses_no_answered_conversation(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    rng, in_flight = random.Random(SEED), set[str]()
    await bot.start()
    for chat in CHATS:
        await ask(telegram, chat.chat_id, f"hello {chat.chat_id}", "echo:", user=chat.user, **chat.kwargs)
        chat.answered.append(f"hello {chat.chat_id}")
        chat.sent.append(telegram.user_messages(chat.chat_id)[-1].message_id)

    def ids_on_disk() -> bool:
        paths = [bot.session_dir / chat.file for chat in CHATS]
        return all(p.exists() and json.loads(p.read_text()).get("session_id") for p in paths)

    await telegram.wait_for(ids_on_disk, timeout=10)  # from here on each chat has a conversation to keep

    for round_no in range(ROUNDS):
        # The first chat is always answered before the kill and the last one never is; the others
        # end at random moments around it, as do the debounced writes of all four.
        seconds = [0.1, rng.uniform(0.2, 2.0), rng.uniform(0.2, 2.0), 30]
        prompts = {}
        for chat, slow in zip(CHATS, seconds, strict=True):
            prompts[chat.chat_id] = f"#slow {slow:.2f} round {round_no} in {chat.chat_id}"
            chat.send(telegram, prompts[chat.chat_id])
            for n in range(2):  # queued behind it when the kill comes (or already answered)
                chat.send(telegram, f"queued {n} of round {round_no} in {chat.chat_id}")
        first = CHATS[0]
        await telegram.wait_for(lambda: final_shown(telegram, first, prompts[first.chat_id]), timeout=30)
        await asyncio.sleep(rng.uniform(0, 1.5))
        for chat in CHATS:
            if final_shown(telegram, chat, prompts[chat.chat_id]):
                chat.answered.append(prompts[chat.chat_id])
        await kill_and_check(bot, in_flight)
        if rng.random() < 0.5:  # also die while starting up (restoring, registering, first poll)
            await bot.start(wait=False)
            await asyncio.sleep(rng.uniform(0.2, 3.0))
            await kill_and_check(bot, in_flight)
        await bot.start()  # fails if the lock of the dead process were still held
        texts = await asyncio.gather(*(history(telegram, chat) for chat in CHATS))
        for chat, shown in zip(CHATS, texts, strict=True):
            missing = [prompt for prompt in chat.answered if prompt not in shown]
            assert not missing, f"round {round_no}: chat {chat.chat_id} lost {missing}"

    # Every accepted message is answered in the end, and none twice.
    def all_answered() -> bool:
        return all(answers_to(telegram, chat, message_id) for chat in CHATS for message_id in chat.sent)

    await telegram.wait_for(all_answered, timeout=240)
    assert_answered_once(telegram, CHATS, in_flight)


async def test_a_cli_killed_mid_turn_is_one_sentence_and_the_next_message_works(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin
) -> None:
    await bot.start()
    await ask(telegram, OWNER, "remember fig", "echo: remember fig")
    assert bot.process is not None
    [cli] = cli_processes(bot.process.pid)
    telegram.user_message(OWNER, OWNER, "#slow 5 a long answer")
    await claude_api.wait_for(lambda: any("a long answer" in r.last_user_text for r in claude_api.main_requests()))
    kill_all([cli])
    sentence = await wait_answer(telegram, OWNER, "stopped unexpectedly", timeout=30)
    assert sentence.text is not None and sentence.text.count(".") == 1 and "\n" not in sentence.text
    history_text = await ask(telegram, OWNER, "#history", "history:")
    assert "remember fig" in history_text
    # Killed between turns (out of memory, an operator): the next message just works.
    [cli] = cli_processes(bot.process.pid)
    kill_all([cli])
    await asyncio.sleep(0.5)
    answer = await ask(telegram, OWNER, "after an idle kill", "after an idle kill")
    assert answer == "echo: after an idle kill"
    assert sum("stopped unexpectedly" in (m.text or "") for m in telegram.bot_messages(OWNER)) == 1


FLOOD_CHATS = [
    Chat(OWNER, OWNER),
    Chat(FRIEND, FRIEND),
    Chat(-100910, OWNER, {"chat_type": "group", "chat_title": "Ops"}),
    Chat(-100911, FRIEND, {"chat_type": "supergroup", "chat_title": "Dev"}),
    Chat(-100912, OWNER, {"chat_type": "supergroup", "is_forum": True, "chat_title": "Forum", "thread_id": 3}),
    Chat(-100913, FRIEND, {"chat_type": "supergroup", "is_forum": True, "chat_title": "Forum 2", "thread_id": 4}),
]


@pytest.mark.parametrize("seed", range(3))
async def test_many_chats_killed_under_flood_control_answer_every_message_once_and_in_order(
    bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin, seed: int
) -> None:
    """Six chats with queued messages, killed several times while Telegram throttles the bot: each kill
    lands right after an answer appeared (the window between an answer and its record)."""
    rng, in_flight = random.Random(seed), set[str]()
    chats = [Chat(c.chat_id, c.user, dict(c.kwargs)) for c in FLOOD_CHATS]
    telegram.flood(every=5, retry_after=1)
    await bot.start()
    for round_no in range(3):
        for chat in chats:
            chat.send(telegram, f"#slow {rng.uniform(0.1, 1.2):.2f} round {round_no} asks in {chat.chat_id}")
            chat.send(telegram, f"queued after round {round_no} in {chat.chat_id}")

        def some_answer_shown() -> bool:
            return any(
                m.text.startswith("echo: #slow") and f"round {round_no} " in m.text
                for c in chats for m in telegram.bot_messages(c.chat_id, c.thread)
            )

        await telegram.wait_for(some_answer_shown, timeout=60)
        await asyncio.sleep(rng.uniform(0.05, 0.4))  # while the other chats' answers are on their way
        await kill_and_check(bot, in_flight)
        await bot.start()
    telegram.flood(every=0)

    def unanswered() -> list[str]:
        return [
            f"chat {chat.chat_id} message {m.message_id} {m.json.get('text', '')!r}"
            for chat in chats for m in telegram.user_messages(chat.chat_id)
            if m.message_id in chat.sent and not answers_to(telegram, chat, m.message_id)
        ]

    try:
        await telegram.wait_for(lambda: not unanswered(), timeout=240)
    except TimeoutError:
        exchange = {c.chat_id: [(m.message_id, m.reply_to_message_id, m.text[:60]) for m in telegram.bot_messages(c.chat_id, c.thread, include_deleted=True)] for c in chats}
        raise AssertionError(f"never answered: {unanswered()}\nthe bot's messages: {exchange}") from None
    assert_answered_once(telegram, chats, in_flight)
    for chat in chats:
        rounds = [
            int(m.text.split("round ", 1)[1].split()[0])
            for m in telegram.bot_messages(chat.chat_id, chat.thread)
            if m.text.startswith("echo: #slow") or m.text.startswith("echo: queued")
        ]
        assert rounds == sorted(rounds), f"chat {chat.chat_id} answered out of order: {rounds}"
