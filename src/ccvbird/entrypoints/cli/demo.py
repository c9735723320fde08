"""``ccvbird demo`` (everything in this process, on the sandboxes) and ``ccvbird sandbox``."""

from __future__ import annotations

import asyncio
import shlex
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ccvbird import bootstrap
from ccvbird.domain.errors import CcvbirdError, InvalidOrderData
from ccvbird.domain.money import format_amount
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints.cli.common import (
    DataDir,
    app,
    console,
    ensure_port_free,
    fail,
    program,
)
from ccvbird.entrypoints.cli.operate import BudgetProgress
from ccvbird.entrypoints.cli.words import state_words, tally
from ccvbird.service.passes import import_history, plan_import, sync_pass
from ccvbird.service.sync import Trigger
from ccvbird.service.webhooks import ORDER_EVENTS, Delivery, Received, receive_ccv_delivery


class _Inbox:
    """CCV's webhook deliveries, received in this process instead of over the network."""

    def __init__(self) -> None:
        self.app: bootstrap.App | None = None
        self.pending: list[tuple[int, str]] = []

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        self.pending.append((connection_id, order_id))

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        if self.app is None:
            return 503
        parts = urlsplit(url)
        connection_id = self.app.store.connection_for_webhook_token(
            parts.path.rstrip("/").rsplit("/", 1)[-1]
        )
        if connection_id is None:
            return 404
        hinted = parse_qs(parts.query).get("event", [None])[0]
        try:
            event, order_id = bootstrap.parse_ccv_webhook(body, event=hinted)
        except InvalidOrderData:
            return 400
        outcome = receive_ccv_delivery(
            Delivery(connection_id, event, order_id, body), store=self.app.store, queue=self
        )
        return 202 if outcome is not Received.IGNORED else 200


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="Orders in the generated sandbox shop.")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same shop.")] = 1,
    data_dir: DataDir = None,
) -> None:
    """See ccvbird work without any account: a sandbox shop and a sandbox Moneybird, in this
    process. Connects them, imports the shop's history, books live orders from webhooks, shows
    the result. Uses a fresh temporary data directory unless --data-dir is given (one without a
    connection yet)."""
    if orders < 1:
        fail(f"--orders: the sandbox shop needs at least 1 order (got {orders})")
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="ccvbird-demo-"))
    inbox = _Inbox()
    sandboxes = bootstrap.in_process_sandboxes(orders=orders, seed=seed, poster=inbox)
    settings = bootstrap.load_settings(data_dir=data_dir)
    ccvbird = bootstrap.build_app(
        settings, transports=sandboxes.transports, moneybird_budget=bootstrap.unlimited_budget()
    )
    ccvbird.ccv_limits = (10**9, 10**9)
    inbox.app = ccvbird
    try:
        if ccvbird.store.connections():
            fail(
                f"{data_dir} has a connection already; the demo needs a data directory of its "
                "own (leave out --data-dir, or give one that does not exist yet)"
            )
        _run_demo(ccvbird, sandboxes, inbox, data_dir)
    except CcvbirdError as exc:  # expected failures (a refused profile, …): one line, exit 2
        fail(str(exc))
    finally:
        ccvbird.close()


def _run_demo(
    ccvbird: bootstrap.App, sandboxes: bootstrap.Sandboxes, inbox: _Inbox, data_dir: Path
) -> None:
    shop = sandboxes.shop
    console.rule("[bold]1. Connect[/]")
    console.print(
        f"Sandbox shop [bold]{escape(shop.name)}[/] with {len(shop.orders())} orders; "
        f"sandbox Moneybird administration {sandboxes.administration_id}. "
        f"Data directory: {data_dir}"
    )
    connected = bootstrap.connect(
        ccvbird, name=shop.name, ccv_url=sandboxes.ccv_url, ccv_public=sandboxes.ccv_public,
        ccv_secret=sandboxes.ccv_secret, moneybird_url=sandboxes.moneybird_url,
        moneybird_token=sandboxes.moneybird_token, administration_id=sandboxes.administration_id,
    )  # fmt: skip
    cid = connected.connection_id
    if connected.paused_reason:
        fail(f"the drafted profile is not complete: {connected.paused_reason}")
    console.print(
        "Both connections work; the profile was drafted from the administration and is complete."
    )
    token = ccvbird.store.webhook_token(cid)
    for event in sorted(ORDER_EVENTS):
        shop.add_webhook(event, f"{ccvbird.settings.public_url}/webhooks/ccv/{token}?event={event}")
    console.print(f"Registered CCV webhooks for {', '.join(sorted(ORDER_EVENTS))}.")

    console.rule("[bold]2. Import the history[/]")
    since = min(
        o.created_at
        for o in ccvbird.shop_for(cid).list_orders(created_from=datetime(2000, 1, 1, tzinfo=UTC))
    ).date()
    plan = plan_import(cid, since=since, store=ccvbird.store, shop=ccvbird.shop_for(cid))
    console.print(f"{plan.orders} orders since {since}, {plan.due} due for invoicing.")
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tally]}"),
    )
    started = time.perf_counter()
    with Progress(*columns, console=console) as progress:
        reporter = BudgetProgress(
            progress, ccvbird.settings.moneybird_requests, ccvbird.settings.moneybird_window_seconds
        )
        with ccvbird.leased_engine(cid, "demo") as engine:
            report = import_history(
                cid,
                since=since,
                engine=engine,
                store=ccvbird.store,
                shop=ccvbird.shop_for(cid),
                progress=reporter,
                total=plan.orders,
            )
    console.print(
        f"Imported in {time.perf_counter() - started:.1f} s: {tally(report.outcomes) or 'nothing'}"
    )

    console.rule("[bold]3. Live: orders arrive through webhooks[/]")
    engine = ccvbird.leased_engine(cid, "demo")
    new_paid = shop.create_order(status=7, paid=True)
    unpaid = shop.create_order(status=7, paid=False)
    _drain(inbox, engine)
    shop.set_paid(unpaid, True)
    _drain(inbox, engine)
    for order_id in (new_paid, unpaid):
        record = ccvbird.store.record(cid, str(order_id))
        how = (
            f"as invoice {record.invoice_number}" if record.invoice_number else f"— {record.reason}"
        )
        console.print(escape(f"Order {record.order_number}: {state_words(record.state)} {how}"))

    console.rule("[bold]4. Run again: nothing is booked twice[/]")
    before = len(sandboxes.moneybird.invoices())
    whole_shop = ccvbird.clock.now() - datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    again = sync_pass(
        cid,
        engine=engine,
        store=ccvbird.store,
        shop=ccvbird.shop_for(cid),
        clock=ccvbird.clock,
        lookback=whole_shop,
    )
    engine.release()
    created = len(sandboxes.moneybird.invoices()) - before
    console.print(
        f"A second pass looked at all {again.seen} orders again and created {created} invoices."
    )

    console.rule("[bold]5. Result[/]")
    counts = ccvbird.store.count_states(cid)
    console.print(", ".join(f"{s.value.replace('_', ' ')}: {counts.get(s, 0)}" for s in SyncState))
    client = ccvbird.moneybird_client(cid)
    table = Table(
        "Order",
        "Invoice",
        "Customer",
        "Total",
        "VAT",
        "State",
        header_style="bold",
        title="A few invoices in Moneybird",
    )
    for record in ccvbird.store.records(cid, states=[SyncState.BOOKED], limit=6):
        invoice = client.get_sales_invoice(record.invoice_id or "")
        customer = (
            invoice.contact.company_name
            or f"{invoice.contact.firstname} {invoice.contact.lastname}"
            if invoice.contact
            else ""
        )
        vat = ", ".join(
            f"{format_amount(t.tax_amount)}" for t in invoice.tax_totals if t.tax_amount
        )
        table.add_row(
            record.order_number,
            invoice.invoice_id,
            escape(customer.strip()),
            format_amount(invoice.total_price_incl_tax),
            vat or "0.00",
            invoice.state,
        )
    console.print(table)
    attention = ccvbird.store.records(cid, states=[SyncState.NEEDS_ATTENTION], limit=2)
    for record in attention:
        console.print(
            f"[yellow]Needs attention[/] — order {escape(record.order_number)}: "
            f"{escape(record.reason)}"
        )
    prog = escape(program())
    console.print(
        f"\nLook around: [bold]{prog} status --data-dir {data_dir}[/], "
        f"[bold]{prog} orders --data-dir {data_dir}[/]."
    )


def _drain(inbox: _Inbox, engine: object) -> None:
    while inbox.pending:
        connection_id, order_id = inbox.pending.pop(0)
        engine.sync_order(connection_id, order_id, trigger=Trigger.WEBHOOK)  # type: ignore[attr-defined]


@app.command()
def sandbox(
    ccv_port: Annotated[int, typer.Option(help="Port of the CCV Shop sandbox.")] = 8701,
    moneybird_port: Annotated[int, typer.Option(help="Port of the Moneybird sandbox.")] = 8702,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    orders: Annotated[
        Path | None, typer.Option(help="Load orders from this file or directory (preview format).")
    ] = None,
    generate: Annotated[int, typer.Option(help="Generate this many realistic orders.")] = 25,
    faults: Annotated[
        float, typer.Option(help="Share of requests answered with a fault (0..1).")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed for generated orders and faults.")] = 0,
    ccv_public: Annotated[str, typer.Option(help="The shop's API public key.")] = "sandbox-public",
    ccv_secret: Annotated[str, typer.Option(help="The shop's API secret.")] = "sandbox-secret",  # noqa: S107
    moneybird_token: Annotated[
        str, typer.Option(help="The Moneybird API token.")
    ] = "sandbox-token",  # noqa: S107 - the documented sandbox token
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Also connect this data directory to the two sandboxes once they are up, so "
            "`ccvbird import/sync/run --data-dir …` work against them right away.",
            file_okay=False,
        ),
    ] = None,
    app_url: Annotated[
        str,
        typer.Option(
            help="ccvbird's address for the sandbox's App Store: the app 'ccvbird' is there "
            "with its install addresses, so the merchant page's Installeren button installs "
            "it (empty: no app).",
        ),
    ] = "http://127.0.0.1:8700",
    app_secret: Annotated[
        str, typer.Option(help="The App Store app's secret (ccvbird needs the same).")
    ] = "sandbox-app-secret",  # noqa: S107 - the documented sandbox value
) -> None:
    """Run both sandboxes as real servers on localhost (a CCV shop and a Moneybird).

    The banner ends with the `export CCVBIRD_…` lines to paste into the shell that runs
    `ccvbird run`, `web`, `import` or `sync` against them (with --data-dir, that data directory
    is connected to both sandboxes once they are up)."""
    ensure_port_free(host, ccv_port, option="--ccv-port")
    ensure_port_free(host, moneybird_port, option="--moneybird-port")
    try:
        config = bootstrap.ccv_sandbox_config(
            host=host, port=ccv_port, public_key=ccv_public, secret=ccv_secret, orders_dir=orders,
            generate=generate, fault_rate=faults, seed=seed, app_url=app_url or None,
            app_secret=app_secret,
        )  # fmt: skip
        ccv = bootstrap.ccv_sandbox_server(config)
    except ValueError as exc:
        fail(str(exc))
    rates = {"server_error": faults / 2, "lost_response": faults / 2} if faults else None
    moneybird = bootstrap.moneybird_sandbox_server(
        host=host, port=moneybird_port, token=moneybird_token, fault_rates=rates, fault_seed=seed
    )
    console.print(config.describe(), highlight=False)
    console.print(
        f"Moneybird sandbox: http://{host}:{moneybird_port}/api/v2, token {moneybird_token}, "
        f"administration {bootstrap.sandbox_administration_id()}; "
        "OAuth client {} / {}.".format(*bootstrap.sandbox_oauth_client()),
        highlight=False,
    )
    console.print(
        escape(
            sandbox_hints(
                host=host,
                moneybird_port=moneybird_port,
                data_dir=data_dir,
                app_url=app_url,
                app_secret=app_secret,
            )
        ),
        highlight=False,
        soft_wrap=True,
    )

    async def connect_when_up() -> None:
        while not (ccv.started and moneybird.started):
            if ccv.should_exit or moneybird.should_exit:
                return
            await asyncio.sleep(0.05)
        assert data_dir is not None
        message = await asyncio.to_thread(
            _connect_data_dir,
            data_dir,
            ccv_url=f"http://{host}:{ccv_port}",
            ccv_public=ccv_public,
            ccv_secret=ccv_secret,
            moneybird_url=f"http://{host}:{moneybird_port}/api/v2",
            moneybird_token=moneybird_token,
        )
        console.print(message)

    async def both() -> None:
        tasks = [ccv.serve(), moneybird.serve()]
        if data_dir is not None:
            tasks.append(connect_when_up())
        await asyncio.gather(*tasks)

    asyncio.run(both())


def sandbox_environment(
    *,
    host: str,
    moneybird_port: int,
    data_dir: Path | None,
    app_url: str = "",
    app_secret: str = "",
) -> dict[str, str]:
    """The settings that point `ccvbird run`/`web` at the running Moneybird sandbox: its API
    and OAuth addresses and client (for "Connect Moneybird"), the App Store app's address and
    secret (for "Installeren" on the shop's merchant page), and the data directory that
    `sandbox --data-dir` connected to both sandboxes."""
    base = f"http://{host}:{moneybird_port}"
    client_id, client_secret = bootstrap.sandbox_oauth_client()
    environment = {
        "CCVBIRD_MONEYBIRD_API_URL": f"{base}/api/v2",
        "CCVBIRD_MONEYBIRD_OAUTH_URL": f"{base}/oauth",
        "CCVBIRD_MONEYBIRD_CLIENT_ID": client_id,
        "CCVBIRD_MONEYBIRD_CLIENT_SECRET": client_secret,
    }
    if app_url:
        environment["CCVBIRD_PUBLIC_URL"] = app_url.rstrip("/")
        environment["CCVBIRD_CCV_APP_SECRET"] = app_secret
    if data_dir is not None:
        environment["CCVBIRD_DATA_DIR"] = str(data_dir.expanduser().absolute())
    return environment


def sandbox_hints(
    *,
    host: str,
    moneybird_port: int,
    data_dir: Path | None,
    app_url: str = "",
    app_secret: str = "",
) -> str:
    """The banner's instructions: the exact lines to paste into the shell that runs ccvbird."""
    prog = program()
    environment = sandbox_environment(
        host=host, moneybird_port=moneybird_port, data_dir=data_dir, app_url=app_url,
        app_secret=app_secret,
    )  # fmt: skip
    lines = [
        f"To use these sandboxes from `{prog} run`, `{prog} web`, `{prog} import` or "
        f"`{prog} sync`, run this in the other shell first:",
        *(f"  export {name}={shlex.quote(value)}" for name, value in environment.items()),
    ]
    if data_dir is None:
        lines.append(
            f"No data directory is connected to them: start `{prog} sandbox --data-dir DIR` "
            f"to connect DIR once both are up, or connect one yourself with `{prog} connect`."
        )
    else:
        lines.append(
            f"Then: `{prog} import --since 2020-01-01` and `{prog} run` (the data directory "
            "is connected to both sandboxes once they are up)."
        )
    return "\n".join(lines)


def _connect_data_dir(
    data_dir: Path,
    *,
    ccv_url: str,
    ccv_public: str,
    ccv_secret: str,
    moneybird_url: str,
    moneybird_token: str,
) -> str:
    """Connect ``data_dir`` to the running sandboxes (once: a second start finds it connected)."""
    ccvbird = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
    try:
        for known in ccvbird.store.connections():
            if known.shop_url == ccv_url:
                return (
                    f"Data directory {data_dir} is connected to this sandbox already "
                    f"(connection {known.id})."
                )
        connected = bootstrap.connect(
            ccvbird, name="", ccv_url=ccv_url, ccv_public=ccv_public, ccv_secret=ccv_secret,
            moneybird_url=moneybird_url, moneybird_token=moneybird_token,
            administration_id=bootstrap.sandbox_administration_id(),
        )  # fmt: skip
    except CcvbirdError as exc:
        return f"[red]Could not connect {data_dir} to the sandboxes:[/] {exc}"
    finally:
        ccvbird.close()
    return (
        f"Connected data directory {data_dir} to both sandboxes (connection "
        f"{connected.connection_id}). Try: {program()} import --since 2020-01-01 "
        f"--data-dir {data_dir}"
    )
