"""The state database behind the ``Store`` port (SQLite by default, PostgreSQL by URL).

Each method is one short transaction that is committed before it returns, so what the engine
recorded survives a crash on the next line. Secrets are encrypted with the connection's
:class:`SecretBox` before they reach a table and decrypted only when a client is built.

The engine writes through :meth:`SqlStore.fenced` (a view bound to the connection's lease): each
of its write transactions first renews the lease or, when another worker took it over, refuses
with :class:`LeaseLost` (``adapters/db/lease.py``); a record is saved only over the version that
was read (:class:`RecordMoved` otherwise).

On PostgreSQL the booking's hot path is one statement per call: reads in autocommit, and a
fenced save (lease, record, log lines) or contact mapping as one statement of data-modifying
CTEs (:func:`_fenced_save`); each round trip costs more CPU there than SQLite's in-process call.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NoReturn, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db import lease as leases
from ccvbird.adapters.db.database import single_statements
from ccvbird.adapters.db.lease import DbLease
from ccvbird.adapters.db.tables import (
    ConnectionRow,
    ContactRow,
    CreditRecordRow,
    DirectoryContactRow,
    DirectoryEmailRow,
    OrderEventRow,
    OrderRecordRow,
    ProfileRow,
    WebhookDeliveryRow,
)
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.adapters.secrets import SecretBox
from ccvbird.domain.bounds import REFERENCE_LIMIT, storable
from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.errors import ConfigError, RecordMoved
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.reasons import Reason, decode_params, known_text
from ccvbird.domain.references import conflict
from ccvbird.domain.sync import (
    ContactLookup,
    OrderRecord,
    RemoteContact,
    SyncState,
    normalise_email,
)
from ccvbird.ports import ConnectionInfo

RECORD_FIELDS = (
    "order_number", "reason", "reason_code", "attempts", "next_attempt_at", "order_created_at",
    "ccv_status", "ccv_paid",
    "contact_id", "contact_intent", "invoice_id", "invoice_intent", "invoice_number", "sent",
    "send_intent", "payment_id", "payment_intent", "fingerprint", "booked_total",
    "invoice_date", "payment_date",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConnectionSecrets:
    """Decrypted credentials of one connection; built into clients, never logged."""

    ccv_public: str
    ccv_secret: str
    moneybird: dict[str, Any]

    def __repr__(self) -> str:  # never show secrets, not even in a traceback
        return f"ConnectionSecrets(ccv_public={self.ccv_public!r}, ccv_secret=***, moneybird=***)"


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    event: str
    state: str
    #: In English; ``code`` and ``params`` say it as a reason (``code`` "": an older line).
    message: str
    code: str = ""
    params: dict[str, str] | None = None


class SqlStore:
    """The ``Store`` port on SQLAlchemy, plus what the CLI and web app need to manage it."""

    def __init__(
        self, sessions: sessionmaker[Session], box: SecretBox, *, clock: Any = None
    ) -> None:
        self._sessions = sessions
        self._engine: Engine = sessions.kw["bind"]
        self._box = box
        self._now = clock.now if clock is not None else (lambda: datetime.now(UTC))
        dialect = self._engine.dialect.name
        self._new_record = _insert_ignoring(
            dialect, _RECORDS, ("connection_id", "order_id")
        ).returning(*_RECORDS.c)
        self._new_contact = _insert_ignoring(dialect, _CONTACTS, ("connection_id", "email"))
        self._postgres = dialect == "postgresql"
        #: Where what is one statement runs (the engine's reads, a fenced save on PostgreSQL):
        #: in autocommit on PostgreSQL, one round trip instead of three.
        self._statements: Engine = single_statements(self._engine)
        #: The lease this view's writes are fenced with (``None``: an unfenced store).
        self._lease: DbLease | None = None

    def fenced(self, lease: DbLease) -> SqlStore:
        """This store with every write the engine makes fenced by ``lease``: the write's own
        transaction renews the lease, or refuses with :class:`LeaseLost` when another worker
        holds the connection now. Reads are as before. Cheap: no new connection pool."""
        view = copy.copy(self)
        view._lease = lease
        return view

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction; in a fenced view its first statement renews the lease."""
        lease = self._lease
        with self._engine.begin() as connection:
            until = lease.fence(connection) if lease is not None else None
            yield connection
        if lease is not None and until is not None:
            lease.until = until

    @contextmanager
    def _writing_session(self) -> Iterator[Session]:
        """:meth:`_writing` for the ORM."""
        lease = self._lease
        with self._sessions() as session, session.begin():
            until = lease.fence(session) if lease is not None else None
            yield session
        if lease is not None and until is not None:
            lease.until = until

    # -- connections ------------------------------------------------------------------------------

    def create_connection(
        self,
        *,
        name: str,
        shop_url: str,
        ccv_public: str,
        ccv_secret: str,
        moneybird_url: str,
        administration_id: str,
        moneybird_credentials: dict[str, Any],
        profile_toml: str,
        start_date: date | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """Store a new connection. ``created_at`` (default: now) matters to the engine: orders
        placed before it may have been invoiced by something else, so they are looked up in
        Moneybird before they are booked."""
        profile = parse_profile(profile_toml, source="profile")  # refuse an invalid one up front
        now = created_at or self._now()
        with self._session() as session:
            self._refuse_reference_conflict(
                session, administration_id, None, profile.reference_prefix
            )
            stored = ProfileRow(name=f"{name} profile", toml=profile_toml, updated_at=now)
            session.add(stored)
            session.flush()
            row = ConnectionRow(
                name=name,
                shop_url=shop_url.rstrip("/"),
                ccv_public=ccv_public,
                ccv_secret=self._box.encrypt(ccv_secret),
                moneybird_url=moneybird_url.rstrip("/"),
                administration_id=administration_id,
                moneybird_credentials=self._box.encrypt(json.dumps(moneybird_credentials)),
                profile_id=stored.id,
                start_date=start_date,
                enabled=True,
                paused_reason="",
                webhook_token=secrets.token_urlsafe(24),
                created_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise ConfigError(
                    f"a connection for CCV key {ccv_public!r} exists already"
                ) from None
            return row.id

    def connection(self, connection_id: int) -> ConnectionInfo:
        """One query (read for every order the engine touches): the connection, and the other
        connections of its administration (a row each) for their reference prefixes."""
        with self._statements.connect() as connection:
            rows = connection.execute(_ONE_CONNECTION, {"c": connection_id}).all()
        return _info_of(rows, connection_id)

    def connections(self) -> list[ConnectionInfo]:
        with self._statements.connect() as connection:
            rows = connection.execute(_CONNECTION_INFO.order_by(_CONNECTIONS.c.id)).all()
        prefixes = [(row.id, row.administration_id, _prefix_of(row.toml or "")) for row in rows]
        return [
            _info(
                row,
                tuple(
                    (other, prefix)
                    for other, administration, prefix in prefixes
                    if other != row.id
                    and administration
                    and administration == row.administration_id
                ),
            )
            for row in rows
        ]

    def secrets(self, connection_id: int) -> ConnectionSecrets:
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            if row is None:
                raise ConfigError(f"there is no connection {connection_id}")
            return ConnectionSecrets(
                ccv_public=row.ccv_public,
                ccv_secret=self._box.decrypt(row.ccv_secret),
                moneybird=json.loads(self._box.decrypt(row.moneybird_credentials)),
            )

    def credentials_version(self, connection_id: int) -> str:
        """Changes whenever the connection's credentials or addresses change (clients built from
        an older version are stale). Compares ciphertexts: nothing is decrypted."""
        with self._statements.connect() as connection:
            row = connection.execute(_CREDENTIALS, {"c": connection_id}).first()
        if row is None:
            raise ConfigError(f"there is no connection {connection_id}")
        return hashlib.sha256("\x00".join(str(part) for part in row).encode()).hexdigest()[:16]

    def moneybird_url(self, connection_id: int) -> str:
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            if row is None:
                raise ConfigError(f"there is no connection {connection_id}")
            return row.moneybird_url

    def save_moneybird_credentials(self, connection_id: int, credentials: dict[str, Any]) -> None:
        with self._session() as session:
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id)
                .values(moneybird_credentials=self._box.encrypt(json.dumps(credentials)))
            )

    def profile_toml(self, connection_id: int) -> str:
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            profile = session.get(ProfileRow, row.profile_id) if row and row.profile_id else None
            return profile.toml if profile else ""

    def set_profile(self, connection_id: int, toml: str) -> None:
        profile = parse_profile(toml, source="profile")
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            if row is None or row.profile_id is None:
                raise ConfigError(f"there is no connection {connection_id}")
            self._refuse_reference_conflict(
                session, row.administration_id, connection_id, profile.reference_prefix
            )
            session.execute(
                update(ProfileRow)
                .where(ProfileRow.id == row.profile_id)
                .values(toml=toml, updated_at=self._now())
            )

    # -- invoice references of connections sharing an administration (domain/references.py) --

    def reference_prefixes(
        self, administration_id: str, *, other_than: int | None = None
    ) -> list[str]:
        """The reference prefixes of the connections that book into ``administration_id``
        (except ``other_than``), oldest connection first."""
        with self._session() as session:
            return self._prefixes(session, administration_id, other_than)

    def reference_conflict(self, connection_id: int, prefix: str) -> str | None:
        """Why connection ``connection_id`` cannot use ``prefix`` (another connection in its
        administration could make the same references), or ``None``."""
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            if row is None:
                raise ConfigError(f"there is no connection {connection_id}")
            return conflict(prefix, self._prefixes(session, row.administration_id, connection_id))

    def _prefixes(
        self, session: Session, administration_id: str, other_than: int | None
    ) -> list[str]:
        if not administration_id:
            return []  # not connected to Moneybird yet: books into nothing
        query = (
            select(ConnectionRow.id, ProfileRow.toml)
            .outerjoin(ProfileRow, ProfileRow.id == ConnectionRow.profile_id)
            .where(ConnectionRow.administration_id == administration_id)
            .order_by(ConnectionRow.id)
        )
        if other_than is not None:
            query = query.where(ConnectionRow.id != other_than)
        return [_prefix_of(toml or "") for _id, toml in session.execute(query)]

    def _refuse_reference_conflict(
        self, session: Session, administration_id: str, connection_id: int | None, prefix: str
    ) -> None:
        problem = conflict(prefix, self._prefixes(session, administration_id, connection_id))
        if problem is not None:
            message = f"invoicing.reference_prefix: {problem}"
            raise ConfigError(f"profile is refused: {message}", problems=[message])

    def webhook_token(self, connection_id: int) -> str:
        with self._session() as session:
            row = session.get(ConnectionRow, connection_id)
            if row is None:
                raise ConfigError(f"there is no connection {connection_id}")
            return row.webhook_token

    def connection_for_webhook_token(self, token: str) -> int | None:
        with self._session() as session:
            found = session.scalar(
                select(ConnectionRow.id).where(ConnectionRow.webhook_token == token)
            )
            return int(found) if found is not None else None

    def pause(self, connection_id: int, reason: Reason | str) -> None:
        """Pause with a reason (a sentence alone, from an older caller, keeps no facts)."""
        if isinstance(reason, str):
            self._set_pause(connection_id, reason, known_text(reason), {})
        else:
            self._set_pause(connection_id, reason.text, reason.code, reason.stored_params())

    def resume(self, connection_id: int) -> None:
        self._set_pause(connection_id, "", "", {})

    def _set_pause(self, connection_id: int, text: str, code: str, params: dict[str, str]) -> None:
        with self._writing_session() as session:
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id)
                .values(
                    paused_reason=text,
                    paused_code=code,
                    paused_params=json.dumps(params, sort_keys=True),
                )
            )

    def mark_sync_failed(self, connection_id: int, at: datetime, error: str) -> None:
        with self._session() as session:
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id)
                .values(last_error=storable(error, 2000), last_error_at=at)
            )

    def mark_synced(self, connection_id: int, at: datetime, cursor: datetime | None) -> None:
        values: dict[str, Any] = {"last_sync_at": at, "last_error": "", "last_error_at": None}
        if cursor is not None:
            values["poll_cursor"] = cursor
        with self._session() as session:
            session.execute(
                update(ConnectionRow).where(ConnectionRow.id == connection_id).values(**values)
            )

    def acquire_lease(
        self, connection_id: int, owner: str, duration: timedelta = leases.LEASE
    ) -> DbLease | None:
        """Claim the connection for ``owner`` (one worker per connection): a lease with a new
        token, or ``None`` while another worker holds it."""
        return leases.acquire(self._statements, self._now, connection_id, owner, duration)

    def release_lease(self, lease: DbLease) -> None:
        leases.release(self._statements, lease)

    # -- order records ----------------------------------------------------------------------------

    def record(self, connection_id: int, order_id: str) -> OrderRecord:
        """The order's record, created (state waiting) when it has none yet.

        PostgreSQL: one statement (:func:`_record_or_new`). SQLite: one for a known order,
        two for a new one (read, then insert-or-ignore returning the row); a third read only
        when another worker inserted it in between.
        """
        if self._postgres:
            return _labelled_record(self._record_rows(_PG_RECORD, connection_id, order_id)[0])
        keys = {"c": connection_id, "o": order_id}
        with self._statements.begin() as connection:
            row = connection.execute(_FIND_RECORD_AND_CREDITS, keys).first()
            if row is not None:
                return _to_record(row, had_credits=row.had_credit_records)
            row = connection.execute(
                self._new_record,
                {
                    "connection_id": connection_id,
                    "order_id": order_id,
                    "state": SyncState.WAITING.value,
                    "updated_at": self._now(),
                },
            ).first()
            if row is None:  # another worker created it a moment ago
                row = connection.execute(_FIND_RECORD, keys).one()
        return _to_record(row)

    def connection_and_record(
        self, connection_id: int, order_id: str
    ) -> tuple[ConnectionInfo, OrderRecord]:
        """:meth:`connection` and :meth:`record` together: on PostgreSQL one statement (the
        record read or inserted in CTEs, joined to the connection's row), on SQLite two calls.
        """
        if not self._postgres:
            return self.connection(connection_id), self.record(connection_id, order_id)
        rows = self._record_rows(_PG_CONNECTION_AND_RECORD, connection_id, order_id)
        return _info_of(rows, connection_id), _labelled_record(rows[0])

    def _record_rows(self, statement: Any, connection_id: int, order_id: str) -> list[Any]:
        """PostgreSQL: the rows of a statement built on :func:`_record_or_new`, the record's
        columns on the first. Should another worker insert the record in the same moment,
        the statement finds neither its own insert nor theirs (one snapshot): it runs once
        more and reads theirs."""
        params = {"c": connection_id, "o": order_id, "n_at": self._now()}
        for _ in range(2):
            with self._statements.connect() as connection:
                rows = list(connection.execute(statement, params).all())
            if not rows:
                raise ConfigError(f"there is no connection {connection_id}")
            if rows[0].r_id is not None:
                return rows
        raise RecordMoved(f"order {order_id}'s record could not be read or made")

    @staticmethod
    def _record_row(session: Session, connection_id: int, order_id: str) -> OrderRecordRow | None:
        return session.scalar(
            select(OrderRecordRow).where(
                OrderRecordRow.connection_id == connection_id, OrderRecordRow.order_id == order_id
            )
        )

    def save(
        self,
        record: OrderRecord,
        event: str,
        message: Reason | str = "",
        *,
        earlier: Sequence[tuple[str, Reason | str]] = (),
        contact: tuple[str, str] | None = None,
    ) -> None:
        """Persist the record and its log lines at once: no ORM, one statement on PostgreSQL.

        ``earlier``: log lines of steps whose results are committed together with this one.
        ``contact``: (e-mail, contact id) to map as :meth:`remember_contact` does, in the same
        statement (or transaction); a lost lease writes it no more than the record.
        """
        now = self._now()
        values: dict[str, Any] = {name: getattr(record, name) for name in RECORD_FIELDS}
        # Bounded here, whatever the caller did: a shop's absurd order number must never fail
        # the insert (and with it the import of every other order).
        values["order_number"] = storable(record.order_number or "", REFERENCE_LIMIT)
        values["reason"] = storable(record.reason or "")
        values["reason_params"] = (
            None
            if record.reason_params is None
            else json.dumps(record.reason_params, sort_keys=True)
        )
        values.update(
            state=record.state.value,
            updated_at=now,
            b_connection=record.connection_id,
            b_order=record.order_id,
            b_version=record.version,
        )
        events = [
            {"at": now, "event": e, "state": record.state.value, **_event_message(m)}
            for e, m in (*earlier, (event, message))
        ]
        mapping = None
        if contact is not None:
            mapping = {
                "connection_id": record.connection_id,
                "email": _contact_key(contact[0]),
                "contact_id": contact[1],
            }
        if self._lease is not None and self._postgres:
            version = self._save_in_one_statement(record, values, events, mapping)
        else:
            version = self._save_in_a_transaction(record, values, events, mapping)
        record.updated_at, record.version = now, version

    def _save_in_a_transaction(
        self,
        record: OrderRecord,
        values: dict[str, Any],
        events: list[dict[str, Any]],
        mapping: dict[str, Any] | None = None,
    ) -> int:
        """Fence (when fenced), update over the version read, log (and map a contact): three
        statements or four."""
        fenced = self._lease is not None
        # Core statements built once (the hot path: every booking step saves): no ORM work.
        with self._writing() as connection:
            saved = connection.execute(_SAVE_FENCED if fenced else _SAVE_RECORD, values).first()
            if saved is None:
                self._refuse_unsaved(connection, record)
            row_id, version = saved
            connection.execute(_ADD_EVENT, [{"record_id": row_id, **e} for e in events])
            if mapping is not None:
                connection.execute(self._new_contact, mapping)
        return int(version)

    def _save_in_one_statement(
        self,
        record: OrderRecord,
        values: dict[str, Any],
        events: list[dict[str, Any]],
        mapping: dict[str, Any] | None = None,
    ) -> int:
        """PostgreSQL, fenced: the fence, the update and the log lines (and a contact's
        mapping) in one statement (:func:`_fenced_save`), so one round trip where a
        transaction took five. All or nothing as before: the update needs the fence, the log
        lines need the update."""
        params = dict(values)
        for number, line in enumerate(events):
            params.update({f"{name}_{number}": value for name, value in line.items()})
        if mapping is not None:
            params.update({f"m_{name}": value for name, value in mapping.items()})
        statement = _fenced_save(len(events), mapping is not None)
        with self._statements.connect() as connection:
            row_id, version = self._run_fenced(connection, statement, params)
            if row_id is None:
                self._refuse_unsaved(connection, record)
        return int(version)

    def _run_fenced(
        self, connection: Connection, statement: Any, params: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Run a statement built on :func:`_fence` (PostgreSQL, autocommit): its first column
        says whether the lease held (:class:`LeaseLost` if not), the rest is returned."""
        lease = self._lease
        assert lease is not None
        until = self._now() + lease.duration
        fence = {"f_c": lease.connection_id, "f_t": lease.token, "f_until": until}
        fenced, *rest = connection.execute(statement, {**params, **fence}).one()
        if not fenced:
            raise lease.lost()
        lease.until = until
        return tuple(rest)

    @staticmethod
    def _refuse_unsaved(connection: Connection, record: OrderRecord) -> NoReturn:
        """Why a save changed no row: moved on by someone else, or never there."""
        keys = {"c": record.connection_id, "o": record.order_id}
        if connection.execute(_FIND_RECORD, keys).first() is not None:
            raise RecordMoved(
                f"order {record.order_id}: its record was changed by someone else since "
                "this worker read it; this worker stops and writes nothing more"
            )
        raise ConfigError(f"order {record.order_id} has no record")

    def records(
        self,
        connection_id: int,
        *,
        states: Iterable[SyncState] | None = None,
        search: str = "",
        limit: int | None = None,
        offset: int = 0,
        credit_states: Iterable[CreditState] | None = None,
    ) -> list[OrderRecord]:
        """The connection's orders, newest first. An order is listed when its state is one of
        ``states`` *or* it has a credit in one of ``credit_states`` (the web app's "credited"
        list: orders with credits booked by ccvbird, and those a person credited in Moneybird);
        neither given: every order. ``search``: part of its order or invoice number."""
        query = select(OrderRecordRow).where(
            self._records_where(connection_id, states, credit_states, search)
        )
        query = query.order_by(OrderRecordRow.order_created_at.desc(), OrderRecordRow.id.desc())
        if limit is not None:
            query = query.limit(limit).offset(offset)
        with self._session() as session:
            return [_to_record(row) for row in session.scalars(query)]

    def count_records(
        self,
        connection_id: int,
        *,
        states: Iterable[SyncState] | None = None,
        credit_states: Iterable[CreditState] | None = None,
    ) -> int:
        """How many orders :meth:`records` lists for these states (the dashboard's tiles)."""
        query = select(func.count()).select_from(OrderRecordRow)
        query = query.where(self._records_where(connection_id, states, credit_states, ""))
        with self._session() as session:
            return int(session.scalar(query) or 0)

    @staticmethod
    def _records_where(
        connection_id: int,
        states: Iterable[SyncState] | None,
        credit_states: Iterable[CreditState] | None,
        search: str,
    ) -> ColumnElement[bool]:
        where: ColumnElement[bool] = OrderRecordRow.connection_id == connection_id
        either: list[ColumnElement[bool]] = []
        if states is not None:
            either.append(OrderRecordRow.state.in_([s.value for s in states]))
        if credit_states is not None:
            credited = select(CreditRecordRow.order_id).where(
                CreditRecordRow.connection_id == connection_id,
                CreditRecordRow.state.in_([s.value for s in credit_states]),
            )
            either.append(OrderRecordRow.order_id.in_(credited))
        if either:
            where = and_(where, or_(*either))
        if search:
            pattern = f"%{search}%"
            where = and_(
                where,
                OrderRecordRow.order_number.ilike(pattern)
                | OrderRecordRow.order_id.ilike(pattern)
                | OrderRecordRow.invoice_number.ilike(pattern),
            )
        return where

    def claim_due(
        self, connection_id: int, now: datetime, *, until: datetime, limit: int = 500
    ) -> list[str]:
        """The orders whose booking is due (retry time reached, or a booking interrupted with no
        time at all), oldest time first; each is claimed until ``until`` in the same statement,
        so a second scheduler or pass running meanwhile does not take it as well.

        One ``UPDATE … RETURNING`` on the ``(connection_id, next_attempt_at)`` index: the cost
        grows with the bookings that are due, not with the orders ccvbird knows.
        """
        return self._claim(_RECORDS, connection_id, _due_clause(now), until, limit)

    def _claim(
        self, table: Table, connection_id: int, due: Any, until: datetime, limit: int
    ) -> list[str]:
        """Set ``next_attempt_at = until`` on up to ``limit`` due rows of ``table``, the first
        due first, in one ``UPDATE … RETURNING``; their order ids, each once."""
        chosen = (
            select(table.c.id)
            .where(table.c.connection_id == connection_id, due)
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(limit)
        )
        claim = (
            update(table)
            .where(table.c.connection_id == connection_id, table.c.id.in_(chosen), due)
            .values(next_attempt_at=until)
            .returning(table.c.order_id)
        )
        with self._engine.begin() as connection:
            return list(dict.fromkeys(str(o) for o in connection.execute(claim).scalars()))

    def retries_waiting(self, connection_id: int) -> tuple[int, datetime | None]:
        """(how many bookings wait to be looked at again, when the first of them is due):
        ``ccvbird status``. ``None`` as the time with a count: due now."""
        waiting = (_RECORDS.c.state == SyncState.BOOKING.value) | (
            _RECORDS.c.state.in_(_RETRY_STATES) & _RECORDS.c.next_attempt_at.is_not(None)
        )
        with self._statements.connect() as connection:
            count, first = connection.execute(
                select(func.count(), func.min(_RECORDS.c.next_attempt_at)).where(
                    _RECORDS.c.connection_id == connection_id, waiting
                )
            ).one()
        if first is not None and first.tzinfo is None:  # an aggregate skips the column's type
            first = first.replace(tzinfo=UTC)
        return int(count), first

    def find_record(self, connection_id: int, order_id: str) -> OrderRecord | None:
        """The order's record, or ``None`` (unlike :meth:`record`, never creates one)."""
        with self._session() as session:
            row = self._record_row(session, connection_id, order_id)
            return _to_record(row) if row is not None else None

    def record_for_invoice(self, connection_id: int, invoice_id: str) -> OrderRecord | None:
        """The order booked as Moneybird invoice ``invoice_id`` (one at most: unique)."""
        with self._session() as session:
            row = session.scalar(
                select(OrderRecordRow).where(
                    OrderRecordRow.connection_id == connection_id,
                    OrderRecordRow.invoice_id == invoice_id,
                )
            )
            return _to_record(row) if row is not None else None

    def count_states(self, connection_id: int) -> dict[SyncState, int]:
        with self._session() as session:
            rows = session.execute(
                select(OrderRecordRow.state, func.count())
                .where(OrderRecordRow.connection_id == connection_id)
                .group_by(OrderRecordRow.state)
            ).all()
        return {SyncState(state): int(count) for state, count in rows}

    def state_counts(self) -> dict[tuple[int, SyncState], int]:
        """Orders by connection and state, of every connection (one query, for ``/metrics``)."""
        with self._session() as session:
            rows = session.execute(
                select(OrderRecordRow.connection_id, OrderRecordRow.state, func.count()).group_by(
                    OrderRecordRow.connection_id, OrderRecordRow.state
                )
            ).all()
        return {(int(cid), SyncState(state)): int(count) for cid, state, count in rows}

    def events(self, connection_id: int, order_id: str) -> list[EventView]:
        with self._session() as session:
            row = self._record_row(session, connection_id, order_id)
            if row is None:
                return []
            events = session.scalars(
                select(OrderEventRow)
                .where(OrderEventRow.record_id == row.id)
                .order_by(OrderEventRow.id)
            )
            return [
                EventView(e.at, e.event, e.state, e.message, e.code, decode_params(e.params))
                for e in events
            ]

    # -- credit records (schema 0009) ---------------------------------------------------------

    def credit_record(
        self, connection_id: int, order_id: str, credit_key: str, reference_of: Any
    ) -> CreditRecord:
        """The credit's record, created (state waiting, the order's next ``seq``) when new.

        ``reference_of(seq)`` gives the reference for a new record's number. Two workers racing
        on one credit meet the unique constraints: the loser reads the winner's record."""
        for _ in range(3):
            with self._session() as session:
                row = session.scalar(_credit_query(connection_id, order_id, credit_key))
                if row is not None:
                    return _to_credit(row)
            try:
                with self._writing_session() as session:
                    last = session.scalar(
                        select(func.max(CreditRecordRow.seq)).where(
                            CreditRecordRow.connection_id == connection_id,
                            CreditRecordRow.order_id == order_id,
                        )
                    )
                    seq = int(last or 0) + 1
                    now = self._now()
                    session.add(
                        CreditRecordRow(
                            connection_id=connection_id,
                            order_id=order_id,
                            credit_key=credit_key,
                            seq=seq,
                            reference=str(reference_of(seq)),
                            state=CreditState.WAITING.value,
                            reason="",
                            reason_code="",
                            reason_params="{}",
                            attempts=0,
                            kind="sales_invoice",
                            credit_intent=False,
                            edit_intent=False,
                            edited=False,
                            send_intent=False,
                            sent=False,
                            settle_intent=False,
                            settle_method="",
                            vat="{}",
                            quantities="{}",
                            created_at=now,
                            updated_at=now,
                            version=0,
                        )
                    )
            except IntegrityError:
                continue  # another worker numbered a credit of this order meanwhile
        with self._session() as session:
            return _to_credit(
                session.scalars(_credit_query(connection_id, order_id, credit_key)).one()
            )

    def credit_records(self, connection_id: int, order_id: str | None = None) -> list[CreditRecord]:
        """The credits of one order (or of the connection), in their order."""
        query, keys = (
            (_CONNECTION_CREDITS, {"c": connection_id})
            if order_id is None
            else (_ORDER_CREDITS, {"c": connection_id, "o": order_id})
        )
        with self._statements.connect() as connection:  # read before every first booking
            return [_to_credit(row) for row in connection.execute(query, keys)]

    def save_credit(self, record: CreditRecord, event: str, message: Reason | str = "") -> None:
        """Persist the credit record (only over the version read, when fenced) and log the step
        on its order's event log, in one transaction."""
        now = self._now()
        with self._writing_session() as session:
            row = session.scalar(
                _credit_query(record.connection_id, record.order_id, record.credit_key)
            )
            if row is None:
                raise ConfigError(f"credit {record.reference} has no record")
            if self._lease is not None and row.version != record.version:
                raise RecordMoved(
                    f"credit {record.reference}: its record was changed by someone else since "
                    "this worker read it; this worker stops and writes nothing more"
                )
            for name in _CREDIT_FIELDS:
                setattr(row, name, getattr(record, name))
            row.state = record.state.value
            row.reason = storable(record.reason or "")
            row.reason_params = json.dumps(dict(record.reason_params), sort_keys=True)
            row.vat = json.dumps({k: str(v) for k, v in record.vat.items()})
            row.quantities = json.dumps({k: str(v) for k, v in record.quantities.items()})
            row.updated_at = now
            row.version = record.version + 1
            order_row = self._record_row(session, record.connection_id, record.order_id)
            if order_row is not None:
                words = (
                    _event_message(message)
                    if isinstance(message, Reason)
                    else _event_message(
                        f"{record.reference}: {message}" if message else record.reference
                    )
                )
                session.add(
                    OrderEventRow(
                        record_id=order_row.id,
                        at=now,
                        event=event,
                        state=f"credit:{record.state.value}",
                        **words,
                    )
                )
        record.updated_at, record.version = now, record.version + 1

    def credits_due(self, connection_id: int, now: datetime) -> list[str]:
        """Orders with a credit whose retry time has come (or that was interrupted)."""
        query = (
            select(CreditRecordRow.order_id)
            .where(
                CreditRecordRow.connection_id == connection_id,
                CreditRecordRow.state == CreditState.BOOKING.value,
                CreditRecordRow.next_attempt_at.is_(None)
                | (CreditRecordRow.next_attempt_at <= now),
            )
            .distinct()
        )
        with self._session() as session:
            return [str(order_id) for order_id in session.scalars(query)]

    def claim_credits_due(
        self, connection_id: int, now: datetime, *, until: datetime, limit: int = 500
    ) -> list[str]:
        """The orders with a credit whose retry time has come (or that was interrupted with
        no time), each such credit claimed until ``until`` in the same statement, like
        :meth:`claim_due`: whatever the order's date or state, its credit is taken up."""
        table = cast(Table, CreditRecordRow.__table__)
        due = (table.c.state == CreditState.BOOKING.value) & (
            table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now)
        )
        return self._claim(table, connection_id, due, until, limit)

    def count_credit_states(self, connection_id: int) -> dict[CreditState, int]:
        with self._session() as session:
            rows = session.execute(
                select(CreditRecordRow.state, func.count())
                .where(CreditRecordRow.connection_id == connection_id)
                .group_by(CreditRecordRow.state)
            ).all()
        return {CreditState(state): int(count) for state, count in rows}

    def credited_orders(self, connection_id: int) -> set[str]:
        """Orders with at least one credit booked in Moneybird."""
        query = select(CreditRecordRow.order_id).where(
            CreditRecordRow.connection_id == connection_id,
            CreditRecordRow.state == CreditState.BOOKED.value,
        )
        with self._session() as session:
            return {str(order_id) for order_id in session.scalars(query)}

    # -- contacts ---------------------------------------------------------------------------------

    def contact_id_for(self, connection_id: int, email: str) -> str | None:
        """The contact to use for the e-mail (:meth:`find_contact`)."""
        return self.find_contact(connection_id, email).contact_id

    def find_contact(self, connection_id: int, email: str) -> ContactLookup:
        """The contact to use for the e-mail, in this order: the one this connection mapped it
        to; the one another shop booking into the same administration mapped it to (one
        contact per e-mail per administration, not per connection); else the best match in
        the administration's contact directory. With when that directory was refreshed: one
        query for all four."""
        key = _contact_key(email)
        with self._statements.connect() as connection:
            rows = connection.execute(_CONTACT_CANDIDATES, {"c": connection_id, "e": key}).all()
        refreshed = next((row.refreshed_at for row in rows if row.kind == _REFRESHED), None)
        return ContactLookup(_best_contact(rows, key), refreshed)

    def remember_contact(self, connection_id: int, email: str, contact_id: str) -> None:
        """Map the e-mail to the contact; the first mapping stays (insert-or-ignore)."""
        values = {
            "connection_id": connection_id,
            "email": _contact_key(email),
            "contact_id": contact_id,
        }
        if self._lease is not None and self._postgres:
            with self._statements.connect() as connection:
                self._run_fenced(connection, _fenced_remember(), values)
            return
        with self._writing() as connection:
            connection.execute(self._new_contact, values)

    def contact_directory(self, connection_id: int) -> dict[str, int]:
        with self._statements.connect() as connection:
            rows = connection.execute(
                select(_DIRECTORY.c.contact_id, _DIRECTORY.c.version).where(
                    _DIRECTORY.c.connection_id == connection_id
                )
            )
            return {contact_id: version for contact_id, version in rows}

    def invalidate_contact_directory(self, connection_id: int) -> None:
        """Not fenced: it only makes the next lookup read Moneybird again, which is safe for
        whoever holds the lease — and it is what must happen after a create that failed."""
        with self._session() as session:
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id)
                .values(contacts_refreshed_at=None)
            )

    def update_contact_directory(
        self,
        connection_id: int,
        contacts: list[RemoteContact],
        removed: Iterable[str],
        at: datetime,
    ) -> None:
        gone = [*removed, *(c.id for c in contacts)]
        with self._writing_session() as session:
            for chunk in _chunks(gone, 500):
                session.execute(
                    delete(DirectoryEmailRow).where(
                        DirectoryEmailRow.connection_id == connection_id,
                        DirectoryEmailRow.contact_id.in_(chunk),
                    )
                )
                session.execute(
                    delete(DirectoryContactRow).where(
                        DirectoryContactRow.connection_id == connection_id,
                        DirectoryContactRow.contact_id.in_(chunk),
                    )
                )
            for contact in contacts:
                session.add(
                    DirectoryContactRow(
                        connection_id=connection_id,
                        contact_id=contact.id,
                        version=contact.version,
                        archived=contact.archived,
                    )
                )
                for email in {normalise_email(e) for e in contact.emails if e.strip()}:
                    session.add(
                        DirectoryEmailRow(
                            connection_id=connection_id, email=email, contact_id=contact.id
                        )
                    )
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id)
                .values(contacts_refreshed_at=at)
            )

    # -- webhook deliveries -----------------------------------------------------------------------

    def record_delivery(
        self, connection_id: int, source: str, key: str, event: str, order_id: str | None
    ) -> bool:
        """Record a webhook delivery; False when this delivery was seen before (a duplicate)."""
        with self._session() as session:
            session.add(
                WebhookDeliveryRow(
                    connection_id=connection_id,
                    source=source,
                    delivery_key=key,
                    event=event,
                    order_id=order_id,
                    received_at=self._now(),
                )
            )
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:
                return False
            return True

    def delivery_to_queue(
        self, connection_id: int, source: str, key: str, event: str, order_id: str | None
    ) -> bool:
        """Record a delivery whose order is to be queued; False when it was queued before.

        A delivery recorded earlier whose queueing failed (never marked with
        :meth:`delivery_queued`) answers True again: the sender's retry must reach the queue.
        """
        with self._session() as session:
            queued = session.scalar(
                select(WebhookDeliveryRow.queued).where(
                    WebhookDeliveryRow.source == source, WebhookDeliveryRow.delivery_key == key
                )
            )
            if queued is not None:
                return not queued
            session.add(
                WebhookDeliveryRow(
                    connection_id=connection_id, source=source, delivery_key=key, event=event,
                    order_id=order_id, received_at=self._now(), queued=False,
                )
            )  # fmt: skip
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:
                return False  # the same delivery, recorded a moment ago by a concurrent request
            return True

    def delivery_queued(self, source: str, key: str) -> None:
        """The delivery's order is on the queue: a repeat of it is a duplicate from now on."""
        with self._session() as session:
            session.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.source == source, WebhookDeliveryRow.delivery_key == key)
                .values(queued=True)
            )


_RECORDS = cast(Table, OrderRecordRow.__table__)
_SAVE_RECORD = (
    _RECORDS.update()
    .where(
        _RECORDS.c.connection_id == bindparam("b_connection"),
        _RECORDS.c.order_id == bindparam("b_order"),
    )
    .values(
        {
            **{
                name: bindparam(name)
                for name in (*RECORD_FIELDS, "reason_params", "state", "updated_at")
            },
            "version": _RECORDS.c.version + 1,
        }
    )
    .returning(_RECORDS.c.id, _RECORDS.c.version)
)
#: States in which a record's ``next_attempt_at`` says when the engine looks at it again.
_RETRY_STATES = (SyncState.BOOKING.value, SyncState.WAITING.value)
#: ... and an open invoice is read again at its time to see whether CCV says it is paid now.
_DUE_STATES = (*_RETRY_STATES, SyncState.AWAITING_PAYMENT.value)


def _due_clause(now: datetime) -> Any:
    """Records due at ``now``: their time has come, or a booking has no time (interrupted
    before ccvbird gave every booking one)."""
    return (_RECORDS.c.state.in_(_DUE_STATES) & (_RECORDS.c.next_attempt_at <= now)) | (
        (_RECORDS.c.state == SyncState.BOOKING.value) & _RECORDS.c.next_attempt_at.is_(None)
    )


#: A lease holder's save: only over the version it read (else someone else advanced it).
_SAVE_FENCED = _SAVE_RECORD.where(_RECORDS.c.version == bindparam("b_version"))
_FIND_RECORD = select(_RECORDS).where(
    _RECORDS.c.connection_id == bindparam("c"), _RECORDS.c.order_id == bindparam("o")
)
_EVENTS = cast(Table, OrderEventRow.__table__)
_ADD_EVENT = _EVENTS.insert()
_EVENT_COLUMNS = ("at", "event", "state", "message", "code", "params")


def _fence() -> Any:
    """PostgreSQL: the lease renewal of a fenced write as a CTE of the write's own statement
    (the lease renewed where the token is still ours, RETURNING the connection's id)."""
    return (
        _CONNECTIONS.update()
        .where(
            _CONNECTIONS.c.id == bindparam("f_c"), _CONNECTIONS.c.lease_token == bindparam("f_t")
        )
        .values(lease_until=bindparam("f_until"))
        .returning(_CONNECTIONS.c.id)
        .cte("fence")
    )


@lru_cache(maxsize=16)
def _fenced_save(lines: int, mapped: bool = False) -> Any:
    """PostgreSQL: a fenced save with ``lines`` log lines as one statement.

    ``WITH fence AS (UPDATE connections … lease renewed where the token is ours RETURNING id),
    saved AS (UPDATE order_records … over the version read AND EXISTS (fence) RETURNING id,
    version), logged AS (INSERT INTO order_events SELECT saved.id, … FROM saved)
    SELECT EXISTS (fence), saved.id, saved.version``: one row whatever happened, telling a lost
    lease (no fence) from a record moved on (fence, nothing saved). Data-modifying CTEs run
    once and to completion in one snapshot; a statement is atomic on its own.

    ``mapped``: also ``remembered AS (INSERT INTO contacts … WHERE EXISTS (fence) ON CONFLICT
    DO NOTHING)``, the e-mail's new contact (``m_*`` parameters).
    """
    fence = _fence()
    saved = _SAVE_FENCED.where(select(fence.c.id).exists()).cte("saved")
    rows = [
        select(
            saved.c.id,
            *(bindparam(f"{name}_{number}", type_=_EVENTS.c[name].type) for name in _EVENT_COLUMNS),
        )
        for number in range(lines)
    ]
    logged = (
        _EVENTS.insert()
        .from_select(["record_id", *_EVENT_COLUMNS], union_all(*rows) if lines > 1 else rows[0])
        .cte("logged")
    )
    statement = select(
        select(fence.c.id).exists().label("fenced"),
        select(saved.c.id).scalar_subquery().label("id"),
        select(saved.c.version).scalar_subquery().label("version"),
    ).add_cte(logged)
    return statement.add_cte(_remembered(fence, "m_")) if mapped else statement


def _remembered(fence: Any, prefix: str = "") -> Any:
    """PostgreSQL: the fenced insert-or-ignore of an e-mail's contact, as a CTE."""
    values = select(
        *(
            bindparam(prefix + name, type_=_CONTACTS.c[name].type)
            for name in ("connection_id", "email", "contact_id")
        )
    ).where(select(fence.c.id).exists())
    return (
        postgresql_insert(_CONTACTS)
        .from_select(["connection_id", "email", "contact_id"], values)
        .on_conflict_do_nothing(index_elements=["connection_id", "email"])
        .cte("remembered")
    )


@lru_cache(maxsize=1)
def _fenced_remember() -> Any:
    """PostgreSQL: a fenced insert-or-ignore of an e-mail's contact as one statement."""
    fence = _fence()
    return select(select(fence.c.id).exists().label("fenced")).add_cte(_remembered(fence))


def _contact_key(email: str) -> str:
    """The key an e-mail's contact is mapped under: the normalised address (a guest key
    as it is)."""
    return normalise_email(email) if "@" in email else email


_CONNECTIONS = cast(Table, ConnectionRow.__table__)
_CONTACTS = cast(Table, ContactRow.__table__)
_NEIGHBOURS_TABLE = _CONNECTIONS.alias("neighbour_connection")
_DIRECTORY = cast(Table, DirectoryContactRow.__table__)
_DIRECTORY_EMAILS = cast(Table, DirectoryEmailRow.__table__)
#: What a client is built from (read for every order: clients are cached per its version).
_CREDENTIALS = select(
    _CONNECTIONS.c.ccv_secret,
    _CONNECTIONS.c.moneybird_credentials,
    _CONNECTIONS.c.shop_url,
    _CONNECTIONS.c.moneybird_url,
    _CONNECTIONS.c.administration_id,
).where(_CONNECTIONS.c.id == bindparam("c"))
_CREDITS = cast(Table, CreditRecordRow.__table__)
_CONNECTION_CREDITS = (
    select(_CREDITS)
    .where(_CREDITS.c.connection_id == bindparam("c"))
    .order_by(_CREDITS.c.order_id, _CREDITS.c.seq)
)
_ORDER_CREDITS = _CONNECTION_CREDITS.where(_CREDITS.c.order_id == bindparam("o"))
_OWN = _CONNECTIONS.alias("own")
_SAME_ADMINISTRATION = (
    select(_NEIGHBOURS_TABLE.c.id)
    .join(_OWN, _OWN.c.administration_id == _NEIGHBOURS_TABLE.c.administration_id)
    .where(
        _OWN.c.id == bindparam("c"),
        _NEIGHBOURS_TABLE.c.id != _OWN.c.id,
        _OWN.c.administration_id != "",
    )
)
#: Where a candidate contact of :meth:`SqlStore.find_contact` comes from, best first; the
#: last row is the connection's, with when its contact directory was refreshed.
_OWN_MAP, _NEIGHBOUR_MAP, _FOUND, _REFRESHED = 0, 1, 2, 3
_NO_TIME = sql_cast(null(), _CONNECTIONS.c.contacts_refreshed_at.type)
_CONTACT_CANDIDATES = union_all(
    select(
        literal(_OWN_MAP).label("kind"),
        _CONTACTS.c.connection_id.label("rank"),
        _CONTACTS.c.contact_id,
        literal(False).label("archived"),
        _NO_TIME.label("refreshed_at"),
    ).where(_CONTACTS.c.connection_id == bindparam("c"), _CONTACTS.c.email == bindparam("e")),
    select(
        literal(_NEIGHBOUR_MAP),
        _CONTACTS.c.connection_id,
        _CONTACTS.c.contact_id,
        literal(False),
        _NO_TIME,
    ).where(
        _CONTACTS.c.connection_id.in_(_SAME_ADMINISTRATION), _CONTACTS.c.email == bindparam("e")
    ),
    select(
        literal(_REFRESHED),
        literal(0),
        literal(""),
        literal(False),
        _CONNECTIONS.c.contacts_refreshed_at,
    ).where(_CONNECTIONS.c.id == bindparam("c")),
    select(
        literal(_FOUND),
        literal(0),
        _DIRECTORY_EMAILS.c.contact_id,
        _DIRECTORY.c.archived,
        _NO_TIME,
    )
    .join(
        _DIRECTORY,
        (_DIRECTORY.c.connection_id == _DIRECTORY_EMAILS.c.connection_id)
        & (_DIRECTORY.c.contact_id == _DIRECTORY_EMAILS.c.contact_id),
    )
    .where(
        _DIRECTORY_EMAILS.c.connection_id == bindparam("c"),
        _DIRECTORY_EMAILS.c.email == bindparam("e"),
    ),
)
_PROFILES = cast(Table, ProfileRow.__table__)
_INFO_COLUMNS = (
    _CONNECTIONS.c.id,
    _CONNECTIONS.c.name,
    _CONNECTIONS.c.shop_url,
    _CONNECTIONS.c.administration_id,
    _CONNECTIONS.c.start_date,
    _CONNECTIONS.c.paused_reason,
    _CONNECTIONS.c.paused_code,
    _CONNECTIONS.c.paused_params,
    _CONNECTIONS.c.enabled,
    _CONNECTIONS.c.last_sync_at,
    _CONNECTIONS.c.poll_cursor,
    _CONNECTIONS.c.created_at,
    _CONNECTIONS.c.last_error,
    _CONNECTIONS.c.last_error_at,
    _PROFILES.c.toml,
)
_WITH_PROFILE = _CONNECTIONS.outerjoin(_PROFILES, _PROFILES.c.id == _CONNECTIONS.c.profile_id)
_CONNECTION_INFO = select(*_INFO_COLUMNS).select_from(_WITH_PROFILE)
#: The other connections of the same administration, for their reference prefixes.
_NEIGHBOURS = _CONNECTIONS.alias("neighbour")
_NEIGHBOUR_PROFILES = _PROFILES.alias("neighbour_profile")
_ONE_CONNECTION = (
    select(
        *_INFO_COLUMNS,
        _NEIGHBOURS.c.id.label("neighbour_id"),
        _NEIGHBOUR_PROFILES.c.toml.label("neighbour_toml"),
    )
    .select_from(
        _WITH_PROFILE.outerjoin(
            _NEIGHBOURS,
            (_NEIGHBOURS.c.administration_id == _CONNECTIONS.c.administration_id)
            & (_NEIGHBOURS.c.id != _CONNECTIONS.c.id)
            & (_CONNECTIONS.c.administration_id != ""),
        ).outerjoin(_NEIGHBOUR_PROFILES, _NEIGHBOUR_PROFILES.c.id == _NEIGHBOURS.c.profile_id)
    )
    .where(_CONNECTIONS.c.id == bindparam("c"))
    .order_by(_NEIGHBOURS.c.id)
)

#: Whether the order has credit records (read with its record: a first booking need not ask).
_HAS_CREDITS = (
    select(_CREDITS.c.id)
    .where(_CREDITS.c.connection_id == bindparam("c"), _CREDITS.c.order_id == bindparam("o"))
    .exists()
)
_FIND_RECORD_AND_CREDITS = select(_RECORDS, _HAS_CREDITS.label("had_credit_records")).where(
    _RECORDS.c.connection_id == bindparam("c"), _RECORDS.c.order_id == bindparam("o")
)
_RECORD_COLUMNS = tuple(column.name for column in _RECORDS.c)


def _record_or_new() -> Any:
    """PostgreSQL: the order's record, inserted (state waiting) when there is none, as a
    subquery of one statement: ``WITH found AS (SELECT … the record), new AS (INSERT … SELECT
    … WHERE NOT EXISTS (found) AND the connection exists ON CONFLICT DO NOTHING RETURNING …)
    … (found UNION ALL new)``. Empty only when another worker inserted it this very moment
    (both CTEs see one snapshot): read again."""
    found = select(_RECORDS).where(
        _RECORDS.c.connection_id == bindparam("c"), _RECORDS.c.order_id == bindparam("o")
    )
    found_cte = found.cte("found")
    values = select(
        bindparam("c", type_=_RECORDS.c.connection_id.type),
        bindparam("o", type_=_RECORDS.c.order_id.type),
        literal(SyncState.WAITING.value, type_=_RECORDS.c.state.type),
        bindparam("n_at", type_=_RECORDS.c.updated_at.type),
    ).where(
        ~select(found_cte.c.id).exists(),
        select(_CONNECTIONS.c.id).where(_CONNECTIONS.c.id == bindparam("c")).exists(),
    )
    new = (
        postgresql_insert(_RECORDS)
        .from_select(["connection_id", "order_id", "state", "updated_at"], values)
        .on_conflict_do_nothing(index_elements=["connection_id", "order_id"])
        .returning(*_RECORDS.c)
        .cte("new")
    )
    return union_all(select(found_cte), select(new)).subquery("record")


_RECORD_OR_NEW = _record_or_new()
_RECORD_LABELLED = (
    *(_RECORD_OR_NEW.c[name].label(f"r_{name}") for name in _RECORD_COLUMNS),
    _HAS_CREDITS.label("r_had_credit_records"),
)
#: PostgreSQL: :meth:`SqlStore.record` in one statement.
_PG_RECORD = select(*_RECORD_LABELLED).select_from(_RECORD_OR_NEW)
#: PostgreSQL: :data:`_ONE_CONNECTION` with the order's record on each row (one statement for
#: the first read of every order the engine syncs).
_PG_CONNECTION_AND_RECORD = _ONE_CONNECTION.add_columns(*_RECORD_LABELLED).outerjoin(
    _RECORD_OR_NEW, true()
)


def _insert_ignoring(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in the database's own dialect: one statement
    where a read-then-insert would race with another worker."""
    if dialect == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing(index_elements=list(unique))
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(unique))
    raise ConfigError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")


def _info(row: Any, neighbours: tuple[tuple[int, str], ...] = ()) -> ConnectionInfo:
    return ConnectionInfo(
        id=row.id,
        name=row.name,
        shop_url=row.shop_url,
        administration_id=row.administration_id,
        profile=_parsed_profile(row.toml or "", f"profile of {row.name}"),
        start_date=row.start_date,
        paused_reason=row.paused_reason,
        paused_code=row.paused_code or "",
        paused_params=decode_params(row.paused_params) or {},
        enabled=row.enabled,
        last_sync_at=row.last_sync_at,
        poll_cursor=row.poll_cursor,
        created_at=row.created_at,
        last_error=row.last_error or "",
        last_error_at=row.last_error_at,
        neighbours=neighbours,
    )


@lru_cache(maxsize=256)
def _prefix_of(toml: str) -> str:
    """Another connection's reference prefix; an unreadable profile counts as none (that
    connection books nothing until its profile is fixed, and the fix is checked)."""
    try:
        return parse_profile(toml, source="profile").reference_prefix
    except ConfigError:
        return ""


@lru_cache(maxsize=64)
def _parsed_profile(toml: str, source: str) -> MappingProfile:
    """Profiles are read for every order; parse each version of the text once."""
    return parse_profile(toml, source=source)


def _to_record(row: Any, *, prefix: str = "", had_credits: bool | None = None) -> OrderRecord:
    """From an ORM row or a Core row alike (its columns named ``prefix`` + the field)."""
    if prefix:
        mapping = row._mapping
        row = _Prefixed({name: mapping[prefix + name] for name in _RECORD_COLUMNS})
    record = OrderRecord(
        connection_id=row.connection_id, order_id=row.order_id, state=SyncState(row.state)
    )
    for name in RECORD_FIELDS:
        setattr(record, name, getattr(row, name))
    record.reason_params = decode_params(row.reason_params)
    if record.reason_params is None and not record.reason_code:
        record.reason_params = {}  # nothing to say: nothing an older version said either
    record.updated_at, record.version = row.updated_at, row.version
    record.had_credit_records = None if had_credits is None else bool(had_credits)
    return record


def _labelled_record(row: Any) -> OrderRecord:
    """The record of a row of :func:`_record_or_new`'s statements (its columns ``r_*``)."""
    return _to_record(row, prefix="r_", had_credits=row.r_had_credit_records)


class _Prefixed(dict[str, Any]):
    """A row's record columns by their own names (read with attribute access)."""

    __getattr__ = dict.__getitem__


def _info_of(rows: Sequence[Any], connection_id: int) -> ConnectionInfo:
    """A :class:`ConnectionInfo` from the rows of :data:`_ONE_CONNECTION` (or a statement
    built on it): the connection on each, one neighbour per row."""
    if not rows:
        raise ConfigError(f"there is no connection {connection_id}")
    neighbours = tuple(
        (row.neighbour_id, _prefix_of(row.neighbour_toml or ""))
        for row in rows
        if row.neighbour_id is not None
    )
    return _info(rows[0], neighbours)


def _best_contact(rows: Sequence[Any], key: str) -> str | None:
    """Of :data:`_CONTACT_CANDIDATES`' rows: a mapping of this connection, else one of a
    neighbour (e-mails only, not the guest keys), else the best directory match (an active
    contact, then the oldest: the smallest id)."""
    for source in (_OWN_MAP, _NEIGHBOUR_MAP):
        mapped = sorted((row.rank, row.contact_id) for row in rows if row.kind == source)
        if mapped and (source == _OWN_MAP or "@" in key):
            return str(mapped[0][1])
    candidates = [(row.contact_id, row.archived) for row in rows if row.kind == _FOUND]
    if not candidates:
        return None
    best = sorted(candidates, key=lambda c: (bool(c[1]), len(c[0]), c[0]))[0]
    return str(best[0])


def _event_message(message: Reason | str) -> dict[str, str | None]:
    """A log line's message columns: the English, and the code and facts when it has them."""
    if isinstance(message, Reason):
        params = json.dumps(message.stored_params(), sort_keys=True)
        return {"message": storable(message.text), "code": message.code, "params": params}
    return {"message": storable(message), "code": "", "params": None}


_CREDIT_FIELDS = (
    "reason_code", "attempts", "next_attempt_at", "kind", "credit_intent", "credit_id",
    "edit_intent", "edited", "send_intent", "sent", "settle_intent", "settle_method",
    "settlement_id", "total",
)  # fmt: skip


def _credit_query(connection_id: int, order_id: str, credit_key: str) -> Any:
    return select(CreditRecordRow).where(
        CreditRecordRow.connection_id == connection_id,
        CreditRecordRow.order_id == order_id,
        CreditRecordRow.credit_key == credit_key,
    )


def _to_credit(row: Any) -> CreditRecord:
    """From an ORM row or a Core row alike."""
    record = CreditRecord(
        connection_id=row.connection_id,
        order_id=row.order_id,
        credit_key=row.credit_key,
        seq=row.seq,
        reference=row.reference,
        state=CreditState(row.state),
        reason=row.reason,
        reason_params=json.loads(row.reason_params or "{}"),
        vat={k: Decimal(v) for k, v in json.loads(row.vat or "{}").items()},
        quantities={k: Decimal(v) for k, v in json.loads(row.quantities or "{}").items()},
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )
    for name in _CREDIT_FIELDS:
        setattr(record, name, getattr(row, name))
    return record


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
