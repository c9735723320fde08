"""A person's mistake at the command line gets one clear line and exit status 2, never a
traceback, and never a side effect: a mistyped ``--data-dir`` creates nothing, a busy port is
named before any banner."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import example_profile_text
from tests.cli.conftest import ccvbird, free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        yield int(occupant.getsockname()[1])


def one_line(output: str) -> str:
    assert "Traceback" not in output
    (line,) = output.strip().splitlines()
    return line


# -- busy ports ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["--ccv-port", "--moneybird-port"])
def test_sandbox_on_a_busy_port_says_which_in_one_line_and_prints_no_banner(
    which: str, busy_port: int
) -> None:
    ports = {"--ccv-port": free_port(), "--moneybird-port": free_port(), which: busy_port}
    args = [part for option, port in ports.items() for part in (option, str(port))]
    result = ccvbird("sandbox", "--generate", "0", *args)
    assert result.exit_code == 2
    assert one_line(result.output) == (
        f"error: port {busy_port} on 127.0.0.1 is in use; choose another with {which}"
    )


@pytest.mark.parametrize("command", ["run", "web"])
def test_run_and_web_listen_where_host_and_port_say(
    command: str, busy_port: int, tmp_path: Path
) -> None:
    """``--host``/``--port`` are the address the web app binds to: a busy one is refused (and
    so the test starts no server)."""
    data_dir = tmp_path / "data"
    assert ccvbird("init", "--data-dir", data_dir).exit_code == 0
    result = ccvbird(command, "--host", "127.0.0.1", "--port", busy_port, "--data-dir", data_dir)
    assert result.exit_code == 2
    assert one_line(result.output) == (
        f"error: port {busy_port} on 127.0.0.1 is in use; choose another with --port"
    )


# -- demo ------------------------------------------------------------------------------------


@pytest.mark.parametrize("orders", ["0", "-5"])
def test_a_demo_of_no_orders_is_refused_in_one_line(orders: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    result = ccvbird("demo", "--orders", orders, "--data-dir", data_dir)
    assert result.exit_code == 2
    assert one_line(result.output) == (
        f"error: --orders: the sandbox shop needs at least 1 order (got {orders})"
    )
    assert not data_dir.exists()


def test_the_demo_hints_name_the_command_as_it_was_typed(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    typed = {"CCVBIRD_PROG": "./ccvbird"}
    result = ccvbird("demo", "--orders", "3", "--data-dir", data_dir, env=typed)
    assert result.exit_code == 0, result.output
    assert f"Look around: ./ccvbird status --data-dir {data_dir}, ./ccvbird orders" in " ".join(
        result.stdout.split()
    )


def test_the_checkout_script_tells_ccvbird_its_name(tmp_path: Path) -> None:
    """``./ccvbird`` execs the venv's ``ccvbird``: it passes on the name it was started by."""
    script = Path(__file__).parents[2] / "ccvbird"
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / "ccvbird").write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / ".ci" / "ensure-venv").write_text("#!/bin/sh\n", encoding="utf-8")
    (tmp_path / ".venv" / "bin" / "ccvbird").write_text(
        '#!/bin/sh\necho "$CCVBIRD_PROG"\n', encoding="utf-8"
    )
    for name in ("ccvbird", ".ci/ensure-venv", ".venv/bin/ccvbird"):
        (tmp_path / name).chmod(stat.S_IRWXU)
    environment = {k: v for k, v in os.environ.items() if k != "CCVBIRD_PROG"}
    said = subprocess.run(
        ["./ccvbird", "status"], cwd=tmp_path, env=environment, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert said.stdout.strip() == "./ccvbird"


# -- a data directory that is not there ------------------------------------------------------

#: Every command that reads state, with the arguments it needs besides --data-dir.
STATE_READERS = [
    ["status"],
    ["orders"],
    ["import", "--since", "2026-01-01"],
    ["import", "--since", "2026-01-01", "--dry-run"],
    ["sync"],
    ["retry", "--all-failed"],
    ["resume"],
    ["run"],
    ["worker"],
    ["web"],
    ["profile", "show"],
    ["profile", "export"],
    ["profile", "import", "{profile}"],
    ["profile", "suggest"],
    ["profile", "validate", "{profile}", "--connection", "1"],
]


def _with_profile(args: list[str], tmp_path: Path) -> list[str]:
    profile = tmp_path / "profile.toml"
    profile.write_text(example_profile_text(), encoding="utf-8")
    return [str(profile) if arg == "{profile}" else arg for arg in args]


@pytest.mark.parametrize("args", STATE_READERS, ids=" ".join)
def test_a_mistyped_data_dir_creates_nothing_and_says_so(args: list[str], tmp_path: Path) -> None:
    typo = tmp_path / "dtaa"
    result = ccvbird(*_with_profile(args, tmp_path), "--data-dir", typo)
    assert result.exit_code == 2
    line = one_line(result.output)
    assert line.startswith(f"error: {typo} does not exist: check --data-dir"), line
    assert "ccvbird init" in line
    assert not typo.exists()


@pytest.mark.parametrize("args", STATE_READERS, ids=" ".join)
def test_an_empty_directory_gets_no_database_or_key(args: list[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = ccvbird(*_with_profile(args, tmp_path), env={"CCVBIRD_DATA_DIR": str(empty)})
    assert result.exit_code == 2
    assert one_line(result.output).startswith(f"error: {empty} has no ccvbird database")
    assert list(empty.iterdir()) == []


def test_a_database_without_its_key_is_not_given_a_new_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert ccvbird("init", "--data-dir", data_dir).exit_code == 0
    (data_dir / "secret.key").unlink()
    result = ccvbird("status", "--data-dir", data_dir)
    assert result.exit_code == 2
    assert "has no encryption key (secret.key)" in one_line(result.output)
    assert not (data_dir / "secret.key").exists()


def test_status_without_a_data_directory_says_so(tmp_path: Path) -> None:
    """No --data-dir, no CCVBIRD_DATA_DIR and nothing in the user data directory yet."""
    home = tmp_path / "share"
    result = ccvbird("status", env={"XDG_DATA_HOME": str(home), "CCVBIRD_DATA_DIR": None})
    assert result.exit_code == 2
    line = one_line(result.output)
    assert line.startswith("error: no data directory: the default one"), line
    assert "give --data-dir (or CCVBIRD_DATA_DIR), or create it with `ccvbird init`" in line
    assert not home.exists()


def test_init_and_connect_still_create_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "new"
    assert ccvbird("init", "--data-dir", data_dir).exit_code == 0
    assert (data_dir / "ccvbird.sqlite3").exists() and (data_dir / "secret.key").exists()
    assert ccvbird("status", "--data-dir", data_dir).exit_code == 0
