import json
import stat
from pathlib import Path

from bot.sessions.keys import ChatKey
from bot.turns.mirror import drain_mirrored, format_mirrored, mirror_path, record_mirrored

A, B = ChatKey(1), ChatKey(-100, 7)


def test_record_drain_format_round_trip(tmp_path: Path) -> None:
    record_mirrored(tmp_path, B, "backup done", "cron", at=200)
    record_mirrored(tmp_path, A, "disk at 91%", "monitor", at=100)
    record_mirrored(tmp_path, ChatKey(3), "not ours", "cron", at=150)
    assert stat.S_IMODE((tmp_path / "mirror").stat().st_mode) == 0o700
    assert stat.S_IMODE(mirror_path(tmp_path, B).stat().st_mode) == 0o600
    assert json.loads(mirror_path(tmp_path, B).read_text()) == {
        "text": "backup done", "source": "cron", "at": 200, "chat": "-100_7"
    }
    messages = drain_mirrored(tmp_path, [B, A, ChatKey(4)])
    assert [(m.text, m.source, m.chat) for m in messages] == [("disk at 91%", "monitor", A), ("backup done", "cron", B)]
    assert drain_mirrored(tmp_path, [A, B]) == []  # taken once
    assert [m.text for m in drain_mirrored(tmp_path, [ChatKey(3)])] == ["not ours"]
    text = format_mirrored(messages)
    assert text.startswith("[Messages you (the assistant) sent to this chat since the last turn:]\n")
    assert "[via monitor at " in text and "in chat 1]\ndisk at 91%\n" in text
    assert text.index("disk at 91%") < text.index("backup done")
    assert text.endswith("backup done\n[End of earlier messages]\n")
    assert format_mirrored([]) == ""


def test_drain_skips_malformed_lines(tmp_path: Path) -> None:
    record_mirrored(tmp_path, A, "one", "x", at=1)
    with mirror_path(tmp_path, A).open("a") as handle:
        handle.write("{broken\n")
    record_mirrored(tmp_path, A, "two\nlines\u2028and a separator", "x", at=2)
    assert [m.text for m in drain_mirrored(tmp_path, [A])] == ["one", "two\nlines\u2028and a separator"]
