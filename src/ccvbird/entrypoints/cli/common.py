"""The Typer app, its consoles, and what every command shares (options, error handling)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ccvbird import __version__, bootstrap
from ccvbird.domain.errors import CcvbirdError, ConfigError

EXIT_REFUSED = 2

app = typer.Typer(
    name="ccvbird",
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


@contextmanager
def opened(data_dir: Path | None) -> Iterator[bootstrap.App]:
    """The application for ``data_dir``; expected errors become one clear line and exit 2."""
    app_ = None
    try:
        app_ = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
        yield app_
    except ConfigError as exc:
        fail(str(exc))
    except CcvbirdError as exc:
        fail(str(exc))
    finally:
        if app_ is not None:
            app_.close()


def pick_connection(app_: bootstrap.App, connection: int | None) -> int:
    if connection is not None:
        app_.store.connection(connection)  # raises a clear ConfigError when unknown
        return connection
    connections = app_.store.connections()
    if not connections:
        fail(
            "there is no connection yet; create one with `ccvbird connect` (or try `ccvbird demo`)"
        )
    if len(connections) > 1:
        ids = ", ".join(f"{c.id} ({c.name})" for c in connections)
        fail(f"there are several connections ({ids}); choose one with --connection")
    return connections[0].id


@app.callback(invoke_without_command=True)
def root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"ccvbird {__version__}")
        raise typer.Exit()
