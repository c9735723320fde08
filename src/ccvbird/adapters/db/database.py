"""Opening the state database: engine, pragmas, the schema check, migrations when asked.

A new (empty) database gets the whole schema at once. An existing one is opened only when it is
at the schema this code is written for: older is refused with a pointer to ``ccvbird init
--upgrade``, newer (another machine runs a newer ccvbird) with a pointer to upgrade this one.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.domain.errors import ConfigError, SchemaMismatch

MIGRATIONS = Path(__file__).parent / "migrations"

#: A pooled PostgreSQL connection that sat unused this long is pinged before it is handed out
#: (a server restart, a proxy's or firewall's idle timeout may have closed it). One used a
#: moment ago is not: pinging at every checkout cost a round trip per statement of a booking.
PING_AFTER_IDLE = 10.0


def open_engine(url: str, *, ping_after_idle: float = PING_AFTER_IDLE) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL
    pings a pooled connection that sat idle ``ping_after_idle`` seconds before using it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url)
    _ping_when_idle(engine, ping_after_idle)
    return engine


_TWINS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_PING_AFTER: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def single_statements(engine: Engine) -> Engine:
    """Where to run what is one statement (a read, a fenced save): on PostgreSQL an engine on
    the same database whose connections stay in autocommit, made once per ``engine`` and
    disposed with it; on SQLite ``engine`` itself.

    In autocommit a statement is one round trip where BEGIN, the statement and COMMIT took
    three, and it is atomic on its own. The twin has a pool of its own: switching a pooled
    connection into autocommit and back at every use cost more than the statement did."""
    if engine.dialect.name != "postgresql":
        return engine
    twin = _TWINS.get(engine)
    if twin is None:
        twin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
        _ping_when_idle(twin, _PING_AFTER.get(engine, PING_AFTER_IDLE))
        event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
        _TWINS[engine] = twin
    return twin


def _ping_when_idle(engine: Engine, after: float) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections idle ``after`` seconds or more only.

    A dead connection found here is replaced (the pool retries the checkout on
    :class:`DisconnectionError`), so the caller never sees it: the documented recipe for
    pessimistic disconnect handling, with a threshold."""
    _PING_AFTER[engine] = after

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["ccvbird_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("ccvbird_idle_since", None)
        if since is None or time.monotonic() - since < after:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the pooled connection is gone") from error


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration this code knows (the schema it is written for)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at; ``None`` for a database without ccvbird's tables."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class Migration:
    revision: str
    #: The migration's first docstring line (what it changes).
    what: str


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did: the schema before and after, and each migration it ran."""

    before: str | None
    after: str
    applied: tuple[Migration, ...]


def pending_migrations(current: str | None) -> tuple[Migration, ...]:
    """The migrations from ``current`` (exclusive) to the head, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config())
    steps = script.iterate_revisions("head", current or "base")
    return tuple(
        Migration(step.revision, (step.doc or "").strip().splitlines()[0] if step.doc else "")
        for step in reversed(list(steps))
    )


def check_schema(current: str | None) -> None:
    """Refuse a schema this code is not written for (``SchemaMismatch``, one clear line).

    ``None`` (no tables yet) passes: a new database is created by :func:`migrate`."""
    head = head_revision()
    if current is None or current == head:
        return
    known = {
        step.revision for step in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    if current not in known:
        raise SchemaMismatch(
            f"the state database's schema ({current}) is newer than this ccvbird knows (its "
            f"newest is {head}): a newer ccvbird upgraded it; install that version here too",
            current=current, head=head, newer=True,
        )  # fmt: skip
    raise SchemaMismatch(
        f"the state database's schema ({current}) is older than this ccvbird's ({head}): stop "
        "every ccvbird process, then run `ccvbird init --upgrade` once",
        current=current, head=head, newer=False,
    )  # fmt: skip


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def upgrade(engine: Engine) -> Upgrade:
    """Run every migration the database lacks (``ccvbird init --upgrade``); says what it did.

    A schema newer than the code is refused (``SchemaMismatch``), never touched."""
    before = schema_revision(engine)
    if before is not None:
        try:
            check_schema(before)
        except SchemaMismatch as exc:
            if exc.newer:
                raise
    applied = pending_migrations(before)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(
            f"a migration after schema {before or 'none'} failed ({cause}); restore the "
            "database from its backup before trying again"
        ) from None
    return Upgrade(before=before, after=head_revision(), applied=applied)


def open_database(url: str) -> sessionmaker[Session]:
    """The state database at ``url``: a new one gets the whole schema; an existing one must be
    at the code's schema (``SchemaMismatch`` otherwise: migrations run only when asked, by
    ``ccvbird init --upgrade``, so no process changes the schema under running workers)."""
    engine = open_engine(url)
    try:
        current = schema_revision(engine)
        if current is None:
            migrate(engine)
        else:
            check_schema(current)
    except BaseException:
        engine.dispose()
        raise
    return sessionmaker(engine, expire_on_commit=False)
