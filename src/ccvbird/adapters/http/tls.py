"""One TLS context for every HTTP client of the process.

httpx builds a new ``ssl.SSLContext`` for every client, loading the whole CA bundle each time:
about 15 ms of CPU. A worker of a provider's ccvbird makes two clients per connection (CCV and
Moneybird) the first time it books for that connection, so with a thousand shops that was most
of a worker's CPU per order in ``bench/many_shops.py``. A context is safe to share between
clients and threads; its settings are httpx's own defaults (certifi's CA bundle,
``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_tls() -> ssl.SSLContext:
    """The process's TLS context for ``httpx.Client(verify=...)``, made on first use."""
    return httpx.create_ssl_context()
