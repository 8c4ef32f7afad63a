"""Text from outside the conversation, delimited so it cannot pass for a turn or for the bot's own labels.

Mirrored `notify` messages and the speaker line of a shared session carry text the user of this
chat did not write (a CI job's output, a group title, a display name). They reach Claude inside
labelled tags whose contents are escaped, so no text can close a tag, open another, or look like
the bot's own framing; a source is one short word.
"""

from __future__ import annotations

import re

SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
DEFAULT_SOURCE = "notify"


def safe_source(source: str) -> str:
    return source if SOURCE.match(source) else DEFAULT_SOURCE


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    """One line: line breaks and other control characters become spaces; quotes and brackets escaped."""
    value = "".join(" " if ord(c) < 32 or c in "\u2028\u2029\x7f" else c for c in value)
    return escape_text(" ".join(value.split())).replace('"', "&quot;")
