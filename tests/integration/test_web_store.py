"""The web app's tables on SQLite and PostgreSQL: the migrations match the models, accounts and
the sign-in throttle, pending connections, notices once, and the new order lookups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.accounts import OPERATOR, OWNER, AccountStore
from ccvbird.adapters.db.installs import InstallStore, NoticeLog
from ccvbird.adapters.db.store import SqlStore
from ccvbird.adapters.db.tables import Base
from ccvbird.adapters.secrets import SecretBox
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.sync import SyncState


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_the_migrations_create_exactly_the_models(sessions: sessionmaker[Session]) -> None:
    with sessions.kw["bind"].connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_accounts_and_the_throttle(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    accounts = AccountStore(sessions, now=clock.now)
    assert not accounts.has_operator()
    operator = accounts.create("Ops@Example.nl ", "hash-1", role=OPERATOR)
    assert accounts.has_operator() and operator.email == "ops@example.nl"
    assert accounts.by_email("OPS@example.nl") == operator
    with pytest.raises(ConfigError):
        accounts.create("ops@example.nl", "hash-2", role=OPERATOR)
    with pytest.raises(ValueError, match="belongs to a connection"):
        accounts.create("owner@example.nl", "h", role=OWNER)
    accounts.set_password(operator.id, "hash-3")
    changed = accounts.get(operator.id)
    assert changed is not None and changed.session_version == operator.session_version + 1

    keys = ["account:ops@example.nl", "address:10.0.0.1"]
    longest = timedelta(minutes=15)
    for _ in range(2):
        accounts.failed(keys, longest=longest)
    assert accounts.blocked_for(keys) == timedelta(0)
    accounts.failed(keys, longest=longest)
    assert accounts.blocked_for(keys) == timedelta(seconds=1)
    accounts.failed(keys, longest=longest)
    assert accounts.blocked_for(keys) == timedelta(seconds=2)
    for _ in range(20):
        accounts.failed(keys, longest=longest)
    assert accounts.blocked_for(keys) == longest
    clock.at += longest
    assert accounts.blocked_for(keys) == timedelta(0)
    accounts.succeeded(keys)
    accounts.failed(keys, longest=longest)
    assert accounts.blocked_for(keys) == timedelta(0)


#: Distinctive enough that no random token or ciphertext in the row contains it by chance ("sec"
#: did, now and then: base64 has every three-letter run).
WEBHOOK_SECRET = "whsec-Zq9-plaintext"


def test_a_pending_connection_waits_for_moneybird(sessions: sessionmaker[Session]) -> None:
    box = SecretBox(Fernet.generate_key())
    installs, store = InstallStore(sessions, box), SqlStore(sessions, box)
    connection_id = installs.create_pending(
        name="shop.example", shop_url="https://shop.example/", ccv_public="pub^1",
        ccv_secret="s3cret", source="app_store", return_url="https://shop.example/back",
        paused_reason="Setup is not finished",
    )  # fmt: skip
    setup = installs.setup(connection_id)
    assert (setup.has_moneybird, setup.has_administration, setup.from_app_store) == (
        False, False, True,
    )  # fmt: skip
    assert store.connection(connection_id).paused_reason == "Setup is not finished"
    assert store.secrets(connection_id).ccv_secret == "s3cret"
    assert installs.by_ccv_public("pub^1") == connection_id
    assert installs.by_shop_url("https://shop.example") == [(connection_id, True)]

    installs.set_moneybird(connection_id, credentials={"type": "token", "token": "t"},
                           base_url="https://moneybird.test/api/v2/")  # fmt: skip
    installs.set_administration(connection_id, "470000000000000001")
    installs.set_moneybird_webhook(connection_id, "4701", token="tok", secret=WEBHOOK_SECRET)
    assert installs.moneybird_webhook(connection_id) == ("tok", WEBHOOK_SECRET)
    installs.set_ccv_webhooks(connection_id, ["1", "2", "3"])
    setup = installs.setup(connection_id)
    assert setup.has_moneybird and setup.has_administration
    assert setup.ccv_webhook_ids == ("1", "2", "3")
    assert store.moneybird_url(connection_id) == "https://moneybird.test/api/v2"

    installs.uninstalled(connection_id, "uninstalled")
    assert not store.connection(connection_id).enabled
    installs.reinstall(connection_id, ccv_public="pub^2", ccv_secret="new", return_url="",
                       paused_reason="Setup is not finished")  # fmt: skip
    assert store.connection(connection_id).enabled
    assert store.secrets(connection_id).ccv_public == "pub^2"
    # The webhook secret is stored encrypted, never in the clear.
    with sessions() as session:
        raw = session.execute(Base.metadata.tables["connections"].select()).mappings().one()
    assert WEBHOOK_SECRET not in json.dumps({k: str(v) for k, v in raw.items()})


def test_notices_go_out_once(sessions: sessionmaker[Session]) -> None:
    box = SecretBox(Fernet.generate_key())
    connection_id = InstallStore(sessions, box).create_pending(
        name="s", shop_url="https://s.example", ccv_public="p", ccv_secret="x", source="manual",
        paused_reason="",
    )  # fmt: skip
    notices = NoticeLog(sessions)
    assert notices.first_time(connection_id, "paused", "reason")
    assert not notices.first_time(connection_id, "paused", "reason")
    assert notices.first_time(connection_id, "paused", "another reason")


def test_records_by_order_and_by_invoice(store: SqlStore, sessions: sessionmaker[Session]) -> None:
    connection_id = InstallStore(sessions, store._box).create_pending(
        name="s", shop_url="https://s.example", ccv_public="p", ccv_secret="x", source="manual",
        paused_reason="",
    )  # fmt: skip
    assert store.find_record(connection_id, "1") is None
    assert store.records(connection_id) == []  # find_record created nothing
    record = store.record(connection_id, "1")
    record.invoice_id, record.state = "4709", SyncState.BOOKED
    store.save(record, "booked")
    found = store.record_for_invoice(connection_id, "4709")
    assert found is not None and found.order_id == "1"
    assert store.record_for_invoice(connection_id, "4710") is None


def test_schema_0005_gives_existing_connections_a_moneybird_token_and_remembers_their_keys(
    database_url: str,
) -> None:
    """Upgrading a database made before 0005: every connection gets its own Moneybird token,
    its keys count as handed over, its deliveries as queued — and the Moneybird webhook it
    registered at the CCV token's address keeps working there until it is registered again."""
    import hashlib

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from ccvbird.adapters.db.database import MIGRATIONS, migrate, open_engine

    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    box = SecretBox(Fernet.generate_key())
    legacy_webhook = box.encrypt(json.dumps({"token": "tok", "secret": "sec"}))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO connections (id, name, shop_url, ccv_public, ccv_secret, "
                "moneybird_url, administration_id, moneybird_credentials, enabled, paused_reason, "
                "webhook_token, created_at, source, return_url, ccv_webhook_ids, "
                "moneybird_webhook_id, moneybird_webhook) VALUES (7, 'Shop', 'https://s.example', "
                "'pub^old', 'x', '', '1', 'x', true, '', 'ccv-token', '2026-01-01', 'app_store', "
                "'', '', '4701', :webhook)"
            ),
            {"webhook": legacy_webhook},
        )
        connection.execute(
            text(
                "INSERT INTO webhook_deliveries (connection_id, source, delivery_key, event, "
                "order_id, received_at) VALUES (7, 'ccv', 'k1', 'orders.created', '1', "
                "'2026-01-01')"
            )
        )
    migrate(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    installs = InstallStore(sessions, box)
    store = SqlStore(sessions, box)
    with engine.connect() as connection:
        token = connection.execute(
            text("SELECT moneybird_webhook_token FROM connections WHERE id = 7")
        ).scalar_one()
        digest = connection.execute(text("SELECT key_digest FROM app_store_keys")).scalar_one()
    assert token and token != "ccv-token"
    assert digest == hashlib.sha256(b"pub^old").hexdigest()
    assert installs.keys_handed_over_before("pub^old")
    assert not store.delivery_to_queue(7, "ccv", "k1", "orders.created", "1")  # queued before
    # The webhook registered before 0005 posts to the CCV token's address: it keeps working...
    legacy = installs.push_target("ccv-token")
    assert legacy is not None and (legacy.connection_id, legacy.webhook_token) == (7, "tok")
    assert installs.moneybird_address_token(7) == token
    # ...until the webhook is registered again, at the Moneybird token's address.
    installs.set_moneybird_webhook(7, "4702", token="tok2", secret="sec2")
    assert installs.push_target("ccv-token") is None
    again = installs.push_target(token)
    assert again is not None and again.webhook_token == "tok2"
    engine.dispose()
