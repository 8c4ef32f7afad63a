"""Telegram output: rendering Claude's Markdown, the paced per-chat outbox, the live reply view.

The only package in ``bot/`` that imports aiogram types.
"""
