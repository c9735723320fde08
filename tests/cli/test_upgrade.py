"""Upgrades: a state database at an older schema is refused by every command in one line that
says to run ``ccvbird init --upgrade``, which runs the missing migrations and says which; a
schema newer than the code (another machine runs a newer ccvbird) is refused and left alone.
On SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet
from sqlalchemy import text

from ccvbird.adapters.db.database import (
    MIGRATIONS,
    head_revision,
    open_engine,
    pending_migrations,
)
from tests.cli.conftest import ccvbird, flat

OLD = "0005"


def _database_at(url: str, revision: str) -> None:
    engine = open_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _revision(url: str) -> str:
    engine = open_engine(url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(revision)


def _env(url: str) -> dict[str, str | None]:
    return {"CCVBIRD_DATABASE_URL": url, "CCVBIRD_SECRET_KEY": Fernet.generate_key().decode()}


def test_an_older_schema_is_refused_until_init_upgrade_runs_its_migrations(
    database_url: str, data_dir: Path
) -> None:
    _database_at(database_url, OLD)
    data_dir.mkdir()
    env = _env(database_url)
    head = head_revision()

    for words in (["status"], ["worker"], ["web"], ["sync"], ["rotate-key"]):
        refused = ccvbird(*words, "--data-dir", data_dir, env=env)
        assert refused.exit_code == 2, (words, refused.output)
        assert refused.stdout == ""
        assert refused.stderr.count("\n") == 1  # one line, no traceback
        assert flat(refused.stderr) == (
            f"error: the state database's schema ({OLD}) is older than this ccvbird's ({head}): "
            "stop every ccvbird process, then run `ccvbird init --upgrade` once"
        ), words
    assert _revision(database_url) == OLD  # nothing migrated it behind the person's back

    upgraded = ccvbird("init", "--upgrade", "--data-dir", data_dir, env=env)
    assert upgraded.exit_code == 0, upgraded.output
    lines = [line.strip() for line in upgraded.stdout.splitlines()]
    assert lines[0].endswith(f"schema {OLD} → {head}.")
    applied = pending_migrations(OLD)
    assert [step.revision for step in applied][:2] == ["0006", "0007"]
    assert lines[1:] == [f"applied {step.revision}: {step.what}" for step in applied]
    assert "applied 0007: lease fencing: a token per lease, a version per order record" in lines
    assert _revision(database_url) == head

    status = ccvbird("status", "--data-dir", data_dir, env=env)
    assert status.exit_code == 0, status.output
    again = ccvbird("init", "--upgrade", "--data-dir", data_dir, env=env)
    assert again.exit_code == 0, again.output
    assert flat(again.stdout).endswith(f"schema {head}, the newest; nothing to do.")


def test_a_schema_newer_than_the_code_is_refused_and_left_alone(
    database_url: str, data_dir: Path
) -> None:
    _database_at(database_url, "head")
    engine = open_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))
    engine.dispose()
    data_dir.mkdir()
    env = _env(database_url)

    for words in (["status"], ["init", "--upgrade"], ["init"]):
        refused = ccvbird(*words, "--data-dir", data_dir, env=env)
        assert refused.exit_code == 2, (words, refused.output)
        assert flat(refused.stderr) == (
            "error: the state database's schema (9001) is newer than this ccvbird knows (its "
            f"newest is {head_revision()}): a newer ccvbird upgraded it; install that version "
            "here too"
        ), words
    assert _revision(database_url) == "9001"


def test_init_upgrade_refuses_a_data_directory_without_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    refused = ccvbird("init", "--upgrade", "--data-dir", missing)
    assert refused.exit_code == 2
    assert flat(refused.stderr).startswith(f"error: nothing to upgrade: {missing} does not exist")
    assert not missing.exists()
