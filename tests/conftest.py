"""Shared fixtures: a state database on SQLite, and on PostgreSQL where it runs (always in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.database import open_database
from ccvbird.adapters.db.store import SqlStore
from ccvbird.adapters.secrets import SecretBox

POSTGRES_URL = os.environ.get(
    "CCVBIRD_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except (OperationalError, ModuleNotFoundError) as exc:
        return str(exc).splitlines()[0]
    return None


_PG_PROBLEM = _postgres_available()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty state database: a SQLite file, or a new schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'state.sqlite3'}"
        return
    if _PG_PROBLEM is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL is not running at {POSTGRES_URL} ({_PG_PROBLEM})")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    factory = open_database(database_url)
    yield factory
    engine = factory.kw["bind"]
    engine.dispose()


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> SqlStore:
    return SqlStore(sessions, SecretBox(Fernet.generate_key()))
