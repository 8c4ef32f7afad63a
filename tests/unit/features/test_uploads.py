"""Uploads: streamed to disk with a size bound, never outside ALLOWED_PATHS."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.features.files import BoundedWriter, FileTransfers, Upload
from bot.sessions.keys import ChatKey
from bot.sessions.session import Turn
from bot.turns.addressing import file_note

KEY = ChatKey(1)


class Fakes:
    def __init__(self, directory: Path) -> None:
        self.session = SimpleNamespace(working_dir=directory)
        self.said: list[str] = []
        self.submitted: list[Turn] = []

    async def for_chat(self, key: ChatKey, title: str = "") -> Any:
        return self.session

    async def send_text(self, key: ChatKey, text: str, **kwargs: Any) -> int:
        self.said.append(text)
        return 1

    async def submit(self, session: Any, turn: Turn) -> None:
        self.submitted.append(turn)


class Receiving:
    """FileTransfers as the intake uses it: the turn it makes from an upload is what would be submitted."""

    def __init__(self, fakes: Fakes, roots: list[Path], limit: int) -> None:
        self.fakes = fakes
        self.files = FileTransfers(manager=fakes, outboxes=fakes, roots=roots, max_upload_bytes=limit)  # type: ignore[arg-type]

    async def receive(self, turn: Turn, upload: Upload) -> None:
        if (ready := await self.files.receive(turn, upload)) is not None:
            await self.fakes.submit(None, ready)


def transfers(fakes: Fakes, roots: list[Path], limit: int) -> Receiving:
    return Receiving(fakes, roots, limit)


def chunks(*parts: bytes):  # type: ignore[no-untyped-def]
    async def download(destination: BoundedWriter) -> None:
        for part in parts:
            destination.write(part)
            destination.flush()

    return download


async def test_a_download_larger_than_allowed_stops_and_leaves_nothing(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path)
    upload = Upload(name="big.bin", size=None, download=chunks(b"x" * 600, b"x" * 600))  # Telegram gave no size
    await transfers(fakes, [tmp_path], 1000).receive(Turn(key=KEY, prompt=""), upload)
    assert list(tmp_path.iterdir()) == [] and fakes.submitted == []
    assert fakes.said == ["That file is too large; the bot takes files up to 0.0 MB."]


async def test_an_upload_is_written_as_it_arrives_with_mode_0600(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path)
    await transfers(fakes, [tmp_path], 1000).receive(Turn(key=KEY, prompt="hi"), Upload(name="a.txt", size=6, download=chunks(b"abc", b"def")))
    assert (tmp_path / "a.txt").read_bytes() == b"abcdef" and (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o600
    assert fakes.submitted[0].prompt == "hi\n\n" + file_note("a.txt", 6)


async def test_no_upload_into_a_directory_outside_allowed_paths_or_under_dot_claude(tmp_path: Path) -> None:
    inside, outside = tmp_path / "work", tmp_path / "other"
    (inside / ".claude").mkdir(parents=True)
    outside.mkdir()
    for directory, words in ((outside, "outside the allowed directories"), (inside / ".claude", "holds Claude Code's settings")):
        fakes = Fakes(directory)
        await transfers(fakes, [inside], 1000).receive(Turn(key=KEY, prompt=""), Upload(name="x.txt", size=1, download=chunks(b"x")))
        assert words in fakes.said[0] and list(directory.iterdir()) == []
