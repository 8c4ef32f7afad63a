"""A self-signed certificate for 127.0.0.1: Telegram opens only https Mini App URLs, so the tests serve it so too."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path


def self_signed_cert(directory: Path, *, ip: str = "127.0.0.1", days: int = 2) -> tuple[Path, Path]:
    """(certificate, private key) as PEM files in `directory`, for `ip` (subjectAltName IP: what browsers check)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", f"/CN={ip}",
         "-addext", f"subjectAltName=IP:{ip}"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """An SSLContext for a test server (aiohttp's `web.TCPSite(..., ssl_context=)`)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context

