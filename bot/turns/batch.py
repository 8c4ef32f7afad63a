"""One intent, one prompt: messages that belong together reach Claude as one turn."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from bot.sessions.session import Turn


def merge(turns: list[Turn], separator: str = "\n\n") -> Turn:
    """One turn holding every prompt (in order) and every image; answered in reply to the first.

    It keeps the first turn's id, lists the turns it holds in ``merged`` and answers all of their
    inbox entries (each is settled once the one answer is shown).
    """
    first = turns[0]
    if len(turns) == 1:
        return first
    return replace(
        first,
        prompt=separator.join(turn.prompt for turn in turns if turn.prompt),
        images=[image for turn in turns for image in turn.images],
        merged=list(turns),
        inbox=[accepted for turn in turns for accepted in turn.inbox],
    )


def take_batch(queue: deque[Turn]) -> Turn:
    """Pop the next turn with every turn waiting right behind it from the same chat and person, as one turn.

    The turns after the first (``merged[1:]``) are then done with: their answer is the first one's.
    Turns from another chat or person (a shared session) stay queued: their answer belongs
    elsewhere, or their speaker differs; so do turns that ran in another turn before a restart.
    """
    first = queue.popleft()
    turns = [first]
    while queue and queue[0].key == first.key and queue[0].user_id == first.user_id and ran_with(queue[0]) == ran_with(first):
        turns.append(queue.popleft())
    return merge(turns)


def ran_with(turn: Turn) -> str | None:
    """For a message carried on after a restart: the turn it went to Claude with before (its batch); None for
    one that never ran. Messages go on with exactly the turn they ran in, never merged into another."""
    first = turn.inbox[0] if turn.inbox else None
    return first.batch if first is not None and first.runs > 0 else None
