"""One TLS context for every HTTPS client of the bot: Telegram's API (PTB's two clients) and
the coordinations' webhooks.

httpx builds a context per client, reading about 150 certificates each time (40 ms of CPU).
Built once here, as httpx builds it (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured),
and at start in a thread of its own: OpenSSL reads the certificates without holding Python's
lock, so the start goes on meanwhile.
"""

from __future__ import annotations

import contextlib
import ssl
import threading

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def prepare() -> None:
    """Start building the context in the background (call it early at start). An error
    (``SSL_CERT_FILE`` naming no file) is raised where the context is first used."""
    threading.Thread(target=_build_quietly, name="ptce-tls", daemon=True).start()


def _build_quietly() -> None:
    with contextlib.suppress(Exception):
        context()


def context() -> ssl.SSLContext:
    """The shared context: built now, or waited for if :func:`prepare` is building it."""
    global _context
    with _lock:
        if _context is None:
            import httpx

            _context = httpx.create_ssl_context()
        return _context
