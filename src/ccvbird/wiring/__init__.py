"""The web app's part of the composition root, beside :mod:`ccvbird.bootstrap`.

The web entrypoint may not import adapters; everything it needs from them — accounts and
passwords, the App Store checks, CCV and Moneybird calls for connecting, webhook verification,
mail — is wired here from a :class:`~ccvbird.bootstrap.App`. Kept apart from ``bootstrap.py``
so the engine's wiring stays short.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ccvbird.adapters.db.accounts import OPERATOR, OWNER, Account, AccountStore
from ccvbird.adapters.db.installs import InstallStore, NoticeLog, Setup
from ccvbird.adapters.mail import SmtpMailer
from ccvbird.adapters.passwords import MIN_LENGTH, hash_password, verify_password
from ccvbird.adapters.profile_toml import parse_profile as check_profile
from ccvbird.adapters.secrets import load_or_create_key, split_keys
from ccvbird.bootstrap import App, reference_prefix_for
from ccvbird.config import Settings
from ccvbird.domain.reasons import Reason
from ccvbird.service.imports import ImportBoard
from ccvbird.service.notify import Mailer
from ccvbird.service.sync import PROFILE_MISMATCH

__all__ = [
    "MIN_LENGTH",
    "OPERATOR",
    "OWNER",
    "PROFILE_MISMATCH",
    "Account",
    "Setup",
    "WebBackend",
    "check_profile",
    "hash_password",
    "mailer_for",
    "reference_prefix_for",
    "verify_password",
    "web_backend",
]

#: The reason a connection made by the App Store or the web form waits until setup is finished.
SETUP = Reason("setup_not_finished")
SETUP_REASON = SETUP.text


@dataclass
class _Cached:
    at: float
    value: Any


@dataclass
class WebBackend:
    """What the web app works with, wired once at start."""

    app: App
    accounts: AccountStore
    installs: InstallStore
    notices: NoticeLog
    imports: ImportBoard
    session_secret: str
    mailer: Mailer | None
    #: Administration settings and shop status names change rarely: read once per 10 minutes.
    cache_seconds: float = 600.0
    _cache: dict[tuple[str, int], _Cached] = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def url(self, path: str) -> str:
        return self.settings.public_url.rstrip("/") + path

    @property
    def handshake_uri(self) -> str:
        return self.url("/ccv/handshake")

    @property
    def install_uri(self) -> str:
        return self.url("/ccv/install")

    @property
    def uninstall_uri(self) -> str:
        return self.url("/ccv/uninstall")

    def cached(self, kind: str, connection_id: int, load: Any) -> Any:
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get((kind, connection_id))
            if hit is not None and now - hit.at < self.cache_seconds:
                return hit.value
        value = load()
        with self._cache_lock:
            self._cache[(kind, connection_id)] = _Cached(now, value)
        return value

    def forget_one(self, kind: str, connection_id: int) -> None:
        with self._cache_lock:
            self._cache.pop((kind, connection_id), None)

    def forget(self, connection_id: int) -> None:
        with self._cache_lock:
            for key in [k for k in self._cache if k[1] == connection_id]:
                del self._cache[key]


def _session_secret(settings: Settings) -> str:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    keys = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key is not None
        else load_or_create_key(settings.key_file)
    )
    # The first (newest) key: a rotated key ends the sessions signed with the old one.
    key = split_keys(keys)[0]
    return hmac.new(key, b"ccvbird web sessions", hashlib.sha256).hexdigest()


def mailer_for(settings: Settings) -> Mailer | None:
    """The SMTP mailer the settings describe, or ``None`` when mail is not configured."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.mail_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password,
    )


def web_backend(app: App, *, mailer: Mailer | None = None) -> WebBackend:
    """Wire the web app's stores and services for ``app``."""
    now = app.clock.now
    return WebBackend(
        app=app,
        accounts=AccountStore(app.sessions, now=now),
        installs=InstallStore(app.sessions, app.store._box, now=now),
        notices=NoticeLog(app.sessions, now=now),
        imports=ImportBoard(),
        session_secret=_session_secret(app.settings),
        mailer=mailer if mailer is not None else mailer_for(app.settings),
    )
