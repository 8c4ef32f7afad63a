"""Claude Code in a box: one launcher, interchangeable confinements (issue 18; no aiogram here).

`Confinement.wrap(argv)` turns a command into the same command run confined: `Bubblewrap` (mount and
pid namespaces: only the system read-only, the workspaces and Claude's own state writable), `OwnUser`
(setpriv to an unprivileged user: file modes and the kernel keep it from the bot's files and process),
`Stacked` (both), `Unconfined`. A container runtime or another machine is one more class.
`choose.open_box` picks one at start; `Box` is what the rest of the bot uses.
"""

from bot.confine.box import Box
from bot.confine.choose import CHOICES, BoxRefused, Wanted, open_box
from bot.confine.confinement import Bubblewrap, Confinement, OwnUser, Stacked, Unconfined
from bot.confine.layout import BoxUser, Layout

__all__ = [
    "CHOICES", "Box", "BoxRefused", "BoxUser", "Bubblewrap", "Confinement", "Layout", "OwnUser", "Stacked",
    "Unconfined", "Wanted", "open_box",
]
