"""The renderer's rules from issue 10: what Claude writes reaches the chat with nothing lost or hidden."""

from telegramify_markdown import utf16_len

from bot.telegram.render import MAX_ENTITIES, render_markdown, split_rendered, url_accepted
from bot.telegram.tables import PHONE_WIDTH, display_width
from tests.unit.telegram.test_render import assert_valid, entity_text


def one(md: str):
    [part] = render_markdown(md)
    return part


def test_dollar_signs_stay():
    for md in ("echo $HOME/$USER", "$5 a month, $10 a year", "cost $x$ and $y$"):
        part = one(md)
        assert part.text == md and part.entities == []


def test_double_bars_stay_and_hide_nothing():
    for md in ("a || b", "true || false", "x ||secret|| y"):
        part = one(md)
        assert part.text == md and part.entities == []


def test_single_tilde_is_approximately_not_strikethrough():
    part = one("about ~5 min ~ not long, ~~gone~~")
    assert part.text == "about ~5 min ~ not long, gone"
    assert [(e.type, entity_text(part, e)) for e in part.entities] == [("strikethrough", "gone")]


def test_refused_link_keeps_text_shows_url_and_the_rest_keeps_formatting():
    part = one("see [the app](http://localhost:PORT/x), **bold**, [tpl](${HOST}/a) and [ok](https://example.com)")
    assert part.text == "see the app (http://localhost:PORT/x), bold, tpl (${HOST}/a) and ok"
    kinds = [(e.type, entity_text(part, e), e.url) for e in part.entities]
    assert kinds == [("bold", "bold", None), ("text_link", "ok", "https://example.com")]


def test_autolink_with_refused_url_is_not_doubled():
    assert one("<http://localhost:PORT>").text == "http://localhost:PORT"


def test_link_inside_bold_keeps_the_bold_around_its_url():
    part = one("**[x](bad)** tail")
    assert part.text == "x (bad) tail"
    [bold] = part.entities
    assert entity_text(part, bold) == "x (bad)"


def test_url_acceptance_matches_telegram():
    assert url_accepted("https://example.com/a?b#c") and url_accepted("http://localhost:8080/x")
    assert url_accepted("tg://user?id=1")
    for url in ("bot/keys.py", "http://localhost:PORT", "${HOST}/x", "https://${HOST}/x", "mailto:a@b.c", "file:///etc"):
        assert not url_accepted(url), url


def test_task_items_open_and_done_differ():
    part = one("- [ ] open\n- [x] done")
    assert part.text.splitlines() == ["⬜ open", "✅ done"]


def test_tabs_in_code_become_spaces():
    part = one("```go\nfunc f() {\n\treturn\n}\n```\n\nand `a\tb`")
    assert "\t" not in part.text
    assert "    return" in part.text and "a   b" in part.text


def test_code_language_is_its_first_word():
    part = one("```python title=x.py\nprint(1)\n```")
    [pre] = part.entities
    assert pre.language == "python"


def test_at_most_100_entities_per_message_least_useful_dropped_first():
    md = " ".join(f"*i{i}* **b{i}**" for i in range(80))
    [part] = render_markdown(md)
    assert len(part.entities) == MAX_ENTITIES
    assert sum(e.type == "bold" for e in part.entities) == 80  # italic goes first
    assert part.text == " ".join(f"i{i} b{i}" for i in range(80))


def test_more_than_100_links_split_the_message_and_keep_every_url():
    md = "\n".join(f"[l{i}](https://e.com/{i})" for i in range(250))
    parts = render_markdown(md)
    assert_valid(parts)
    urls = [e.url for p in parts for e in p.entities]
    assert urls == [f"https://e.com/{i}" for i in range(250)]


def test_split_rendered_caps_entities():
    from aiogram.types import MessageEntity

    text = "x" * 300
    ents = [MessageEntity(type="italic", offset=i, length=1) for i in range(150)]
    [part] = split_rendered(text, ents)
    assert len(part.entities) == MAX_ENTITIES


def test_table_aligned_by_display_width():
    part = one("| name | n |\n|---|---|\n| 日本語 | 1 |\n| 😀 | 22 |\n| abc | 3 |")
    [pre] = part.entities
    lines = entity_text(part, pre).splitlines()
    bars = {display_width(line.split("|")[0]) for line in lines if "|" in line}
    assert len(bars) == 1  # every "|" sits in the same screen column
    assert lines[1].startswith("-")


def test_wide_table_becomes_one_block_per_row():
    wide = "x" * PHONE_WIDTH
    part = one(f"| file | note |\n|---|---|\n| a.py | {wide} |\n| b.py | short |")
    assert part.entities == []
    assert part.text == f"file: a.py\nnote: {wide}\n\nfile: b.py\nnote: short"


def test_long_table_repeats_its_header_in_every_message():
    rows = "\n".join(f"| r{i} | {i} |" for i in range(1500))
    parts = render_markdown(f"| key | val |\n|---|---|\n{rows}")
    assert_valid(parts)
    assert len(parts) > 1
    for part in parts:
        pres = [entity_text(part, e) for e in part.entities if e.type == "pre"]
        assert pres and all(p.splitlines()[0].startswith("key") for p in pres)
    body = [line for p in parts for line in p.text.splitlines() if line.startswith("r")]
    assert body == [f"r{i}".ljust(5) + f" | {i}" for i in range(1500)]


def test_length_counts_code_points_offsets_utf16():
    part = one("😀" * 10 + " **b**")
    [bold] = part.entities
    assert bold.offset == utf16_len("😀" * 10 + " ")
    parts = render_markdown("😀" * 4096)
    assert len(parts) == 1
