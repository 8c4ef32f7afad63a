"""The page's JSON: numbered lines with their highlighted HTML, large files folded, huge ones left out."""

from __future__ import annotations

from pathlib import Path

from bot.webapp import render
from bot.webapp.patches import Change, FilePatch


def _file(path: str, lines: int) -> FilePatch:
    body = "".join(f"+<line {n}>\n" for n in range(lines))
    return FilePatch(path, lines, 0, f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n",
                     (f"@@ -0,0 +1,{lines} @@\n{body}",))


def test_small_files_come_open_large_ones_folded_and_huge_ones_without_their_lines() -> None:
    change = Change(Path("/r"), "a", "b", (_file("small.txt", 3), _file("large.txt", render.FOLD_LINES + 1),
                                          _file("huge.txt", render.MAX_FILE_LINES + 1)))
    small, large, huge = render.change_json(change, "turn", "t")["files"]
    assert (small["folded"], large["folded"], huge["folded"]) == (False, True, True)
    assert small["hunks"][0]["lines"][0] == ["+", None, 1, "&lt;line 0&gt;"]  # every character escaped
    assert len(large["hunks"][0]["lines"]) == render.FOLD_LINES + 1
    assert huge["hunks"] == [] and huge["omitted"].startswith(f"{render.MAX_FILE_LINES + 1} lines: too large to show here")
