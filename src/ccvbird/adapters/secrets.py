"""Secrets at rest: API secrets and tokens are stored encrypted (Fernet: AES-128-CBC + HMAC).

The key comes from ``CCVBIRD_SECRET_KEY`` or from a key file generated on first use in the data
directory, readable by its owner only. Losing the key means re-entering the credentials; it never
means leaking them.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ccvbird.domain.errors import ConfigError


class SecretBox:
    """Encrypts and decrypts short secrets (strings) with one key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                "the secret key is not a valid Fernet key (32 bytes, urlsafe base64)"
            ) from None

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with this key; was CCVBIRD_SECRET_KEY or the "
                "key file changed? Re-enter the connection's credentials."
            ) from None


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; created (mode 600) when it does not exist yet."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key
