"""How the core's chat-view protocols (bot/chat.py) look in Telegram: texts, buttons, live replies."""
