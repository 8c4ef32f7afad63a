import re

from bot.util.text import MESSAGE_LIMIT as MAX_TEXT, counted, esc, split_text


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_split_text_respects_the_limit_in_code_points() -> None:
    assert split_text("short") == ["short"]
    assert split_text("   ") == []
    lines = "\n".join(f"line {i:04d}" for i in range(1000))
    parts = split_text(lines, 100)
    assert all(len(part) <= 100 for part in parts)
    assert "\n".join(parts) == lines  # broken at newlines, nothing lost
    emoji = "😀" * 5000  # two UTF-16 units each, but one character to Telegram's limit
    parts = split_text(emoji)
    assert [len(part) for part in parts] == [4096, 904] and "".join(parts) == emoji


def test_split_text_lines_and_overlong_lines():
    text = "\n".join(f"row {i}" for i in range(2000)) + "\n" + "z" * 9000
    parts = split_text(text)
    assert all(0 < len(p) <= MAX_TEXT for p in parts)
    assert squash("".join(parts)) == squash(text)
    # Lines are never cut, only the over-long one is.
    for part in parts:
        for line in part.split("\n"):
            assert line.startswith("row ") or set(line) == {"z"}
    assert split_text("") == []
    assert split_text("short") == ["short"]


def test_split_text_counts_astral_characters_once():
    parts = split_text("a🎉" * 3000, limit=100)
    assert all(len(p) == 100 for p in parts)
    assert "".join(parts) == "a🎉" * 3000


def test_esc():
    assert esc('<a href="x">&</a>') == '&lt;a href="x"&gt;&amp;&lt;/a&gt;'


def test_a_count_names_its_noun_in_the_singular_only_for_one() -> None:
    assert [counted(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
