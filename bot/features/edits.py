"""What an edit of a message Claude already has is answered with (bot.turns.intake decides whether it still waits)."""

ALREADY_SENT = "Claude already has the earlier version of this message."
RESEND_BUTTON = "Send the edited text"
RESENT = ALREADY_SENT + " The edited text was sent as a new message."
