import re

import pytest
from telegramify_markdown import convert, utf16_len

from bot.telegram.render import (
    MAX_TEXT,
    Rendered,
    plan_reply,
    render_markdown,
)


def assert_valid(parts: list[Rendered], limit: int = MAX_TEXT) -> None:
    """What Telegram checks: text fits (code points), is not blank, and every entity lies inside it (UTF-16)."""
    for part in parts:
        assert 0 < len(part.text) <= limit
        assert part.text.strip()
        assert len(part.entities) <= 100
        size = utf16_len(part.text)
        for entity in part.entities:
            assert entity.length > 0 and entity.offset >= 0
            assert entity.offset + entity.length <= size


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def entity_text(part: Rendered, entity) -> str:
    data = part.text.encode("utf-16-le")
    return data[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")


def test_html_special_characters_come_through_literally():
    [part] = render_markdown("a < b && c > d & e; use List<String> and <div> here")
    assert part.text == "a < b && c > d & e; use List<String> and <div> here"
    assert part.entities == []


def test_raw_html_block_is_shown_not_dropped():
    [part] = render_markdown("<div>\n<span>hello</span>\n</div>\n\nafter")
    assert "<div>" in part.text and "<span>hello</span>" in part.text and "after" in part.text


def test_code_fence_with_html_inside():
    [part] = render_markdown("Look:\n\n```html\n<b>x</b> &amp; <i>\n```\n")
    [pre] = [e for e in part.entities if e.type == "pre"]
    assert pre.language == "html"
    assert entity_text(part, pre) == "<b>x</b> &amp; <i>"


def test_heading_and_bold():
    [part] = render_markdown("# Title\n\nSome **bold** text")
    bold = [entity_text(part, e) for e in part.entities if e.type == "bold"]
    assert bold == ["Title", "bold"]
    assert part.text.endswith("Some bold text")


def test_blank_input_gives_nothing_and_any_text_gives_something():
    assert render_markdown("") == []
    assert render_markdown("  \n\t ") == []
    # Link definitions alone render to nothing; the source is shown instead.
    assert [p.text for p in render_markdown("[ref]: https://example.com")] == ["[ref]: https://example.com"]


def test_only_real_urls_become_links():
    [part] = render_markdown("[keys](bot/keys.py) and [site](https://example.com)")
    assert part.text == "keys (bot/keys.py) and site"
    assert [(e.type, e.url) for e in part.entities] == [("text_link", "https://example.com")]


def test_emoji_offsets_are_utf16():
    [part] = render_markdown("😀 **bold**")
    [bold] = part.entities
    assert (bold.offset, bold.length) == (3, 4)


def test_long_reply_splits_into_valid_chunks_without_losing_text():
    paragraphs = [f"Paragraph {i}: " + "word " * 60 + f"**end {i}**" for i in range(32)]
    md = "\n\n".join(paragraphs)
    assert len(md) > 10_000
    parts = render_markdown(md)
    assert len(parts) >= 3
    assert_valid(parts)
    full, _ = convert(md)
    assert squash("".join(p.text for p in parts)) == squash(full)
    # Splits fall between paragraphs, so every chunk starts a paragraph.
    assert all(p.text.startswith("Paragraph") for p in parts)


def test_splits_prefer_paragraph_breaks_over_line_breaks():
    paragraphs = ["\n".join(f"P{i} line {j} " + "x" * 60 for j in range(8)) for i in range(20)]
    parts = render_markdown("\n\n".join(paragraphs))
    assert len(parts) >= 3
    assert all(p.text.startswith("P") and " line 0 " in p.text.split("\n")[0] for p in parts)


def test_code_block_crossing_a_split_is_closed_and_reopened():
    lines = [f"    value_{i} = compute({i})  # line {i}" for i in range(150)]
    md = "Intro " + "text " * 400 + "\n\n```python\n" + "\n".join(lines) + "\n```\n\nDone."
    parts = render_markdown(md)
    assert_valid(parts)
    with_code = [p for p in parts if any(e.type == "pre" for e in p.entities)]
    assert len(with_code) >= 2
    shown = []
    for part in with_code:
        for pre in (e for e in part.entities if e.type == "pre"):
            assert pre.language == "python"
            shown += entity_text(part, pre).strip("\n").split("\n")
    assert [line.strip() for line in shown] == [line.strip() for line in lines]
    assert parts[-1].text.endswith("Done.")


def test_code_block_longer_than_a_message_splits_at_line_boundaries():
    lines = [f"line {i:05d} " + "x" * 50 for i in range(200)]
    md = "```\n" + "\n".join(lines) + "\n```"
    parts = render_markdown(md)
    assert len(parts) >= 3
    assert_valid(parts)
    for part in parts:
        [pre] = part.entities
        assert (pre.offset, pre.length) == (0, utf16_len(part.text))
        assert all(line in lines for line in part.text.split("\n"))
    assert "\n".join(p.text for p in parts) == "\n".join(lines)


def test_emoji_text_is_measured_in_code_points():
    parts = render_markdown("😀" * 5000)
    assert_valid(parts)
    assert [len(p.text) for p in parts] == [MAX_TEXT, 5000 - MAX_TEXT]
    assert "".join(p.text for p in parts) == "😀" * 5000


def test_limit_parameter():
    parts = render_markdown("\n\n".join(f"para {i} " + "y" * 80 for i in range(40)), limit=500)
    assert len(parts) > 5
    assert_valid(parts, 500)


def test_short_reply_plan_has_messages_only():
    plan = plan_reply("Hello **there**")
    assert plan.document is None
    assert [p.text for p in plan.messages] == ["Hello there"]


@pytest.mark.parametrize("max_chunks", [1, 4])
def test_very_long_reply_becomes_preview_and_document(max_chunks):
    md = "\n\n".join(f"## Section {i}\n\n" + "lorem ipsum " * 100 for i in range(25))
    assert len(render_markdown(md)) > max_chunks
    plan = plan_reply(md, max_chunks=max_chunks)
    assert plan.document == ("reply.md", md.encode("utf-8"))
    [preview] = plan.messages
    assert_valid([preview])
    assert utf16_len(preview.text) <= 1700
    assert preview.text.startswith("✏ Section 0")
    assert preview.text.endswith("attached as reply.md.")


def test_reply_fitting_max_chunks_is_not_a_document():
    md = "\n\n".join("text " * 150 for _ in range(12))
    count = len(render_markdown(md))
    assert 1 < count
    assert plan_reply(md, max_chunks=count).document is None
    assert plan_reply(md, max_chunks=count - 1).document is not None


def test_blank_plan():
    plan = plan_reply(" \n")
    assert plan.messages == [] and plan.document is None


# -- the last exact-text defects (issue 19) ---------------------------------------------


@pytest.mark.parametrize("reply", ["\u200b", "\u2800\u2800", " \u200b\n\u2800 ", "\ufeff\u200d"])
def test_a_reply_of_only_invisible_characters_is_said_visibly(reply):
    from bot.telegram.render import plan_reply, telegram_blank

    [shown] = plan_reply(reply).messages
    assert not telegram_blank(shown.text) and "invisible characters" in shown.text
    assert all(f"U+{ord(c):04X}" in shown.text for c in set(reply) if not c.isspace())
    assert render_markdown(reply)[0].text == shown.text


def test_invisible_characters_inside_a_real_reply_are_kept():
    from bot.telegram.render import telegram_blank

    [part] = render_markdown("a\u200bb \u2800")
    assert part.text == "a\u200bb \u2800" and not telegram_blank(part.text)


def test_a_lone_surrogate_becomes_a_replacement_character_and_a_split_pair_joins():
    [cut] = render_markdown("**cut** inside an emoji \ud83d")
    assert cut.text == "cut inside an emoji \ufffd" and cut.text.encode("utf-8")
    assert [(e.type, e.offset, e.length) for e in cut.entities] == [("bold", 0, 3)]
    [joined] = render_markdown("ok \ud83d\ude00 *fine*")
    assert joined.text == "ok \U0001F600 fine" and joined.entities[0].offset == 6  # UTF-16: the emoji is two units


@pytest.mark.parametrize("md", ["__**x**__ y", "## **All bold**", "**a **b** c**", "# **x** " + "word " * 1200])
def test_an_entity_appears_once_per_part(md):
    for part in render_markdown(md):
        kinds = [(e.type, e.offset, e.length) for e in part.entities]
        assert len(kinds) == len(set(kinds))
        bold = sorted((e.offset, e.offset + e.length) for e in part.entities if e.type == "bold")
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(bold, bold[1:]))  # no two overlap


def test_an_entity_across_a_split_is_in_each_part_once():
    parts = render_markdown("**" + "strong words here " * 400 + "end**")
    assert len(parts) >= 2
    for part in parts:
        assert [e.type for e in part.entities] == ["bold"]
