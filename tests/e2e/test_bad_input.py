"""Bad input, generated: hundreds of odd messages, commands, files and button presses at once.

Allowed users get an answer or a clear refusal to every one of them; strangers get nothing but
the single refusal in their private chat; nothing leaves SESSION_DIR and the working directories
(no file written elsewhere, no file from outside sent back); the bot stays up throughout.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.features.texts import COMMANDS
from bot.turns.gather import PASTE_PART
from tests.e2e.chat import ask
from tests.e2e.harness import FRIEND, OWNER, ROOT, STRANGER, BotProcess
from tests.standins.messages_api import MessagesStandin
from tests.standins.telegram_api import TelegramStandin

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("FUZZ_SEED", "1337"))  # the suite uses one seed; set FUZZ_SEED to explore others
INPUTS = 300
ESCAPE = f"fuzzescape{SEED}"  # in every name a path traversal would create
SECRET = f"TOPSECRET{SEED}"  # in a file outside ALLOWED_PATHS that must never be sent
GROUP = -100950  # allowed users and a stranger talk here
FORUM = {"chat_type": "supergroup", "is_forum": True, "chat_title": "Fuzz forum", "thread_id": 3}
PRIVATE = [OWNER, FRIEND, *range(71_001, 71_015)]  # more chats: Telegram paces each one to ~1 message/s

ODD = [
    "", " ", "\t", "..", "../..", "../../..", "/", "/etc", "/etc/passwd", "~", "~root", "$HOME", "sub", "sub/../..",
    "link-out", "dir-out", "dir-out/secret.txt", "../secret.txt", "ok.txt", "sub/inner.txt", "nul\x00byte",
    "\u202eevil\u202c", "\u200f\u200e", "\u200d\u2063", "a" * 300, "a/" * 600, "x" * 5000, "%2e%2e%2f", "..\\..\\",
    "file:///etc/passwd", '"quoted" \'single\'', "<b>bold</b> &amp; &", "*_`[]()~>#+-=|{}.!", "\x1b[31mred\x1b[0m",
    "\x01\x02\x7f", "🙂👍🏽" * 20, "e\u0301\u0301\u0301", "بالعربية", "日本語のパス", "cleanup", "cleanup now",
    "default", "plan", "bypassPermissions", "acceptEdits", "opus", "x" * 70, "-1", "0", "99999999999999999999",
    f"../../{ESCAPE}", f"/tmp/{ESCAPE}", f"{ESCAPE}\x00.txt",
]
UNKNOWN = ["/foo", "/CD", "/c", "/", "//", "/123", "/help@another_bot", "/cd@another_bot ..", "/\u202ecd",
           "/start@claude_test_bot", "/status@claude_test_bot extra", "/" + "a" * 64, "/st\x00atus"]
CALLBACKS = ["", "x", "stop:", "stop:nobody", "q:now:999999", "q:cancel:-1", "q:explode:1", "res:", "res:00000000",
             "cleanup:0", "ap:tok:allow:x", "mode:hack", "model:" + "m" * 60, "\x00", "🙂" * 16, "a" * 64]
CAPTIONS = ["", "look at this", "\u202ecaption\u202c", "x" * 1000]
FILE_NAMES = [f"../../{ESCAPE}.txt", f"/etc/{ESCAPE}", f"..\\..\\{ESCAPE}", f"{ESCAPE}\x00.sh", "..", ".", "",
              "-rf", ".bashrc", "a" * 300, "\u202etxt.exe", "ok.txt", "normal name.md"]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Sent:
    chat: int
    user: int
    kind: str  # "message" (answered by a reply to it) or "button" (answered by answerCallbackQuery)
    ref: int | str  # the message id, or the callback query id
    text: str | None = None  # a text for Claude: it may be answered together with a paste it followed


class Fuzzer:
    def __init__(self, telegram: TelegramStandin, rng: random.Random) -> None:
        self.telegram = telegram
        self.rng = rng
        self.sent: list[Sent] = []
        self.stranger_words: list[str] = []

    def text(self) -> str:
        """Text for Claude (no `#`: a directive would script the stand-in)."""
        pick = self.rng.random()
        if pick < 0.15:
            return self.rng.choice(["   ", "\n\n", "\t \u200b"])  # blank: refused without Claude
        if pick < 0.25:
            return "".join(self.rng.choice("abc xyz\n") for _ in range(4096))  # as long as Telegram allows
        alphabet = "abcXYZ 019.,!?<>&*_`~[]()\n\t\x00\x01\x1b\u202e\u200f\u200d\u0301🙂日本ب"
        return "fuzz " + "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(1, 80)))

    def command(self) -> str:
        if self.rng.random() < 0.2:
            return self.rng.choice(UNKNOWN)
        name = self.rng.choice(COMMANDS)[0]
        return f"/{name} {self.rng.choice(ODD)}".rstrip(" ") if self.rng.random() < 0.8 else f"/{name}"

    def place(self, user: int) -> tuple[int, dict[str, Any]]:
        pick = self.rng.random()
        # Few in groups: Telegram lets a bot send only ~20 messages a minute there.
        if pick < 0.025:
            return GROUP, {"chat_type": "group", "chat_title": "Fuzz group"}
        if pick < 0.05:
            return -100951, dict(FORUM)
        return (STRANGER, {}) if user == STRANGER else (self.rng.choice(PRIVATE), {})

    def one(self, user: int) -> None:
        chat, where = self.place(user)
        pick = self.rng.random()
        if pick < 0.55:
            update = self.telegram.user_message(chat, user, self.command(), **where)
        elif pick < 0.75:
            text = self.text()
            if user == STRANGER:
                word = f"strangerword{len(self.stranger_words)}"
                self.stranger_words.append(word)
                text = f"{word} {text}"
            update = self.telegram.user_message(chat, user, text, **where)
            self.sent.append(Sent(chat, user, "message", update["message"]["message_id"], text))
            return
        elif pick < 0.85:
            target = self.telegram.bot_messages(chat, where.get("thread_id", ...))
            if not target:  # nothing to press yet: a command instead
                update = self.telegram.user_message(chat, user, "/help", **where)
            else:
                query = self.telegram.press_button(
                    chat, user, self.rng.choice(target).message_id, self.rng.choice(CALLBACKS), force=True
                )
                self.sent.append(Sent(chat, user, "button", query))
                return
        elif pick < 0.95:
            name = self.rng.choice(FILE_NAMES)
            caption = self.rng.choice(CAPTIONS) or None
            update = self.telegram.user_document(chat, user, name, f"{ESCAPE} content".encode(), caption=caption, **where)
        else:
            update = self.telegram.user_photo(chat, user, PNG, caption=self.rng.choice(CAPTIONS) or None, **where)
        self.sent.append(Sent(chat, user, "message", update["message"]["message_id"]))


def files_under(root: Path) -> set[Path]:
    return {Path(dirpath) / name for dirpath, _, names in os.walk(root) for name in names}


def escaped_files() -> list[Path]:
    """Files named after ESCAPE anywhere a traversal could have put them."""
    places = [ROOT, Path("/tmp"), Path("/"), Path("/etc"), Path.home()]
    found = [p / name for p in places if p.is_dir() for name in os.listdir(p) if ESCAPE in name]
    for dirpath, dirnames, names in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in (".venv", ".git", "node_modules")]
        found += [Path(dirpath) / n for n in names if ESCAPE in n]
    return found


def replied(telegram: TelegramStandin, item: Sent) -> bool:
    """A reply to it that is not a "Queued" or "Waiting for a slot" notice (those are no answer yet),
    or the bot's reaction on it (/stop's answer when it stopped a turn)."""
    return any(
        m.reply_to_message_id == item.ref and not (m.text or "").startswith("⏳")
        for m in telegram.bot_messages(item.chat, include_deleted=False)
    ) or any(m.message_id == item.ref and m.reactions for m in telegram.user_messages(item.chat))


def exchange(telegram: TelegramStandin, chat: int) -> str:
    """The chat as it stands, for a failure's report: who said what, and what answered what."""
    lines = []
    for m in telegram.user_messages(chat):
        said = str(m.json.get("text") or m.json.get("caption") or "[file]")[:40]
        lines.append((m.message_id, f"user {m.user_id} #{m.message_id}: {said!r}"))
    for b in telegram.bot_messages(chat, include_deleted=True):
        gone = " [deleted]" if b.deleted else ""
        lines.append((b.message_id, f"  bot #{b.message_id} reply to {b.reply_to_message_id}{gone}: {(b.text or '')[:60]!r}"))
    return "\n".join(line for _, line in sorted(lines))


def answered(telegram: TelegramStandin, claude_api: MessagesStandin, item: Sent, sent: list[Sent]) -> bool:
    """Answered for good. A text sent right after a long paste joins the paste's turn (one intent, one
    prompt; a photo sent then joins it too, adding an image block): Claude's finished answer to that
    turn answers it, and so does the paste's own answer when that turn ended otherwise (cancelled by
    /new, stopped)."""
    if item.kind == "button":
        return str(item.ref) in telegram.callback_answers()
    if replied(telegram, item):
        return True
    text = (item.text or "").strip()
    if not text:
        return False
    if any(r.finished and r.prompt_texts and f"\n{text}" in r.prompt_texts[0] for r in claude_api.main_requests()):
        return True
    before = [s for s in sent[: sent.index(item)] if s.chat == item.chat and s.user == item.user and s.kind == "message"]
    paste = next((s for s in reversed(before) if len(s.text or "") >= PASTE_PART), None)
    return paste is not None and replied(telegram, paste)


async def test_hundreds_of_bad_inputs(bot: BotProcess, telegram: TelegramStandin, claude_api: MessagesStandin) -> None:
    rng = random.Random(SEED)
    (bot.work_dir / "sub").mkdir(parents=True)
    (bot.work_dir / "sub" / "inner.txt").write_text("inner\n")
    (bot.work_dir / "ok.txt").write_text("fine to send\n")
    outside = bot.tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (bot.tmp / "secret.txt").write_text(SECRET)
    (bot.work_dir / "link-out").symlink_to(outside / "secret.txt")
    (bot.work_dir / "dir-out").symlink_to(outside)
    await bot.start()
    allowed_places = [bot.session_dir, bot.work_dir, bot.home, bot.claude_home]  # claude_home: Claude Code's HOME in its box
    before = files_under(bot.tmp)
    # A first answer in every chat, so there are messages whose buttons can be pressed with forged data.
    places = [(chat, {}) for chat in PRIVATE] + [(GROUP, {"chat_type": "group"}), (-100951, dict(FORUM))]
    for chat, where in places:
        telegram.user_message(chat, OWNER, "/sessions", **where)
    await telegram.wait_for(lambda: all(telegram.bot_messages(chat, where.get("thread_id", ...)) for chat, where in places))

    fuzz = Fuzzer(telegram, rng)
    for _ in range(INPUTS):
        fuzz.one(STRANGER if rng.random() < 0.15 else rng.choice([OWNER, FRIEND]))
    allowed = [item for item in fuzz.sent if item.user != STRANGER]
    strangers = [item for item in fuzz.sent if item.user == STRANGER]
    assert len(allowed) > 200 and len(strangers) > 20

    try:
        await telegram.wait_for(lambda: all(answered(telegram, claude_api, item, fuzz.sent) for item in allowed), timeout=240)
    except TimeoutError:
        missing = [item for item in allowed if not answered(telegram, claude_api, item, fuzz.sent)]
        report = exchange(telegram, missing[0].chat)
        pytest.fail(f"{len(missing)} of {len(allowed)} inputs got no answer, e.g. {missing[:5]}\n{report}")
    assert bot.process is not None and bot.process.returncode is None
    await ask(telegram, OWNER, "still fine", "echo: still fine")  # the bot is up and answering

    # Strangers: one refusal in their private chat, nothing else anywhere, nothing to Claude or disk.
    assert [m.text for m in telegram.bot_messages(STRANGER)] == ["Sorry, this is a private bot."]
    for item in strangers:
        if item.kind == "message" and item.chat != STRANGER:
            assert not [m for m in telegram.bot_messages(item.chat) if m.reply_to_message_id == item.ref]
    sent_to_claude = " ".join(text for r in claude_api.requests for text in r.user_texts)
    assert not [word for word in fuzz.stranger_words if word in sent_to_claude]
    assert not (bot.session_dir / f"{STRANGER}.json").exists()

    # Nothing from outside ALLOWED_PATHS was sent back; nothing was written outside the allowed places.
    for chat in [*PRIVATE, GROUP, -100951]:
        for message in telegram.bot_messages(chat):
            assert SECRET not in (message.text or "") + (message.caption or "")
            assert message.document is None or SECRET.encode() not in message.document[1]
    new = files_under(bot.tmp) - before
    stray = [p for p in new if not any(p.is_relative_to(place) for place in allowed_places)]
    assert stray == [], stray
    assert escaped_files() == []
    assert telegram.internal_errors == []
    assert telegram.errors() == []  # the bot never sent Telegram anything it refuses (nor too fast)
