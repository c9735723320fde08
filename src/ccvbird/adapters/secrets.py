"""Secrets at rest: API secrets and tokens are stored encrypted (Fernet: AES-128-CBC + HMAC).

The key comes from ``CCVBIRD_SECRET_KEY`` or from a key file generated on first use in the data
directory, readable by its owner only. Losing the key means re-entering the credentials; it never
means leaking them.

Either may hold several keys (comma- or line-separated, newest first): the first encrypts, every
one decrypts (Fernet's ``MultiFernet``). That is what makes ``ccvbird rotate-key`` safe to
interrupt: the key file holds the new and the old key while the secrets are re-encrypted, and the
new key alone once they all are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ccvbird.domain.errors import ConfigError


def split_keys(raw: bytes) -> list[bytes]:
    """The keys in a key file's or ``CCVBIRD_SECRET_KEY``'s text, newest first."""
    return [key for key in re.split(rb"[\s,]+", raw.strip()) if key]


class SecretBox:
    """Encrypts and decrypts short secrets (strings): with the first key, or with any key."""

    def __init__(self, keys: bytes | Sequence[bytes]) -> None:
        keys = split_keys(keys) if isinstance(keys, bytes) else list(keys)
        if not keys:
            raise ConfigError("the secret key is empty (a Fernet key: 32 bytes, urlsafe base64)")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
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

    def rotate(self, token: str) -> str:
        """``token`` encrypted again with the first key (it may be under any of the keys)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with any of the keys: nothing was changed"
            ) from None


def new_key() -> bytes:
    return Fernet.generate_key()


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


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Replace the key file with ``keys`` (one a line) at once: written beside it (mode 600),
    flushed to disk, then renamed over it, so a crash leaves the old file or the new one."""
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(b"".join(key + b"\n" for key in keys))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
