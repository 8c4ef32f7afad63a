"""Claude Code in every Telegram chat. The core lives here; only bot/telegram/, the composition root (app.py, __main__.py) and handlers/ know aiogram."""

__version__ = "0.1.0"
