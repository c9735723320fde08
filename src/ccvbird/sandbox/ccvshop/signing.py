"""The sandbox's own reading of CCV's signatures (reference §1.1).

Deliberately written apart from the client's signer: if both shared one implementation, a
mistake in it would pass every test. The check is the documented one — HMAC-SHA512 keyed with
the API secret over ``public|METHOD|path?query|body|x-date``, with the path, query and body
taken exactly as they arrived.

``x-date`` is read the way a PHP server reads ISO-8601, so every format seen in working clients
passes (``…Z``, ``…+00:00``, ``…+0000``, ``….000Z``); a date without a zone is refused, since
"UTC" cannot be assumed from it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


def hmac_sha512(key: str, message: bytes) -> str:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha512).hexdigest()


def expected_hash(secret: str, public: str, method: str, uri: bytes, body: bytes, date: str) -> str:
    message = b"|".join([public.encode(), method.upper().encode(), uri, body, date.encode()])
    return hmac_sha512(secret, message)


def hashes_match(expected: str, offered: str) -> bool:
    return hmac.compare_digest(expected.encode(), offered.strip().lower().encode())


def parse_x_date(text: str) -> datetime | None:
    """The moment an ``x-date`` names, or ``None`` when it is not ISO-8601 with a zone."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    value = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
