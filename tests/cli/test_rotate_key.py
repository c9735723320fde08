"""``ccvbird rotate-key``: every secret at rest is encrypted again with a new key; afterwards the
old key decrypts none of them and ccvbird books with the new one — with the key file, and with
``CCVBIRD_SECRET_KEY`` (``NEW,OLD`` during the rotation)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccvbird.adapters.secrets import SecretBox
from ccvbird.domain.errors import ConfigError
from tests.cli.conftest import CCV_SECRET, MONEYBIRD_TOKEN, Sandboxes, ccvbird, flat


def stored_secrets(data_dir: Path) -> list[str]:
    """Every encrypted value in the state database, as stored."""
    with sqlite3.connect(data_dir / "ccvbird.sqlite3") as db:
        rows = db.execute(
            "SELECT ccv_secret, moneybird_credentials, moneybird_webhook FROM connections"
        ).fetchall()
    return [value for row in rows for value in row if value]


def assert_readable_only_with(data_dir: Path, new: bytes, old: bytes) -> None:
    secrets = stored_secrets(data_dir)
    assert len(secrets) == 2  # the CCV API secret and the Moneybird token
    plain = [SecretBox(new).decrypt(value) for value in secrets]
    assert plain[0] == CCV_SECRET and MONEYBIRD_TOKEN in plain[1]
    for value in secrets:
        with pytest.raises(ConfigError):
            SecretBox(old).decrypt(value)


def _an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def books_an_order(sandboxes: Sandboxes, data_dir: Path, env: dict[str, str | None]) -> None:
    number = sandboxes.add_order(created=_an_hour_ago())
    synced = ccvbird("sync", "--data-dir", data_dir, env=env)
    assert synced.exit_code == 0, synced.output
    assert number in sandboxes.invoice_references()


def test_rotate_key_replaces_the_key_file_and_re_encrypts_every_secret(
    connected: Sandboxes, data_dir: Path
) -> None:
    key_file = data_dir / "secret.key"
    old = key_file.read_bytes().strip()

    rotated = ccvbird("rotate-key", "--data-dir", data_dir)
    assert rotated.exit_code == 0, rotated.output
    assert flat(rotated.stdout).startswith(
        "Re-encrypted 2 secrets of 1 connection(s) with the new key; the old key decrypts none "
        f"of them. The new key is in {key_file} (the old one is gone from it)."
    )
    new = key_file.read_bytes()
    assert new.count(b"\n") == 1 and new.strip() != old
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not key_file.with_name("secret.key.part").exists()
    assert_readable_only_with(data_dir, new.strip(), old)
    books_an_order(connected, data_dir, env={})


def test_a_key_file_left_with_the_new_and_the_old_key_reads_every_secret(
    connected: Sandboxes, data_dir: Path
) -> None:
    """What an interrupted rotation leaves (the new key in front, the old behind it): ccvbird
    works on, and the next rotate-key finishes the job."""
    key_file = data_dir / "secret.key"
    old = key_file.read_bytes().strip()
    newer = ccvbird("rotate-key", "--generate").stdout.strip().encode()
    key_file.write_bytes(newer + b"\n" + old + b"\n")
    books_an_order(connected, data_dir, env={})

    assert ccvbird("rotate-key", "--data-dir", data_dir).exit_code == 0
    assert_readable_only_with(data_dir, key_file.read_bytes().strip(), old)
    for value in stored_secrets(data_dir):
        with pytest.raises(ConfigError):
            SecretBox(newer).decrypt(value)
    books_an_order(connected, data_dir, env={})


def test_rotate_key_with_the_key_in_the_environment(sandboxes: Sandboxes, data_dir: Path) -> None:
    old = ccvbird("rotate-key", "--generate").stdout.strip()
    new = ccvbird("rotate-key", "--generate").stdout.strip()
    assert len(old) == 44 and old != new  # a Fernet key: 32 bytes, urlsafe base64
    env: dict[str, str | None] = {"CCVBIRD_SECRET_KEY": old}
    made = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir, env=env)
    assert made.exit_code == 0, made.output
    assert not (data_dir / "secret.key").exists()
    before = stored_secrets(data_dir)

    one_key = ccvbird("rotate-key", "--data-dir", data_dir, env=env)
    assert one_key.exit_code == 2
    assert flat(one_key.stderr).startswith(
        "error: CCVBIRD_SECRET_KEY holds one key: put a new key in front of it"
    )
    assert stored_secrets(data_dir) == before  # nothing changed

    rotated = ccvbird(
        "rotate-key", "--data-dir", data_dir, env={"CCVBIRD_SECRET_KEY": f"{new},{old}"}
    )
    assert rotated.exit_code == 0, rotated.output
    assert "Now set CCVBIRD_SECRET_KEY to the new (first) key alone" in flat(rotated.stdout)
    assert not (data_dir / "secret.key").exists()
    assert_readable_only_with(data_dir, new.encode(), old.encode())
    books_an_order(sandboxes, data_dir, env={"CCVBIRD_SECRET_KEY": new})
