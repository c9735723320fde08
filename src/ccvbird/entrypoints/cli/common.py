"""The Typer app, its consoles, and what every command shares (options, error handling)."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ccvbird import __version__, bootstrap
from ccvbird.config import Settings
from ccvbird.domain.errors import CcvbirdError, ConfigError, SchemaMismatch
from ccvbird.domain.sync import OrderRecord

EXIT_REFUSED = 2

app = typer.Typer(
    name="ccvbird",
    # Help paragraphs are written as flowing text and wrapped to the terminal by Rich; in
    # "markdown" mode a paragraph's line breaks in the source are not shown (docstrings are
    # wrapped at 100 columns in the code, not where the terminal ends).
    rich_markup_mode="markdown",
    help="CCV Shop → Moneybird: paid orders become paid invoices, exactly once, to the cent.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where ccvbird keeps its database, queue and key "
        "(default: CCVBIRD_DATA_DIR, else your user data directory).",
        envvar="CCVBIRD_DATA_DIR",
        file_okay=False,
    ),
]
ConnectionOption = Annotated[
    int | None, typer.Option("--connection", "-c", help="Connection id (default: the only one).")
]


def fail(message: str) -> NoReturn:
    # Messages carry shop data (names, order numbers): never read as Rich markup.
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_REFUSED)


def program() -> str:
    """The command as the person typed it, for hints: ``./ccvbird`` from a checkout (its script
    says so in ``CCVBIRD_PROG``), ``python -m ccvbird``, a path to it, or plain ``ccvbird``."""
    given = os.environ.get("CCVBIRD_PROG", "").strip()
    if given:
        return given
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.parts[-2:] == ("ccvbird", "__main__.py"):
        return "python -m ccvbird"
    if started is None or started.name != "ccvbird":
        return "ccvbird"  # embedded (tests, another program): the installed command's name
    on_path = shutil.which("ccvbird")
    if on_path is not None and Path(on_path).resolve() == started.resolve():
        return "ccvbird"
    return str(sys.argv[0])


def missing_state(settings: Settings, given: Path | None) -> str | None:
    """Why ``settings`` has no ccvbird state to open (``None``: it has), checked without
    creating anything: a mistyped ``--data-dir`` must not become a new database and key."""
    where, prog = settings.data_dir, program()
    if not settings.has_database():
        if given is None:
            return (
                f"no data directory: the default one ({where}) has no ccvbird database yet; "
                f"give --data-dir (or CCVBIRD_DATA_DIR), or create it with `{prog} init`"
            )
        what = "does not exist" if not where.exists() else "has no ccvbird database"
        return (
            f"{where} {what}: check --data-dir (or CCVBIRD_DATA_DIR), or create it with "
            f"`{prog} init --data-dir {where}`"
        )
    if settings.secret_key is None and not settings.key_file.exists():
        return (
            f"{where} has no encryption key ({settings.key_file.name}): restore it or set "
            "CCVBIRD_SECRET_KEY (a new key could not read the stored credentials)"
        )
    return None


def schema_words(exc: SchemaMismatch) -> str:
    """The schema refusal, its hint in the words the person typed (``./ccvbird …``)."""
    return str(exc).replace("`ccvbird ", f"`{program()} ")


@contextmanager
def opened(data_dir: Path | None, *, create: bool = False) -> Iterator[bootstrap.App]:
    """The application for ``data_dir``; expected errors become one clear line and exit 2.

    Only ``create`` (``init``, ``connect``) makes a new data directory, database and key;
    every other command refuses a directory that has no ccvbird state yet."""
    app_ = None
    try:
        settings = bootstrap.load_settings(data_dir=data_dir)
        if not create and (problem := missing_state(settings, data_dir)):
            fail(problem)
        app_ = bootstrap.build_app(settings)
        yield app_
    except SchemaMismatch as exc:
        fail(schema_words(exc))
    except ConfigError as exc:
        fail(str(exc))
    except CcvbirdError as exc:
        fail(str(exc))
    finally:
        if app_ is not None:
            app_.close()


def ensure_port_free(host: str, port: int, *, option: str) -> None:
    """Refuse, in one line, a port something else listens on already (before any banner:
    uvicorn would log its own traceback-like failure after ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            reason = "is in use" if in_use else f"cannot be used ({exc.strerror})"
            fail(f"port {port} on {host} {reason}; choose another with {option}")


def pick_connection(app_: bootstrap.App, connection: int | None) -> int:
    if connection is not None:
        app_.store.connection(connection)  # raises a clear ConfigError when unknown
        return connection
    connections = app_.store.connections()
    if not connections:
        fail(
            f"there is no connection yet; create one with `{program()} connect` "
            f"(or try `{program()} demo`)"
        )
    if len(connections) > 1:
        ids = ", ".join(f"{c.id} ({c.name})" for c in connections)
        fail(f"there are several connections ({ids}); choose one with --connection")
    return connections[0].id


def find_order(app_: bootstrap.App, connection: int, order: str) -> OrderRecord:
    """The record of ``order`` (its number or CCV id) in ``connection``; refused when unknown."""
    for record in app_.store.records(connection, search=order):
        if order in (record.order_number, record.order_id):
            return record
    fail(f"no order {order!r} is known to ccvbird for this connection")


@app.callback(invoke_without_command=True)
def root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"ccvbird {__version__}")
        raise typer.Exit()
