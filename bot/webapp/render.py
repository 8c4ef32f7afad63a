"""A change as the page shows it: files, hunks and numbered lines, each line's HTML highlighted here.

Large files come folded (the page opens them on a tap) and, past a limit, without their lines: a
phone should not be sent a generated file of fifty thousand lines; such a file can still be reverted
or committed whole.
"""

from __future__ import annotations

from typing import Any

from bot.webapp.highlight import highlight
from bot.webapp.patches import HUNK, Change, FilePatch

FOLD_LINES = 200  # changed lines above which a file comes folded
MAX_FILE_LINES = 3000  # lines (of its hunks) above which a file comes without them
MAX_TOTAL_LINES = 20_000  # lines of the whole page; later files come without theirs


def change_json(change: Change, kind: str, title: str, settled: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`settled`: files of a turn that are as the last commit has them now (reverted, or committed since)."""
    budget = MAX_TOTAL_LINES
    files = []
    for patch in change.files:
        shown = _file_json(patch, budget) | {"settled": patch.path in settled}
        budget -= sum(len(h["lines"]) for h in shown["hunks"])
        files.append(shown)
    return {"kind": kind, "base": change.base, "head": change.head, "title": title, "files": files}


def _file_json(patch: FilePatch, budget: int) -> dict[str, Any]:
    size = sum(hunk.count("\n") - 1 for hunk in patch.hunks)  # each hunk's lines, not its @@ header
    changed = (patch.added or 0) + (patch.removed or 0)
    out: dict[str, Any] = {
        "path": patch.path, "id": patch.id, "status": patch.status, "binary": patch.binary,
        "added": patch.added, "removed": patch.removed, "folded": changed > FOLD_LINES, "hunks": [], "omitted": None,
    }
    if patch.binary:
        return out
    if size > min(MAX_FILE_LINES, budget):
        out["omitted"] = f"{size} lines: too large to show here; it can still be reverted or committed whole."
        out["folded"] = True
        return out
    out["hunks"] = [_hunk_json(patch.path, hunk, hunk_id) for hunk, hunk_id in zip(patch.hunks, patch.hunk_ids())]
    return out


def _hunk_json(path: str, hunk: str, hunk_id: str) -> dict[str, Any]:
    head, _, body = hunk.partition("\n")
    match = HUNK.match(head)
    old = int(match.group(1)) if match else 0
    new = int(match.group(3)) if match else 0
    rows = [line for line in body.split("\n")[:-1] if line[:1] in (" ", "+", "-")]  # "\ No newline…" aside
    old_side = highlight(path, [line[1:] for line in rows if line[0] != "+"])
    new_side = highlight(path, [line[1:] for line in rows if line[0] != "-"])
    lines: list[list[Any]] = []
    o = n = 0
    for line in rows:
        kind = line[0]
        if kind == "-":
            lines.append(["-", old + o, None, old_side[o]])
            o += 1
        elif kind == "+":
            lines.append(["+", None, new + n, new_side[n]])
            n += 1
        else:
            lines.append([" ", old + o, new + n, new_side[n]])
            o += 1
            n += 1
    return {"id": hunk_id, "header": head, "context": match.group(5).strip() if match else "", "lines": lines}
