"""Claude Code in every Telegram chat: the core (no aiogram types outside rendering and sending)."""
