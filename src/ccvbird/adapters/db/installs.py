"""What the web app keeps about how a connection was made and what it registered.

A connection made through CCV's App Store starts with the shop's credentials only: Moneybird is
connected later in the install wizard. Until then it is *paused* with the reason in words, so
the engine, the poller and the workers leave it alone through the mechanism they already
respect. Its Moneybird fields are empty (``administration_id == ""``, credentials
``{"type": "none"}``) — :attr:`Setup.has_moneybird` says whether they are filled in.

Uninstalling disables the connection and keeps its history; installing the app again for the
same shop revives it with the new credentials.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.tables import AppStoreKeyRow, ConnectionRow, NoticeRow, ProfileRow
from ccvbird.adapters.secrets import SecretBox
from ccvbird.domain.errors import ConfigError

NO_MONEYBIRD: dict[str, Any] = {"type": "none"}

#: Marks the stored Moneybird webhook credentials of a webhook registered at the address with
#: the Moneybird token. One registered before (schema 0005) was given the CCV token's address,
#: which keeps working for it until it is registered again.
OWN_ADDRESS = "moneybird_token"


def key_digest(ccv_public: str) -> str:
    """How an App Store key set is remembered: its public key's SHA-256 (never the key)."""
    return hashlib.sha256(ccv_public.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PushTarget:
    """The connection a Moneybird webhook address belongs to, and what Moneybird gave for it."""

    connection_id: int
    webhook_token: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Setup:
    """How far a connection's setup is, without any secret."""

    connection_id: int
    source: str
    shop_url: str
    enabled: bool
    moneybird_type: str  # "none", "token" or "oauth"
    administration_id: str
    return_url: str
    installed_at: datetime | None
    uninstalled_at: datetime | None
    ccv_webhook_ids: tuple[str, ...]
    moneybird_webhook_id: str | None

    @property
    def has_moneybird(self) -> bool:
        return self.moneybird_type != "none"

    @property
    def has_administration(self) -> bool:
        return bool(self.administration_id)

    @property
    def from_app_store(self) -> bool:
        return self.source == "app_store"


class InstallStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._now = now or (lambda: datetime.now(UTC))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _row(self, session: Session, connection_id: int) -> ConnectionRow:
        row = session.get(ConnectionRow, connection_id)
        if row is None:
            raise ConfigError(f"there is no connection {connection_id}")
        return row

    def setup(self, connection_id: int) -> Setup:
        with self._session() as session:
            row = self._row(session, connection_id)
            moneybird = json.loads(self._box.decrypt(row.moneybird_credentials))
            return Setup(
                connection_id=row.id,
                source=row.source,
                shop_url=row.shop_url,
                enabled=row.enabled,
                moneybird_type=str(moneybird.get("type", "none")),
                administration_id=row.administration_id,
                return_url=row.return_url,
                installed_at=row.installed_at,
                uninstalled_at=row.uninstalled_at,
                ccv_webhook_ids=tuple(i for i in row.ccv_webhook_ids.split(",") if i),
                moneybird_webhook_id=row.moneybird_webhook_id,
            )

    # -- making a connection --------------------------------------------------------------------

    def create_pending(
        self,
        *,
        name: str,
        shop_url: str,
        ccv_public: str,
        ccv_secret: str,
        source: str,
        return_url: str = "",
        paused_reason: str,
    ) -> int:
        """A connection with the shop's credentials and no Moneybird yet (paused)."""
        now = self._now()
        with self._session() as session:
            profile = ProfileRow(name=f"{name} profile", toml="", updated_at=now)
            session.add(profile)
            session.flush()
            row = ConnectionRow(
                name=name,
                shop_url=shop_url.rstrip("/"),
                ccv_public=ccv_public,
                ccv_secret=self._box.encrypt(ccv_secret),
                moneybird_url="",
                administration_id="",
                moneybird_credentials=self._box.encrypt(json.dumps(NO_MONEYBIRD)),
                profile_id=profile.id,
                enabled=True,
                paused_reason=paused_reason,
                webhook_token=secrets.token_urlsafe(24),
                moneybird_webhook_token=secrets.token_urlsafe(24),
                created_at=now,
                source=source,
                return_url=return_url,
                ccv_webhook_ids="",
            )
            session.add(row)
            try:
                session.flush()
                self._remember_keys(session, row.id, ccv_public)
            except IntegrityError:
                raise ConfigError(
                    f"a connection for CCV key {ccv_public!r} exists already"
                ) from None
            return row.id

    def _remember_keys(self, session: Session, connection_id: int, ccv_public: str) -> None:
        """Note the keys as handed over (an IntegrityError when they were before)."""
        session.add(
            AppStoreKeyRow(
                key_digest=key_digest(ccv_public),
                connection_id=connection_id,
                handed_over_at=self._now(),
            )
        )
        session.flush()

    def keys_handed_over_before(self, ccv_public: str) -> bool:
        """Whether any handshake (now or for an earlier installation) brought these keys."""
        with self._session() as session:
            return session.get(AppStoreKeyRow, key_digest(ccv_public)) is not None

    def by_ccv_public(self, ccv_public: str) -> int | None:
        with self._session() as session:
            found = session.scalar(
                select(ConnectionRow.id).where(ConnectionRow.ccv_public == ccv_public)
            )
            return int(found) if found is not None else None

    def by_shop_url(self, shop_url: str) -> list[tuple[int, bool]]:
        """Connections of the shop at ``shop_url``: (id, enabled)."""
        with self._session() as session:
            rows = session.execute(
                select(ConnectionRow.id, ConnectionRow.enabled).where(
                    ConnectionRow.shop_url == shop_url.rstrip("/")
                )
            ).all()
            return [(int(i), bool(e)) for i, e in rows]

    def reinstall(
        self,
        connection_id: int,
        *,
        ccv_public: str,
        ccv_secret: str,
        return_url: str,
        paused_reason: str,
    ) -> None:
        """The app is installed again: new credentials, enabled, history and profile kept.

        Raises :class:`ConfigError` when the keys were handed over before (a replay).
        """
        with self._session() as session:
            row = self._row(session, connection_id)
            try:
                self._remember_keys(session, connection_id, ccv_public)
            except IntegrityError:
                raise ConfigError("these API keys were handed over before") from None
            row.ccv_public = ccv_public
            row.ccv_secret = self._box.encrypt(ccv_secret)
            row.return_url = return_url
            row.enabled = True
            row.uninstalled_at = None
            row.installed_at = None
            row.ccv_webhook_ids = ""
            row.paused_reason = paused_reason
            row.source = "app_store"

    def uninstalled(self, connection_id: int, reason: str, *, forget_access: bool = False) -> None:
        """Disabled, history kept. ``forget_access``: the shop's API secret and the Moneybird
        access are dropped too (the public key stays, so a later uninstall call from CCV is
        still recognised as this installation's)."""
        with self._session() as session:
            row = self._row(session, connection_id)
            row.enabled = False
            row.uninstalled_at = self._now()
            row.paused_reason = reason
            row.ccv_webhook_ids = ""
            if forget_access:
                row.ccv_secret = self._box.encrypt("")
                row.moneybird_credentials = self._box.encrypt(json.dumps(NO_MONEYBIRD))
                row.moneybird_webhook_id = None
                row.moneybird_webhook = None

    def mark_installed(self, connection_id: int) -> None:
        with self._session() as session:
            self._row(session, connection_id).installed_at = self._now()

    # -- Moneybird ------------------------------------------------------------------------------

    def set_moneybird(
        self, connection_id: int, *, credentials: dict[str, Any], base_url: str
    ) -> None:
        """New Moneybird access (a token or OAuth tokens); the administration is chosen next."""
        with self._session() as session:
            row = self._row(session, connection_id)
            row.moneybird_credentials = self._box.encrypt(json.dumps(credentials))
            row.moneybird_url = base_url.rstrip("/")

    def forget_moneybird(self, connection_id: int) -> None:
        """Moneybird disconnected: the access and the webhook's credentials are dropped; the
        administration stays, so connecting it again keeps the profile."""
        with self._session() as session:
            row = self._row(session, connection_id)
            row.moneybird_credentials = self._box.encrypt(json.dumps(NO_MONEYBIRD))
            row.moneybird_webhook_id = None
            row.moneybird_webhook = None

    def set_administration(self, connection_id: int, administration_id: str) -> None:
        if not administration_id.isdigit():
            raise ConfigError(f"administration: {administration_id!r} is not a Moneybird id")
        with self._session() as session:
            self._row(session, connection_id).administration_id = administration_id

    def moneybird_address_token(self, connection_id: int) -> str:
        """The token of the Moneybird webhook's address (made on first use when missing)."""
        with self._session() as session:
            row = self._row(session, connection_id)
            if not row.moneybird_webhook_token:
                row.moneybird_webhook_token = secrets.token_urlsafe(24)
            return row.moneybird_webhook_token

    def set_moneybird_webhook(
        self, connection_id: int, webhook_id: str | None, token: str = "", secret: str = ""
    ) -> None:
        """What Moneybird gave for a webhook registered at the Moneybird token's address."""
        with self._session() as session:
            row = self._row(session, connection_id)
            row.moneybird_webhook_id = webhook_id
            row.moneybird_webhook = (
                self._box.encrypt(
                    json.dumps({"token": token, "secret": secret, "address": OWN_ADDRESS})
                )
                if webhook_id
                else None
            )

    def push_target(self, address_token: str) -> PushTarget | None:
        """Whose Moneybird webhook posts to ``/webhooks/moneybird/<address_token>``.

        The Moneybird token's address; or — only for a webhook registered before that token
        existed — the CCV token's address it was registered at. A CCV token never opens a
        webhook registered at the Moneybird address.
        """
        with self._session() as session:
            row = session.scalar(
                select(ConnectionRow).where(ConnectionRow.moneybird_webhook_token == address_token)
            )
            legacy = row is None
            if legacy:
                row = session.scalar(
                    select(ConnectionRow).where(ConnectionRow.webhook_token == address_token)
                )
            if row is None or not row.moneybird_webhook:
                return None
            data = json.loads(self._box.decrypt(row.moneybird_webhook))
            if legacy and data.get("address") == OWN_ADDRESS:
                return None
            return PushTarget(row.id, str(data["token"]), str(data["secret"]))

    def moneybird_webhook(self, connection_id: int) -> tuple[str, str] | None:
        """The (token, secret) Moneybird gave for this connection's webhook."""
        with self._session() as session:
            row = self._row(session, connection_id)
            if not row.moneybird_webhook:
                return None
            data = json.loads(self._box.decrypt(row.moneybird_webhook))
            return str(data["token"]), str(data["secret"])

    # -- CCV ------------------------------------------------------------------------------------

    def set_ccv_webhooks(self, connection_id: int, ids: list[str]) -> None:
        with self._session() as session:
            self._row(session, connection_id).ccv_webhook_ids = ",".join(ids)

    def set_start_date(self, connection_id: int, start: date | None) -> None:
        with self._session() as session:
            self._row(session, connection_id).start_date = start

    def rename(self, connection_id: int, name: str) -> None:
        with self._session() as session:
            self._row(session, connection_id).name = name

    def set_profile_text(self, connection_id: int, toml: str) -> None:
        """Store profile text unchecked (the caller validated it)."""
        with self._session() as session:
            row = self._row(session, connection_id)
            session.execute(
                update(ProfileRow)
                .where(ProfileRow.id == row.profile_id)
                .values(toml=toml, updated_at=self._now())
            )


class NoticeLog:
    """Remembers which e-mail notices went out, so each goes out once."""

    def __init__(
        self, sessions: sessionmaker[Session], *, now: Callable[[], datetime] | None = None
    ) -> None:
        self._sessions = sessions
        self._now = now or (lambda: datetime.now(UTC))

    def first_time(self, connection_id: int, kind: str, key: str) -> bool:
        with self._sessions() as session, session.begin():
            session.add(
                NoticeRow(
                    connection_id=connection_id, kind=kind, notice_key=key[:200],
                    sent_at=self._now(),
                )
            )  # fmt: skip
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:
                return False
            return True
