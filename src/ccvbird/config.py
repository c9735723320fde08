"""Process settings, read once by bootstrap (never at import time).

Every setting has a default that works on a fresh machine: one SQLite file in the data directory
for the state, one for the task queue, a generated encryption key beside them. Environment
variables (``CCVBIRD_*``) or command-line options override them; PostgreSQL and Redis are one
URL away when several workers or machines share the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("ccvbird", appauthor=False))


class Settings(BaseSettings):
    """ccvbird's settings. Environment variables are the names in capitals with ``CCVBIRD_``."""

    model_config = SettingsConfigDict(env_prefix="CCVBIRD_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL of the state database; default: ``<data_dir>/ccvbird.sqlite3``.
    database_url: str | None = None
    #: Task queue: empty for SQLite in the data directory, or ``redis://host:port/db``.
    queue_url: str | None = None
    #: The queue's name (every Redis key starts with it): installations sharing one Redis
    #: need names of their own.
    queue_name: str = Field(default="ccvbird", min_length=1, max_length=64)
    #: Fernet key (urlsafe base64, 32 bytes) for secrets at rest; default: a generated key file.
    #: Several, comma-separated, while the key is rotated: the first encrypts, each decrypts.
    secret_key: SecretStr | None = None
    #: Moneybird allows 150 requests per 5 minutes per token.
    moneybird_requests: int = 150
    moneybird_window_seconds: float = 300.0
    #: Polling: every N minutes, re-reading orders created in the last N days.
    poll_minutes: float = 5.0
    lookback_days: int = 30
    #: Trust the local e-mail → contact map for this long before re-reading Moneybird's contacts.
    contact_refresh_minutes: float = 10.0
    #: Re-read the administration's tax rates before booking when ccvbird's copy is older.
    tax_rate_refresh_minutes: float = 10.0
    #: Transient failures of one order are retried this many times before it needs attention.
    max_attempts: int = 8
    #: The first wait before a transient failure is retried; it doubles with every attempt.
    retry_seconds: float = 30.0
    #: How often an open invoice (booked while CCV said unpaid) is read again from CCV to see
    #: whether it is paid now, for shops whose orders are paid long after the poll window.
    payment_check_hours: float = Field(default=6.0, gt=0)
    #: Workers (threads) of `ccvbird run` / `ccvbird worker`.
    workers: int = 2
    #: The public address of this ccvbird (for webhooks), e.g. https://ccvbird.example.nl
    public_url: str = "http://127.0.0.1:8700"
    #: A registered Moneybird application, for "Connect Moneybird" (OAuth).
    moneybird_client_id: str | None = None
    moneybird_client_secret: SecretStr | None = None
    moneybird_oauth_url: str = "https://moneybird.com/oauth"
    #: Moneybird's API for connections made in the web app (the sandbox's in demos and tests).
    moneybird_api_url: str = "https://moneybird.com/api/v2"

    # -- the web app (docs/web.md) ------------------------------------------------------------
    #: CCV App Store: the app secret from CCV's Developer App Center. The URIs to configure
    #: there: <public_url>/ccv/handshake, <public_url>/ccv/install, <public_url>/ccv/uninstall.
    ccv_app_secret: SecretStr | None = None
    #: Signs the session cookies; default: derived from the secret key.
    session_secret: SecretStr | None = None
    #: Where `ccvbird web` listens.
    web_host: str = "127.0.0.1"
    web_port: int = 8700
    #: E-mail notices over SMTP (none when smtp_host is empty).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    #: "starttls" (port 587), "ssl" (port 465) or "none" (a local relay).
    smtp_security: str = "starttls"
    mail_from: str = "ccvbird@localhost"
    #: The operator's addresses for notices about every connection, comma-separated.
    notify_to: str = ""
    #: Mail when orders have waited for a person this many hours.
    notify_parked_hours: float = 24.0
    #: How often the web app checks whether a notice is due (seconds).
    notify_interval_seconds: float = 300.0
    #: The largest request body the web app reads (bytes); larger ones are answered 413.
    #: Webhooks and App Store calls are a few kilobytes, a profile form a few tens.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    # -- operating (docs/operations.md) ---------------------------------------------------------
    #: "text" (lines for people, the default) or "json" (one JSON object a line, for a log
    #: collector; each line of a booking carries its connection_id and order_id).
    log_format: Literal["text", "json"] = "text"
    #: Where the serving commands keep their metrics files (prometheus-client's multi-process
    #: mode), one directory per machine; default: ``<data_dir>/metrics``.
    metrics_dir: Path | None = None
    #: When set, ``/metrics`` answers only requests with ``Authorization: Bearer <token>``.
    metrics_token: SecretStr | None = None

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def database_file(self) -> Path:
        """The SQLite file of the default state database."""
        return self.data_dir / "ccvbird.sqlite3"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.database_file}"

    def has_database(self) -> bool:
        """Whether there is state to read: a database URL is configured, or the data
        directory's SQLite file exists (checked without creating anything)."""
        return self.database_url is not None or self.database_file.exists()

    @property
    def resolved_metrics_dir(self) -> Path:
        return self.metrics_dir or self.data_dir / "metrics"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"
