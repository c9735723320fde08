"""People who sign in to the web app, and the throttle that slows down password guessing.

Two roles: the *operator* runs the installation and sees every connection; an *owner* arrives
through the App Store install of their shop and sees only that connection. Passwords arrive here
already hashed (the web layer hashes with Argon2); this module never sees a password.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.tables import LoginThrottleRow, SignInLinkRow, UserRow, WebSessionRow
from ccvbird.domain.errors import ConfigError

OPERATOR = "operator"
OWNER = "owner"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    role: str
    connection_id: int | None
    language: str
    session_version: int
    password_hash: str

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    def may_see(self, connection_id: int) -> bool:
        """The operator sees every connection; an owner only their own."""
        return self.is_operator or self.connection_id == connection_id

    def __repr__(self) -> str:  # the hash stays out of logs and tracebacks
        return f"Account(id={self.id}, email={self.email!r}, role={self.role!r})"


def _account(row: UserRow) -> Account:
    return Account(
        row.id, row.email, row.role, row.connection_id, row.language, row.session_version,
        row.password_hash,
    )  # fmt: skip


def _hash(token: str) -> str:
    return sha256(token.encode()).hexdigest()


def normalise(email: str) -> str:
    return email.strip().lower()


class AccountStore:
    def __init__(
        self, sessions: sessionmaker[Session], *, now: Callable[[], datetime] | None = None
    ) -> None:
        self._sessions = sessions
        self._now = now or (lambda: datetime.now(UTC))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def has_operator(self) -> bool:
        with self._session() as session:
            found = session.scalar(select(func.count()).where(UserRow.role == OPERATOR))
            return bool(found)

    def create(
        self,
        email: str,
        password_hash: str,
        *,
        role: str,
        connection_id: int | None = None,
        language: str = "nl",
    ) -> Account:
        if role not in (OPERATOR, OWNER):
            raise ValueError(f"role: {role!r} is not operator or owner")
        if role == OWNER and connection_id is None:
            raise ValueError("an owner account belongs to a connection")
        row = UserRow(
            email=normalise(email),
            password_hash=password_hash,
            role=role,
            connection_id=connection_id,
            language=language,
            session_version=1,
            created_at=self._now(),
        )
        with self._session() as session:
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise ConfigError(f"there is an account for {normalise(email)} already") from None
            return _account(row)

    def by_email(self, email: str) -> Account | None:
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.email == normalise(email)))
            return _account(row) if row else None

    def get(self, account_id: int) -> Account | None:
        with self._session() as session:
            row = session.get(UserRow, account_id)
            return _account(row) if row else None

    def owners_of(self, connection_id: int) -> list[Account]:
        with self._session() as session:
            rows = session.scalars(
                select(UserRow).where(UserRow.connection_id == connection_id).order_by(UserRow.id)
            )
            return [_account(row) for row in rows]

    def operators(self) -> list[Account]:
        with self._session() as session:
            rows = session.scalars(select(UserRow).where(UserRow.role == OPERATOR))
            return [_account(row) for row in rows]

    def set_password(self, account_id: int, password_hash: str) -> None:
        """A new password ends every session of the account (its version changes)."""
        with self._session() as session:
            session.execute(
                update(UserRow)
                .where(UserRow.id == account_id)
                .values(password_hash=password_hash, session_version=UserRow.session_version + 1)
            )
            session.execute(delete(WebSessionRow).where(WebSessionRow.account_id == account_id))

    def set_language(self, account_id: int, language: str) -> None:
        with self._session() as session:
            session.execute(
                update(UserRow).where(UserRow.id == account_id).values(language=language)
            )

    def signed_in(self, account_id: int) -> None:
        with self._session() as session:
            session.execute(
                update(UserRow).where(UserRow.id == account_id).values(last_login_at=self._now())
            )

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, account_id: int) -> str:
        """A new session for the account: its token (for the cookie; only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._session() as session:
            session.add(
                WebSessionRow(
                    token_hash=_hash(token), account_id=account_id, created_at=now,
                    last_seen_at=now,
                )
            )  # fmt: skip
        return token

    def session_account(self, token: str) -> Account | None:
        """The account of a session that has not ended; ``None`` for an ended or unknown one."""
        with self._sessions() as session:
            row = session.scalar(
                select(UserRow)
                .join(WebSessionRow, WebSessionRow.account_id == UserRow.id)
                .where(WebSessionRow.token_hash == _hash(token))
            )
            return _account(row) if row is not None else None

    def end_session(self, token: str) -> None:
        """Sign out: the session's token stops working, also in a copy of the cookie."""
        with self._session() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _hash(token)))

    def end_sessions(self, account_id: int) -> int:
        """End every session of the account (a password change); how many there were."""
        with self._session() as session:
            result = session.execute(
                delete(WebSessionRow).where(WebSessionRow.account_id == account_id)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def make_sign_in_link(self, account_id: int, valid_for: timedelta) -> str:
        """A one-time sign-in token for the account, valid for ``valid_for``."""
        token = secrets.token_urlsafe(32)
        with self._session() as session:
            session.add(
                SignInLinkRow(
                    token_hash=_hash(token), account_id=account_id,
                    expires_at=self._now() + valid_for,
                )
            )  # fmt: skip
        return token

    def use_sign_in_link(self, token: str) -> Account | None:
        """The account the link signs in, once: the link is gone after this (used or expired)."""
        now = self._now()
        with self._session() as session:
            link = session.get(SignInLinkRow, _hash(token), with_for_update=True)
            if link is None:
                return None
            session.delete(link)
            expires = link.expires_at
            if expires <= now:
                return None
            row = session.get(UserRow, link.account_id)
            return _account(row) if row is not None else None

    # -- the throttle ---------------------------------------------------------------------------

    def blocked_for(self, keys: list[str]) -> timedelta:
        """How long sign-ins under any of ``keys`` must still wait (zero: go ahead)."""
        now = self._now()
        with self._session() as session:
            until = session.scalar(
                select(func.max(LoginThrottleRow.blocked_until)).where(
                    LoginThrottleRow.throttle_key.in_(keys)
                )
            )
        if until is None:
            return timedelta(0)
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        return max(until - now, timedelta(0))

    def failed(self, keys: list[str], *, free: int = 3, longest: timedelta) -> None:
        """Count a failure; from the ``free``-th on, each key waits twice as long as before."""
        now = self._now()
        with self._session() as session:
            for key in keys:
                row = session.get(LoginThrottleRow, key)
                if row is None:
                    row = LoginThrottleRow(throttle_key=key, failures=0)
                    session.add(row)
                row.failures += 1
                if row.failures >= free:
                    wait = timedelta(seconds=2 ** (row.failures - free))
                    row.blocked_until = now + min(wait, longest)

    def succeeded(self, keys: list[str]) -> None:
        with self._session() as session:
            for key in keys:
                row = session.get(LoginThrottleRow, key)
                if row is not None:
                    session.delete(row)
