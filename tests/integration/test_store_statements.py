"""The state database's hot path, on SQLite and PostgreSQL alike.

On PostgreSQL a fenced save (lease renewal, record update, log lines) and a fenced contact
mapping are one statement each, the engine's reads run in autocommit, and a pooled connection
is pinged only after it sat idle. These tests hold both databases to the same outcomes: what a
save writes and refuses, which contact an e-mail resolves to, and a pool that outlives a
connection the server closed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from ccvbird.adapters.db.database import open_engine, single_statements
from ccvbird.adapters.db.lease import DbLease
from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.errors import ConfigError, LeaseLost
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import ContactLookup, OrderRecord, RemoteContact, SyncState
from ccvbird.service.sync import Outcome
from tests.fakes import FakeBooks, FakeShop, FixedClock
from tests.integration.test_engine import connect, engine, paid_order


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


def three_shops_of_one_administration(store: SqlStore) -> tuple[int, int, int]:
    """Connections 1–3 booking into one administration, reference prefixes S1-, S2-, S3-."""
    first, second, third = (
        store.create_connection(
            name=f"shop {n}",
            shop_url=f"https://shop{n}.test",
            ccv_public=f"public-{n}",
            ccv_secret="secret",
            moneybird_url="https://moneybird.test/api/v2",
            administration_id="470000000000000777",
            moneybird_credentials={"type": "token", "token": "t"},
            profile_toml=f'[invoicing]\nreference_prefix = "S{n}-"\n',
        )
        for n in (1, 2, 3)
    )
    return first, second, third


def test_an_email_resolves_to_its_own_mapping_then_a_neighbours_then_the_directory(
    timed_store: SqlStore,
) -> None:
    """Three shops in one administration and its contact directory: the connection's own
    mapping wins, else the oldest neighbour's, else an active directory contact, oldest first."""
    first, second, third = three_shops_of_one_administration(timed_store)
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


def test_an_orders_first_read_makes_its_record_once_and_brings_its_connection(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    """What the engine reads first for every order: the connection as :meth:`connection`
    reads it, and the order's record, made (waiting, never saved) the first time only."""
    connection = connect(timed_store)
    info, record = timed_store.connection_and_record(connection, "500001001")
    assert info == timed_store.connection(connection)
    assert (record.connection_id, record.order_id) == (connection, "500001001")
    assert (record.state, record.version, record.attempts) == (SyncState.WAITING, 0, 0)
    assert (record.order_number, record.reason, record.reason_params) == ("", "", {})
    assert not (record.ccv_paid or record.invoice_intent or record.sent or record.payment_intent)
    assert record.updated_at == clock.current
    assert record.had_credit_records is not True

    clock.current += timedelta(minutes=5)
    _info, again = timed_store.connection_and_record(connection, "500001001")
    assert again == timed_store.find_record(connection, "500001001") == record
    assert again.updated_at == record.updated_at  # read, not made anew
    assert [r.order_id for r in timed_store.records(connection)] == ["500001001"]


def test_a_record_read_says_whether_its_order_has_credit_records(timed_store: SqlStore) -> None:
    connection = connect(timed_store)
    timed_store.record(connection, "500001001")
    timed_store.record(connection, "500001002")
    timed_store.credit_record(connection, "500001001", "ccv:77", lambda seq: f"C{seq}")

    assert timed_store.record(connection, "500001001").had_credit_records is True
    assert timed_store.connection_and_record(connection, "500001001")[1].had_credit_records
    assert timed_store.record(connection, "500001002").had_credit_records is False
    assert timed_store.connection_and_record(connection, "500001002")[1].had_credit_records is False


def test_the_first_read_of_an_order_of_no_connection_is_refused_and_makes_no_record(
    timed_store: SqlStore,
) -> None:
    connection = connect(timed_store)
    with pytest.raises(ConfigError, match="no connection 9999"):
        timed_store.connection_and_record(9999, "500001001")
    assert timed_store.find_record(9999, "500001001") is None
    assert timed_store.records(connection) == []


def test_an_orders_first_read_names_the_other_shops_of_its_administration(
    timed_store: SqlStore,
) -> None:
    first, second, third = three_shops_of_one_administration(timed_store)
    info, record = timed_store.connection_and_record(second, "500001001")
    assert info.neighbours == ((first, "S1-"), (third, "S3-"))
    assert info == timed_store.connection(second)
    assert record.connection_id == second


def test_a_contact_lookup_says_when_the_directory_was_refreshed(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    """A miss must know whether Moneybird's contacts were read lately: the same query says."""
    connection = connect(timed_store)
    assert timed_store.find_contact(connection, "anna@example.nl") == ContactLookup(None, None)
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    timed_store.update_contact_directory(
        connection, [RemoteContact("95", ("anna@example.nl",))], [], at
    )
    assert timed_store.find_contact(connection, "Anna@Example.nl") == ContactLookup("95", at)
    assert timed_store.find_contact(connection, "bram@example.nl") == ContactLookup(None, at)
    timed_store.remember_contact(connection, "bram@example.nl", "4700")
    assert timed_store.find_contact(connection, "bram@example.nl") == ContactLookup("4700", at)
    timed_store.invalidate_contact_directory(connection)
    assert timed_store.find_contact(connection, "anna@example.nl") == ContactLookup("95", None)


def test_an_orders_first_read_waits_for_another_workers_insert_and_reads_it(
    database_url: str, timed_store: SqlStore
) -> None:
    """PostgreSQL: another worker inserts the same record and has not committed yet. The first
    read waits on the unique index, finds neither its own row nor (in its snapshot) theirs,
    and reads again: it returns their record, and no second one exists."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writes one at a time: no insert of another worker is pending")
    connection = connect(timed_store)
    other = open_engine(database_url)
    watcher = open_engine(database_url)
    try:
        with other.connect() as theirs:
            theirs.execute(
                text(
                    "INSERT INTO order_records (connection_id, order_id, state, updated_at, "
                    "order_number, reason, reason_code, reason_params, attempts, ccv_paid, "
                    "contact_intent, invoice_intent, sent, send_intent, payment_intent, version) "
                    "VALUES (:c, '500001001', 'booking', now(), 'theirs', '', '', '{}', 3, false,"
                    " false, false, false, false, false, 4)"
                ),
                {"c": connection},
            )
            with ThreadPoolExecutor(1) as pool:
                mine = pool.submit(timed_store.connection_and_record, connection, "500001001")
                _wait_until_blocked(watcher)
                theirs.commit()
                _info, record = mine.result(timeout=30)
        assert (record.order_number, record.state, record.version) == (
            "theirs", SyncState.BOOKING, 4,
        )  # fmt: skip
        assert [r.order_number for r in timed_store.records(connection)] == ["theirs"]
    finally:
        other.dispose()
        watcher.dispose()


def _wait_until_blocked(watcher: Engine) -> None:
    """Until a backend of this database waits for a lock (the first read, on their insert)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with watcher.connect() as connection:
        for _ in range(100_000):
            if connection.execute(query).scalar_one():
                return
    raise AssertionError("the first read never waited for the other insert")


def test_a_paid_order_of_a_new_customer_is_booked_in_one_statement_per_step(
    database_url: str, store: SqlStore
) -> None:
    """PostgreSQL, a worker holding the lease: the order's first read (connection, record, its
    credits), the contact look-up and each booking step's save (the contact, invoice, send and
    payment intents, then booked) are one statement each; the new contact's mapping goes with
    the invoice's intent."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite saves in a transaction of several statements, in-process")
    connection = connect(store)
    lease = store.acquire_lease(connection, "worker a")
    assert lease is not None
    shop = FakeShop([paid_order("1001", "anna@example.nl"), paid_order("1002", "bram@example.nl")])
    sync = engine(store.fenced(lease), shop, FakeBooks())
    assert sync.sync_order(connection, "500001001").outcome is Outcome.BOOKED  # reads contacts

    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split())[:60])

    engines = {store._engine, single_statements(store._engine)}
    for each in engines:
        event.listen(each, "before_cursor_execute", seen)
    try:
        assert sync.sync_order(connection, "500001002").outcome is Outcome.BOOKED
    finally:
        for each in engines:
            event.remove(each, "before_cursor_execute", seen)
    assert len(statements) == 7, "\n".join(statements)


def test_a_save_maps_a_new_contact_with_the_record_and_a_lost_lease_maps_nothing(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection, lease, mine = leased(timed_store)
    record = timed_store.record(connection, "500001001")
    record.contact_id, record.invoice_intent = "4700", True
    mine.save(record, "invoice.create", contact=("Anna@Example.nl", "4700"))
    assert timed_store.contact_id_for(connection, "anna@example.nl") == "4700"
    assert timed_store.find_record(connection, "500001001").invoice_intent  # type: ignore[union-attr]
    mine.save(record, "invoice.created", contact=("anna@example.nl", "4800"))
    assert timed_store.contact_id_for(connection, "anna@example.nl") == "4700"  # the first stays

    clock.current += lease.duration + timedelta(seconds=1)
    assert timed_store.acquire_lease(connection, "worker b") is not None
    record.sent = True
    with pytest.raises(LeaseLost):
        mine.save(record, "invoice.sent", contact=("bram@example.nl", "4900"))
    assert timed_store.contact_id_for(connection, "bram@example.nl") is None
    assert not timed_store.find_record(connection, "500001001").sent  # type: ignore[union-attr]


def test_an_unfenced_save_maps_a_new_contact_too(timed_store: SqlStore) -> None:
    connection = connect(timed_store)
    record = timed_store.record(connection, "500001001")
    timed_store.save(record, "contact.resolved", contact=("__guests__", "4700"))
    assert timed_store.contact_id_for(connection, "__guests__") == "4700"
