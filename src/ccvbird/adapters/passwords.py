"""Password hashing for web-app accounts: Argon2id (argon2-cffi's recommended parameters).

A hash carries its own parameters, so raising them later only needs :meth:`needs_rehash` on the
next sign-in. Verification is constant-time; a wrong password and a malformed hash both say no.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: A hash of a random password, verified when the account does not exist, so a sign-in takes as
#: long for an unknown address as for a wrong password (no account enumeration by timing).
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("ccvbird: no such account")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
