"""The state database's hot path, on SQLite and PostgreSQL alike.

On PostgreSQL a fenced save (lease renewal, record update, log lines) and a fenced contact
mapping are one statement each, the engine's reads run in autocommit, and a pooled connection
is pinged only after it sat idle. These tests hold both databases to the same outcomes: what a
save writes and refuses, which contact an e-mail resolves to, and a pool that outlives a
connection the server closed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from ccvbird.adapters.db.database import open_engine
from ccvbird.adapters.db.lease import DbLease
from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.errors import ConfigError, LeaseLost
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import OrderRecord, RemoteContact, SyncState
from tests.fakes import FixedClock
from tests.integration.test_engine import connect


def leased(store: SqlStore) -> tuple[int, DbLease, SqlStore]:
    """A new connection, its lease for worker a, and the store fenced by that lease."""
    connection = connect(store)
    lease = store.acquire_lease(connection, "worker a")
    assert lease is not None
    return connection, lease, store.fenced(lease)


def test_a_fenced_save_writes_the_record_and_every_log_line_in_order(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection, lease, mine = leased(timed_store)
    record = timed_store.record(connection, "500001001")
    record.state = SyncState.BOOKING
    record.invoice_intent = True
    record.next_attempt_at = datetime(2026, 11, 2, 9, 5, tzinfo=UTC)
    clock.current += timedelta(minutes=1)
    mine.save(
        record,
        "invoice.create",
        Reason("invoice_deleted", {"invoice": "2026-0001"}),
        earlier=[("contact.created", "contact 4700 made"), ("mapped", "")],
    )

    stored = timed_store.find_record(connection, "500001001")
    assert stored is not None
    assert (stored.state, stored.invoice_intent, stored.version) == (SyncState.BOOKING, True, 1)
    assert stored.next_attempt_at == datetime(2026, 11, 2, 9, 5, tzinfo=UTC)
    assert record.version == 1 and record.updated_at == clock.current
    events = timed_store.events(connection, "500001001")
    assert [(e.event, e.message) for e in events][-3:] == [
        ("contact.created", "contact 4700 made"),
        ("mapped", ""),
        ("invoice.create", Reason("invoice_deleted", {"invoice": "2026-0001"}).text),
    ]
    assert all(e.at == clock.current for e in events[-3:])
    assert lease.until == clock.current + lease.duration  # the save renewed the lease

    record.sent = True  # the next step saves over the version this one wrote
    mine.save(record, "invoice.sent")
    assert timed_store.find_record(connection, "500001001").sent  # type: ignore[union-attr]


def test_a_fenced_save_of_an_order_without_a_record_is_refused_and_writes_nothing(
    timed_store: SqlStore,
) -> None:
    connection, _lease, mine = leased(timed_store)
    ghost = OrderRecord(connection_id=connection, order_id="500009999", state=SyncState.BOOKING)
    with pytest.raises(ConfigError, match="has no record"):
        mine.save(ghost, "booking.start")
    assert timed_store.find_record(connection, "500009999") is None


def test_a_lost_lease_maps_no_contact_and_a_held_one_keeps_the_first_mapping(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection, lease, mine = leased(timed_store)
    mine.remember_contact(connection, "Sanne@Example.nl", "4700")
    mine.remember_contact(connection, "sanne@example.nl", "4800")  # the first mapping stays
    assert timed_store.contact_id_for(connection, "sanne@example.NL") == "4700"

    clock.current += lease.duration + timedelta(seconds=1)
    assert timed_store.acquire_lease(connection, "worker b") is not None
    with pytest.raises(LeaseLost):
        mine.remember_contact(connection, "piet@example.nl", "4900")
    assert timed_store.contact_id_for(connection, "piet@example.nl") is None


def test_an_email_resolves_to_its_own_mapping_then_a_neighbours_then_the_directory(
    timed_store: SqlStore,
) -> None:
    """Three shops in one administration and its contact directory: the connection's own
    mapping wins, else the oldest neighbour's, else an active directory contact, oldest first."""
    shared = "470000000000000777"
    first, second, third = (
        timed_store.create_connection(
            name=f"shop {n}",
            shop_url=f"https://shop{n}.test",
            ccv_public=f"public-{n}",
            ccv_secret="secret",
            moneybird_url="https://moneybird.test/api/v2",
            administration_id=shared,
            moneybird_credentials={"type": "token", "token": "t"},
            profile_toml=f'[invoicing]\nreference_prefix = "S{n}-"\n',
        )
        for n in (1, 2, 3)
    )
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    timed_store.update_contact_directory(
        third,
        [
            RemoteContact("9100", ("anna@example.nl",), archived=True),
            RemoteContact("95", ("anna@example.nl",)),
            RemoteContact("9000", ("anna@example.nl",)),
            RemoteContact("9200", ("bram@example.nl",), archived=True),
        ],
        [],
        at,
    )
    assert timed_store.contact_id_for(third, "anna@example.nl") == "95"  # active, oldest id
    assert timed_store.contact_id_for(third, "bram@example.nl") == "9200"  # archived: still it
    assert timed_store.contact_id_for(third, "carla@example.nl") is None

    timed_store.remember_contact(second, "anna@example.nl", "8200")
    timed_store.remember_contact(first, "anna@example.nl", "8100")
    assert timed_store.contact_id_for(third, "anna@example.nl") == "8100"  # oldest neighbour's
    assert timed_store.contact_id_for(second, "anna@example.nl") == "8200"  # its own
    timed_store.remember_contact(third, "anna@example.nl", "8300")
    assert timed_store.contact_id_for(third, "anna@example.nl") == "8300"


def _close_the_pooled_connection(engine: Engine, killer: Engine) -> int:
    """Use a connection of ``engine`` (it goes back to the pool), then have the server close it;
    its backend's pid."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    with killer.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        other.commit()
    return pid


def test_a_pooled_connection_the_server_closed_is_replaced_after_it_sat_idle(
    database_url: str,
) -> None:
    """PostgreSQL pings a pooled connection only after ``ping_after_idle`` seconds unused; one
    the server closed meanwhile (a restart, an idle timeout) is replaced, unseen by the caller."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    engine = open_engine(database_url, ping_after_idle=0.0)  # every checkout counts as idle
    killer = open_engine(database_url)
    try:
        pid = _close_the_pooled_connection(engine, killer)
        with engine.connect() as connection:  # the pooled one is dead: pinged and replaced
            again = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert again != pid
    finally:
        engine.dispose()
        killer.dispose()


def test_without_the_idle_ping_a_closed_connection_would_reach_the_caller(
    database_url: str,
) -> None:
    """The other side of the threshold: a connection used a moment ago is not pinged, so the
    server closing it shows at its next use (which the engine treats as any failed call)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    engine = open_engine(database_url, ping_after_idle=3600.0)
    killer = open_engine(database_url)
    try:
        _close_the_pooled_connection(engine, killer)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:  # and the pool recovers at once
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
        killer.dispose()
