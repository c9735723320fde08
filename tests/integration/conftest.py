"""Fixtures of the state-database tests: a store on a clock that moves only when told."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.store import SqlStore
from ccvbird.adapters.secrets import SecretBox
from tests.fakes import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def timed_store(sessions: sessionmaker[Session], clock: FixedClock) -> SqlStore:
    return SqlStore(sessions, SecretBox(Fernet.generate_key()), clock=clock)
