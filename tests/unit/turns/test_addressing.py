"""How a message reads to Claude (bot/turns/addressing.py)."""

from bot.turns.addressing import QUOTE_CHARS, with_quote, without_spans


def test_mention_span_removed_in_utf16_units():
    text = "😀 @claude_test_bot fix it @alice_dev"
    assert without_spans(text, [(3, 16)]) == "😀 fix it @alice_dev"


def test_mention_alone_on_a_line_keeps_the_other_lines():
    assert without_spans("@bot_name\nline two", [(0, 9)]) == "line two"


def test_quote_is_short_and_on_one_line():
    quoted = "word " * 200
    text = with_quote("why?", quoted, "your earlier message")
    head, prompt = text.split("\n")
    assert prompt == "why?" and head.startswith("[Replying to your earlier message: “word word")
    assert len(head) < QUOTE_CHARS + 60 and head.endswith("…”]")
