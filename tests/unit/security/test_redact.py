"""No secret the bot knows reaches a log line, an exception text or a stack."""

from __future__ import annotations

import io
import logging

from bot.security.redact import install

TOKEN = "123456:AAH-secret_part-XYZ"


def test_the_token_is_redacted_in_messages_arguments_and_tracebacks() -> None:
    logger = logging.getLogger("test.redact")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    install(TOKEN, logger=logger)
    try:
        logger.warning("download failed: %s", f"404, url='http://h/file/bot{TOKEN}/documents/x'")
        logger.warning("encoded http://h/bot123456%3AAAH-secret_part-XYZ/getMe")
        logger.warning("half: AAH-secret_part-XYZ")
        try:
            raise RuntimeError(f"http://h/bot{TOKEN}/getMe")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "secret_part" not in text
    assert text.count("<redacted>") == 4 and "RuntimeError: http://h/bot<redacted>/getMe" in text


def test_an_uncaught_traceback_is_redacted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    code = (
        "import logging; from bot.security.redact import install; logging.basicConfig(); "
        f"install({TOKEN!r}); raise RuntimeError('http://h/bot{TOKEN}/getMe')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "RuntimeError: http://h/bot<redacted>/getMe" in result.stderr and "secret_part" not in result.stderr


def test_every_secret_setting_is_redacted_not_only_the_token() -> None:
    secrets = {"token": TOKEN, "transcribe": "sk-transcribe-0123456789", "webhook": "hook_secret-42", "anthropic": "sk-ant-api03-xyz"}
    logger = logging.getLogger("test.redact.all")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    install(*secrets.values(), logger=logger)
    try:
        for name, value in secrets.items():
            logger.warning("%s: Authorization: Bearer %s", name, value)
        logger.warning("url-encoded: %s", "sk-transcribe-0123456789".replace("-", "%2D"))
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert not any(value in text for value in secrets.values())
    assert text.count("<redacted>") == 4 and "transcribe: Authorization: Bearer <redacted>" in text
