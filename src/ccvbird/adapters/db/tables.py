"""The state database's tables (SQLAlchemy 2). Alembic migrations in ``migrations/`` create them.

Every "one X per Y" promise has a unique constraint behind it, so even two workers racing on the
same order cannot record two invoices for it:

* one record per order and connection — ``uq_order_records_connection_id_order_id``;
* one credit record per CCV credit invoice (or cancellation) of an order, and one number per
  credit within it — the two unique constraints of ``credit_records``;
* one order per Moneybird invoice — ``uq_order_records_connection_id_invoice_id``;
* one contact per normalised e-mail and connection — the primary key of ``contacts``;
* one processing of a webhook delivery — ``uq_webhook_deliveries_source_delivery_key``;
* one connection per CCV API key, one per webhook token (CCV's and Moneybird's);
* one handshake per set of App Store keys — the primary key of ``app_store_keys``;
* one account per e-mail address — ``uq_users_email``;
* one e-mail per notice — ``uq_notices_connection_id_kind_notice_key``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import true
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ProfileRow(Base):
    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    toml: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConnectionRow(Base):
    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    shop_url: Mapped[str] = mapped_column(String(500))
    ccv_public: Mapped[str] = mapped_column(String(500), unique=True)
    ccv_secret: Mapped[str] = mapped_column(Text)  # encrypted
    moneybird_url: Mapped[str] = mapped_column(String(500))
    administration_id: Mapped[str] = mapped_column(String(40))
    moneybird_credentials: Mapped[str] = mapped_column(Text)  # encrypted JSON
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"))
    start_date: Mapped[date | None] = mapped_column(Date)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_reason: Mapped[str] = mapped_column(Text, default="")
    #: Why it is paused as a code and its facts (schema 0010; "" / NULL: paused before it).
    paused_code: Mapped[str] = mapped_column(String(60), default="", server_default="")
    paused_params: Mapped[str | None] = mapped_column(Text)
    webhook_token: Mapped[str] = mapped_column(String(100), unique=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    poll_cursor: Mapped[datetime | None] = mapped_column(UtcDateTime())
    contacts_refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: New for every acquisition of the lease (schema 0007): a write fenced with an older token
    #: is refused, so a worker whose lease ran out cannot write.
    lease_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # -- how the connection was made (web app; schema 0002) --
    #: "cli", "manual" (the web form) or "app_store" (installed from CCV's App Store).
    source: Mapped[str] = mapped_column(String(20), default="cli", server_default="cli")
    #: Where CCV wants the merchant back after the install wizard.
    return_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    installed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    uninstalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Ids of the CCV webhooks registered for this connection, comma-separated.
    ccv_webhook_ids: Mapped[str] = mapped_column(Text, default="", server_default="")
    moneybird_webhook_id: Mapped[str | None] = mapped_column(String(40))
    #: Encrypted JSON ``{"token", "secret"}`` of the Moneybird webhook (shown once by Moneybird).
    moneybird_webhook: Mapped[str | None] = mapped_column(Text)
    # -- why the last poll failed (schema 0004) --
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The token in the Moneybird webhook's address (schema 0005), never the CCV one: an address
    #: that leaks from one side does not open the other.
    moneybird_webhook_token: Mapped[str | None] = mapped_column(
        String(100), unique=True, index=True
    )


class OrderRecordRow(Base):
    __tablename__ = "order_records"
    __table_args__ = (
        UniqueConstraint("connection_id", "order_id"),
        UniqueConstraint("connection_id", "invoice_id"),
        Index("ix_order_records_state", "connection_id", "state"),
        #: The scheduler's "which bookings are due" query reads this index, never every record.
        Index("ix_order_records_next_attempt_at", "connection_id", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    order_id: Mapped[str] = mapped_column(String(40))
    order_number: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str] = mapped_column(String(60), default="")
    #: JSON object of strings: the facts behind ``reason_code`` (schema 0010; NULL before it).
    reason_params: Mapped[str | None] = mapped_column(Text, default="{}")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the engine looks at a booking (or an order waiting for the connection) again.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    order_created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ccv_status: Mapped[int | None] = mapped_column(Integer)
    ccv_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_id: Mapped[str | None] = mapped_column(String(40))
    contact_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_id: Mapped[str | None] = mapped_column(String(40))
    invoice_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_number: Mapped[str | None] = mapped_column(String(100))
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    send_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_id: Mapped[str | None] = mapped_column(String(40))
    payment_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    booked_total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    #: The invoice date the order was booked with (a re-read compares with it).
    invoice_date: Mapped[date | None] = mapped_column(Date)
    #: The date of the payment of an order invoiced while unpaid (first seen paid).
    payment_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: Counts the record's saves (schema 0007); a lease holder saves only over what it read.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CreditRecordRow(Base):
    """One credit of a booked order (schema 0009): a CCV credit invoice or a cancellation."""

    __tablename__ = "credit_records"
    __table_args__ = (
        #: One Moneybird credit per CCV credit invoice (or cancellation) …
        UniqueConstraint("connection_id", "order_id", "credit_key"),
        #: … and one number per credit within the order, so its reference is never reused.
        UniqueConstraint("connection_id", "order_id", "seq"),
        Index("ix_credit_records_state", "connection_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    order_id: Mapped[str] = mapped_column(String(40))
    credit_key: Mapped[str] = mapped_column(String(60))
    seq: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str] = mapped_column(String(60), default="")
    #: JSON object of strings: the facts behind ``reason_code``.
    reason_params: Mapped[str] = mapped_column(Text, default="{}")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(30), default="sales_invoice")
    credit_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_id: Mapped[str | None] = mapped_column(String(40))
    edit_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    send_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    settle_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    settle_method: Mapped[str] = mapped_column(String(20), default="")
    settlement_id: Mapped[str | None] = mapped_column(String(40))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    #: JSON object percentage → Decimal string (``{"21": "-4.20"}``).
    vat: Mapped[str] = mapped_column(Text, default="{}")
    #: JSON object order row id → Decimal string.
    quantities: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OrderEventRow(Base):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("order_records.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    event: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    #: The message as a code and its facts (schema 0010; "" / NULL: written before it).
    code: Mapped[str] = mapped_column(String(60), default="", server_default="")
    params: Mapped[str | None] = mapped_column(Text)


class ContactRow(Base):
    """Our e-mail → Moneybird contact map (the contacts ccvbird created or matched)."""

    __tablename__ = "contacts"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(40))


class DirectoryContactRow(Base):
    """Moneybird's contacts as last read through the synchronization endpoints."""

    __tablename__ = "directory_contacts"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class DirectoryEmailRow(Base):
    __tablename__ = "directory_emails"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(40), primary_key=True)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    source: Mapped[str] = mapped_column(String(20))
    delivery_key: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: Whether the delivery's order reached the queue (schema 0005). A delivery recorded but not
    #: queued (the queue failed) is let through again when CCV repeats it.
    queued: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AppStoreKeyRow(Base):
    """Every set of API keys an App Store handshake handed over, ever (schema 0005).

    CCV's handshake carries no timestamp or nonce, so a captured one stays correctly signed
    forever; remembering its keys (as a SHA-256 digest) is what refuses its replay.
    """

    __tablename__ = "app_store_keys"

    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    handed_over_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BudgetSlotRow(Base):
    """One sent (or scheduled) request of a shared request budget (Moneybird: per token)."""

    __tablename__ = "budget_slots"
    __table_args__ = (Index("ix_budget_slots_key_at", "budget_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_key: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)


class BudgetRow(Base):
    """A lock row per budget key (serialises reservations) and its "blocked until" moment."""

    __tablename__ = "budgets"

    budget_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class UserRow(Base):
    """A person who signs in to the web app: the operator, or the owner of one connection."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # "operator" or "owner"
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    #: Bumped on a password change: every session signed for an older version ends.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginThrottleRow(Base):
    """Failed sign-ins per account and per client address; repeated failures wait longer."""

    __tablename__ = "login_throttle"

    throttle_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebSessionRow(Base):
    """A signed-in session of the web app. The cookie carries a random token; this row holds
    only its SHA-256, and a session without its row has ended (signed out, password changed)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SignInLinkRow(Base):
    """A one-time sign-in link mailed to an owner (kept as the SHA-256 of its token)."""

    __tablename__ = "sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class NoticeRow(Base):
    """An e-mail notice sent (or deliberately not sent), so each is sent once."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("connection_id", "kind", "notice_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    kind: Mapped[str] = mapped_column(String(40))
    notice_key: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
