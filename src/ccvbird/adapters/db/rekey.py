"""Re-encrypting every secret at rest with a new key (``ccvbird rotate-key``).

The secrets live in three columns of ``connections``: the CCV API secret, the Moneybird
credentials (a token, or OAuth tokens) and the Moneybird webhook's token and secret. They are
re-encrypted in one transaction, and each is decrypted with the new key alone before it commits,
so a rotation either changes every secret or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.tables import ConnectionRow
from ccvbird.adapters.secrets import SecretBox

_CONNECTIONS = cast(Table, ConnectionRow.__table__)
#: Every column that holds a secret encrypted with the secret key.
ENCRYPTED_COLUMNS = ("ccv_secret", "moneybird_credentials", "moneybird_webhook")


@dataclass(frozen=True)
class Rekeyed:
    connections: int
    secrets: int


def reencrypt_secrets(sessions: sessionmaker[Session], box: SecretBox, new: SecretBox) -> Rekeyed:
    """Encrypt every stored secret again with ``box``'s first key (``box`` decrypts them with
    any of its keys); ``new`` holds the first key alone and must read each one back."""
    columns = [_CONNECTIONS.c[name] for name in ENCRYPTED_COLUMNS]
    connections = secrets = 0
    with sessions.begin() as session:
        rows = session.execute(select(_CONNECTIONS.c.id, *columns).with_for_update()).all()
        for row in rows:
            values: dict[str, str] = {}
            for name in ENCRYPTED_COLUMNS:
                token = getattr(row, name)
                if not token:  # no secret of this kind (yet)
                    continue
                rotated = box.rotate(token)
                new.decrypt(rotated)  # raises before anything commits
                values[name] = rotated
            if values:
                session.execute(
                    update(_CONNECTIONS).where(_CONNECTIONS.c.id == row.id).values(**values)
                )
                connections += 1
                secrets += len(values)
    return Rekeyed(connections=connections, secrets=secrets)
