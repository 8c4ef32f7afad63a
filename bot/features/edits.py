"""Edited messages: a still-queued one changes what Claude gets (TurnScheduler.edit_queued); one Claude
already has gets this line and a button to send the edited text as a new message."""

ALREADY_SENT = "Claude already has the earlier version of this message."
RESEND_BUTTON = "Send the edited text"
