"""Telegram itself: the Bot API client, the gated update intake (polling and webhook), the paced per-chat outbox,
rendering Claude's Markdown, downloads, and the chat views that implement bot/chat.py.

The only package in ``bot/`` (besides the composition root) that imports aiogram.
"""
