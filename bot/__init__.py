"""Claude Code in every Telegram chat: the core (no aiogram types outside rendering and sending)."""

__version__ = "0.1.0"
