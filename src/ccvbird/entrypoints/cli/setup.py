"""Setting up: ``ccvbird init``, ``ccvbird connect`` and ``ccvbird profile …``."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ccvbird import bootstrap
from ccvbird.domain.errors import ConfigError, SchemaMismatch
from ccvbird.entrypoints.cli.common import (
    ConnectionOption,
    DataDir,
    app,
    console,
    errors,
    fail,
    missing_state,
    opened,
    pick_connection,
    program,
    schema_words,
)
from ccvbird.service.suggest import suggest_profile

profile_app = typer.Typer(
    help="Show, check, export, import or draft a connection's mapping profile."
)
app.add_typer(profile_app, name="profile")


@app.command()
def init(
    upgrade: Annotated[
        bool,
        typer.Option(
            "--upgrade",
            help="Bring an existing state database to this version's schema (run the "
            "migrations it lacks) and say which ran. Stop every ccvbird process first.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Create the data directory: the state database, the task queue and the encryption key.

    After installing a newer ccvbird, `init --upgrade` runs the database migrations; until then
    every other command refuses the older schema in one line.
    """
    if upgrade:
        _upgrade(data_dir)
        return
    with opened(data_dir, create=True) as ccvbird:
        settings = ccvbird.settings
        console.print(f"Data directory: {settings.data_dir}")
        console.print(f"State database: {settings.resolved_database_url.split('@')[-1]}")
        key = "CCVBIRD_SECRET_KEY" if settings.secret_key else str(settings.key_file)
        console.print(
            f"Encryption key: {key} (keep it: without it the stored credentials are lost)"
        )
        prog = escape(program())
        console.print(
            f"Next: [bold]{prog} connect[/] (or try everything first with [bold]{prog} demo[/])."
        )


@app.command()
def connect(
    ccv_url: Annotated[
        str | None, typer.Option(help="The shop's address, e.g. https://jouwshop.ccvshop.nl")
    ] = None,
    ccv_public: Annotated[str | None, typer.Option(help="CCV Shop API key (public key).")] = None,
    ccv_secret: Annotated[str | None, typer.Option(help="CCV Shop API secret.")] = None,
    moneybird_url: Annotated[
        str, typer.Option(help="Moneybird API base URL.")
    ] = "https://moneybird.com/api/v2",
    moneybird_token: Annotated[
        str | None, typer.Option(help="Moneybird personal API token.")
    ] = None,
    moneybird_administration: Annotated[
        str | None, typer.Option(help="Moneybird administration id.")
    ] = None,
    name: Annotated[
        str, typer.Option(help="A name for this connection (default: the shop's name).")
    ] = "",
    start_date: Annotated[
        str | None,
        typer.Option(
            help="Book orders created from this date (YYYY-MM-DD); older ones only by import."
        ),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Use this profile instead of one drafted from the administration.", dir_okay=False
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Connect a CCV shop to a Moneybird administration (asks for what is not given).

    Both sets of credentials are checked first. Without --profile a profile is drafted from the
    administration; when it is unambiguous it is used at once, otherwise the connection waits
    and ccvbird says what to fill in.
    """
    interactive = sys.stdin.isatty()

    def ask(value: str | None, prompt: str, *, secret: bool = False) -> str:
        if value:
            return value
        if not interactive:
            fail(f"{prompt} is required (--{prompt.lower().replace(' ', '-')})")
        return str(typer.prompt(prompt, hide_input=secret))

    ccv_url = ask(ccv_url, "CCV URL")
    ccv_public = ask(ccv_public, "CCV public")
    ccv_secret = ask(ccv_secret, "CCV secret", secret=True)
    moneybird_token = ask(moneybird_token, "Moneybird token", secret=True)
    moneybird_administration = ask(moneybird_administration, "Moneybird administration")
    try:
        start = date.fromisoformat(start_date) if start_date else None
    except ValueError:
        fail(f"--start-date: {start_date!r} is not a date like 2026-01-31")
    profile_text = profile.read_text(encoding="utf-8") if profile is not None else None
    with opened(data_dir, create=True) as ccvbird:
        connected = bootstrap.connect(
            ccvbird,
            name=name,
            ccv_url=ccv_url,
            ccv_public=ccv_public,
            ccv_secret=ccv_secret,
            moneybird_url=moneybird_url,
            moneybird_token=moneybird_token,
            administration_id=moneybird_administration,
            start_date=start,
            profile_toml=profile_text,
        )
        console.print(
            f"Connected [bold]{escape(connected.shop_name)}[/] to Moneybird administration "
            f"[bold]{escape(connected.administration_name)}[/] "
            f"(connection {connected.connection_id})."
        )
        info = ccvbird.store.connection(connected.connection_id)
        if info.neighbours and info.profile.reference_prefix:
            console.print(
                "Another connection books into this administration too: this shop's invoice "
                f"references start with {escape(info.profile.reference_prefix)} "
                "(invoicing.reference_prefix), so neither shop takes the other's invoices."
            )
        if connected.paused_reason:
            console.print(f"[yellow]Waiting for you:[/] {escape(connected.paused_reason)}")
        else:
            console.print(
                f"The profile is complete. Next: [bold]{escape(program())} import --since "
                f"YYYY-MM-DD[/] or [bold]{escape(program())} run[/]."
            )


def _upgrade(data_dir: Path | None) -> None:
    settings = bootstrap.load_settings(data_dir=data_dir)
    if problem := missing_state(settings, data_dir):
        fail(f"nothing to upgrade: {problem}")
    try:
        done = bootstrap.upgrade_schema(settings)
    except ConfigError as exc:
        fail(str(exc))
    where = settings.resolved_database_url.split("@")[-1]
    if not done.applied:
        console.print(f"State database {where}: schema {done.after}, the newest; nothing to do.")
        return
    console.print(f"State database {where}: schema {done.before or 'none'} → {done.after}.")
    for step in done.applied:
        console.print(f"  applied {step.revision}: {escape(step.what)}")


@app.command("rotate-key")
def rotate_key(
    generate: Annotated[
        bool,
        typer.Option(
            "--generate", help="Only print a new key (for CCVBIRD_SECRET_KEY); change nothing."
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Encrypt every stored secret (CCV API secrets, Moneybird tokens, webhook secrets) again
    with a new key; afterwards the old key decrypts none of them. Stop every ccvbird process
    first, and start them again after.

    With the key file (secret.key) a new key is made and replaces the old one. With
    CCVBIRD_SECRET_KEY, set it to NEW,OLD first (a new key: `--generate`) and to NEW alone after.
    Web sessions signed with the old key end (everyone signs in again).
    """
    if generate:
        sys.stdout.write(bootstrap.generate_secret_key() + "\n")
        return
    settings = bootstrap.load_settings(data_dir=data_dir)
    if problem := missing_state(settings, data_dir):
        fail(problem)
    try:
        done = bootstrap.rotate_secret_key(settings)
    except SchemaMismatch as exc:
        fail(schema_words(exc))
    except ConfigError as exc:
        fail(str(exc))
    console.print(
        f"Re-encrypted {done.rekeyed.secrets} secrets of {done.rekeyed.connections} "
        "connection(s) with the new key; the old key decrypts none of them."
    )
    if done.key_file is not None:
        console.print(f"The new key is in {done.key_file} (the old one is gone from it).")
    else:
        console.print(
            "Now set CCVBIRD_SECRET_KEY to the new (first) key alone, everywhere ccvbird runs."
        )
    console.print("Start the ccvbird processes again (they read the key when they start).")


@profile_app.command("show")
def profile_show(connection: ConnectionOption = None, data_dir: DataDir = None) -> None:
    """Print the connection's profile (TOML)."""
    with opened(data_dir) as ccvbird:
        sys.stdout.write(ccvbird.store.profile_toml(pick_connection(ccvbird, connection)))


@profile_app.command("validate")
def profile_validate(
    file: Annotated[Path, typer.Argument(dir_okay=False)],
    connection: Annotated[
        int | None,
        typer.Option(
            "--connection",
            "-c",
            help="Also check it against this connection's Moneybird administration: every "
            "tax rate, ledger and financial account it maps must exist there as mapped.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Check a profile file; every mistake is listed with its key."""
    try:
        bootstrap.read_profile(file)
    except ConfigError as exc:
        fail("\n  ".join([f"{file} is invalid:", *exc.problems]))
    if connection is None:
        console.print(f"{file} is valid.")
        return
    text = file.read_text(encoding="utf-8")
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        try:
            bootstrap.check_profile_fits(ccvbird, chosen, text, source=str(file))
        except ConfigError as exc:
            fail("\n  ".join([f"{file} does not fit connection {chosen}:", *exc.problems]))
    console.print(f"{file} is valid and fits the Moneybird administration of connection {chosen}.")


@profile_app.command("export")
def profile_export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="File to write (default: print)."),
    ] = None,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Write the connection's profile to a file, to edit it."""
    with opened(data_dir) as ccvbird:
        text = ccvbird.store.profile_toml(pick_connection(ccvbird, connection))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")


@profile_app.command("import")
def profile_import(
    file: Annotated[Path, typer.Argument(dir_okay=False, exists=True)],
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Use a profile file for the connection (validated, and checked against the Moneybird
    administration, first); resumes a connection that was waiting for its profile."""
    text = file.read_text(encoding="utf-8")
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        try:
            bootstrap.read_profile(file)
        except ConfigError as exc:
            fail("\n  ".join([f"{file} is invalid:", *exc.problems]))
        try:
            bootstrap.check_profile_fits(ccvbird, chosen, text, source=str(file))
        except ConfigError as exc:
            fail("\n  ".join([f"{file} does not fit the Moneybird administration:", *exc.problems]))
        try:
            ccvbird.store.set_profile(chosen, text)  # refuses a reference prefix that clashes
        except ConfigError as exc:
            fail("\n  ".join([f"{file} is invalid:", *exc.problems]))
        bootstrap.resume_after_profile_fix(ccvbird, chosen)
        console.print(f"Connection {chosen} now uses {file}.")


@profile_app.command("suggest")
def profile_suggest(connection: ConnectionOption = None, data_dir: DataDir = None) -> None:
    """Draft a profile from the Moneybird administration (tax rates, ledger accounts, …)."""
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        info = ccvbird.store.connection(chosen)
        suggestion = suggest_profile(
            bootstrap.administration_settings_for(ccvbird, chosen),
            reference_prefix=bootstrap.reference_prefix_for(
                ccvbird,
                info.administration_id,
                connection_id=chosen,
                current=info.profile.reference_prefix,
            ),
        )
    sys.stdout.write(suggestion.toml)
    for note in suggestion.missing + suggestion.ambiguous:
        errors.print(f"[yellow]To fill in:[/] {note}")
