"""The records the stand-in keeps and exposes to tests: calls, bot and user messages, chats, files, faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.standins.telegram.entities import Entity


@dataclass
class Call:
    """One HTTP request the bot made, and how the stand-in answered it."""

    method: str  # canonical camelCase name when known, else as requested
    params: dict[str, Any]  # decoded: ints as int, JSON fields parsed, uploads summarised
    ok: bool
    error_code: int | None
    description: str | None
    at: float  # time.monotonic() when the request arrived
    result: Any = None
    flood_violation: bool = False  # arrived inside a retry_after window this stand-in imposed

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    def __str__(self) -> str:
        brief = {k: v for k, v in self.params.items() if k in ("chat_id", "message_id", "message_thread_id")}
        if "text" in self.params:
            text = str(self.params["text"])
            brief["text"] = text if len(text) <= 60 else text[:57] + "..."
        status = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"{self.method}({brief}) -> {status}"


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits and deletion applied)."""

    message_id: int
    chat_id: int
    thread_id: int | None
    text: str | None  # plain text as the user sees it (entities stripped); None for media
    raw_text: str | None  # exactly what the bot sent
    parse_mode: str | None
    entities: list[Entity]
    reply_markup: dict[str, Any] | None
    date: int
    edits: int = 0
    deleted: bool = False
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    caption: str | None = None  # plain caption text
    caption_entities: list[Entity] = field(default_factory=list)
    reply_to_message_id: int | None = None
    history: list[str] = field(default_factory=list)  # text (or caption) after each send/edit
    edit_date: int | None = None
    file_id: str | None = None

    @property
    def visible_text(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class UserMessage:
    """A message a simulated user sent (kept so replies, reactions and threads can be checked)."""

    message_id: int
    chat_id: int
    thread_id: int | None
    user_id: int
    json: dict[str, Any]
    deleted: bool = False
    reactions: list[Any] = field(default_factory=list)


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def as_json(self, **fields: Any) -> dict[str, Any]:
        """The file as the Bot API shows it; a Document, PhotoSize or File adds its own fields."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content), **fields}

    def document_json(self) -> dict[str, Any]:
        return self.as_json(file_name=self.file_name, mime_type=self.mime_type)


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    first_name: str | None = None
    next_message_id: int = 1
    threads: set[int] = field(default_factory=set)  # known topics (General is implicit)
    topic_names: dict[int, str] = field(default_factory=dict)
    blocked: bool = False
    member: bool = True  # the bot is in the chat (leaveChat ends that)
    migrated_to: int | None = None  # a group upgraded to this supergroup
    reactions_allowed: bool = True  # False: the group's admins turned reactions off

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or "Tester"
            if self.username:
                out["username"] = self.username
        else:
            out["title"] = self.title or f"Chat {self.id}"
            if self.username:
                out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _Fault:
    method: str | None  # lower-case method name; None = any sending method
    remaining: int
    error_code: int
    retry_after: int
    description: str | None


@dataclass
class _Upload:
    filename: str
    content: bytes
    content_type: str | None
