"""Running: ``import``, ``sync``, ``run``, ``worker``, ``status``, ``orders``, ``retry``,
``resume``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from ccvbird import bootstrap
from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.mapping import MappingResult
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.order import Order
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import OrderRecord, SyncState
from ccvbird.entrypoints import health, worker
from ccvbird.entrypoints.cli.common import (
    ConnectionOption,
    DataDir,
    app,
    console,
    ensure_port_free,
    fail,
    find_order,
    opened,
    pick_connection,
    program,
)
from ccvbird.entrypoints.cli.words import (
    credit_booked_words,
    credit_counts,
    outcome_words,
    state_words,
    tally,
)
from ccvbird.entrypoints.logs import configure_logging, uvicorn_log_config
from ccvbird.entrypoints.web.serve import web_server
from ccvbird.service.passes import PassReport, import_history, plan_import, sync_pass
from ccvbird.service.sync import Trigger
from ccvbird.wiring.metrics import metrics_endpoint

#: Moneybird requests one order costs on average (create, send, pay, plus new contacts).
REQUESTS_PER_ORDER = 3.7


class BudgetProgress:
    """A Rich progress bar whose ETA comes from the Moneybird budget, not from the past pace:
    the first orders go out in a burst, the rest at 150 requests per 5 minutes."""

    def __init__(self, progress: Progress, requests: int, window: float) -> None:
        self.progress = progress
        self.per_second = requests / window
        self.task: TaskID | None = None
        self.outcomes: Counter[str] = Counter()

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("importing", total=total or None, eta="", tally="")

    def advance(self, outcome: str) -> None:
        self.outcomes[outcome] += 1
        assert self.task is not None
        task = self.progress.tasks[self.task]
        done = sum(self.outcomes.values())
        left = max((task.total or done) - done, 0)
        eta = timedelta(seconds=round(left * REQUESTS_PER_ORDER / self.per_second))
        self.progress.update(
            self.task, completed=done, eta=f"left {left}, ETA {eta}", tally=tally(self.outcomes)
        )


def _print_pass(report: PassReport) -> None:
    _print_report(report.outcomes, report.paused_reason, report.stopped_reason)
    for problem in report.unrecorded:
        console.print(f"[yellow]Not booked:[/] {escape(problem)}")


def _print_report(
    outcomes: Counter[str], paused: str, stopped: str = "", *, tally_line: bool = True
) -> None:
    if tally_line:
        console.print("Done: " + (tally(outcomes) or "nothing to do"))
    if paused:
        console.print(f"[yellow]The connection is paused:[/] {escape(paused)}")
    if stopped:
        console.print(f"[yellow]Stopped early:[/] {escape(stopped)}")


@app.command("import")
def import_(
    since: Annotated[
        str, typer.Option(help="Import orders created on or after this date (YYYY-MM-DD).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be booked; book nothing.")
    ] = False,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Book the shop's existing orders from a date on (history import); already booked orders
    are skipped, so it can be run again at any time. Orders Moneybird already has an invoice
    for (same reference) are never booked twice: a paid one is taken over, an unpaid one is
    left for you (see existing_invoices in docs/profile.md)."""
    try:
        start = date.fromisoformat(since)
    except ValueError:
        fail(f"--since: {since!r} is not a date like 2026-01-31")
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        shop = ccvbird.shop_for(chosen)
        plan = plan_import(chosen, since=start, store=ccvbird.store, shop=shop)
        console.print(
            f"{plan.orders} orders since {start}: {plan.due} due for invoicing, "
            f"{plan.settled} already settled."
        )
        if dry_run:
            table = Table("Order", "Date", "Total", "Lines", "Would book", header_style="bold")

            def show(order: Order, result: MappingResult) -> None:
                verdict = "yes" if result.ok else "no: " + result.problems[0].message[:80]
                total = format_amount(result.totals.incl_vat)
                day = result.draft.invoice_date.isoformat()
                table.add_row(
                    escape(order.number), day, total, str(len(result.draft.lines)), escape(verdict)
                )

            report = import_history(
                chosen, since=start, engine=ccvbird.engine_for(chosen), store=ccvbird.store,
                shop=shop, dry_run=True, on_preview=show,
            )  # fmt: skip
            console.print(table)
            _print_pass(report)
            console.print("Dry run: nothing was booked.")
            return
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[eta]}"),
            TextColumn("{task.fields[tally]}"),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            reporter = BudgetProgress(
                progress,
                ccvbird.settings.moneybird_requests,
                ccvbird.settings.moneybird_window_seconds,
            )
            with ccvbird.leased_engine(chosen, "cli") as engine:
                report = import_history(
                    chosen, since=start, engine=engine, store=ccvbird.store, shop=shop,
                    progress=reporter, total=plan.orders - plan.settled,
                )  # fmt: skip
        _print_pass(report)


@app.command()
def sync(data_dir: DataDir = None) -> None:
    """One pass: poll every connection, book what is due, then exit. Each order is booked under
    the connection's lease, so running it beside workers never books an order twice."""
    with opened(data_dir) as ccvbird:
        for info in ccvbird.store.connections():
            if not info.enabled:
                continue
            with ccvbird.leased_engine(info.id, "cli") as engine:
                report = sync_pass(
                    info.id, engine=engine, store=ccvbird.store, shop=ccvbird.shop_for(info.id),
                    clock=ccvbird.clock, lookback=timedelta(days=ccvbird.settings.lookback_days),
                )  # fmt: skip
            console.print(
                f"[bold]{escape(info.name)}[/]: {report.seen} recent orders looked at, "
                f"{report.due} due for a retry."
            )
            _print_pass(report)


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Per connection: orders by state, credits (booked, waiting, needing attention), last and
    next sync, bookings waiting for a retry (and
    when the next is due), Moneybird budget use, why paused."""
    with opened(data_dir) as ccvbird:
        connections = ccvbird.store.connections()
        if not connections:
            prog = escape(program())
            console.print(f"No connections yet: `{prog} connect` (or `{prog} demo`).")
        for info in connections:
            counts = ccvbird.store.count_states(info.id)
            console.print(
                f"[bold]{escape(info.name)}[/] (connection {info.id}, "
                f"administration {info.administration_id})"
            )
            console.print(
                "  "
                + ", ".join(f"{s.value.replace('_', ' ')}: {counts.get(s, 0)}" for s in SyncState)
            )
            console.print("  credits: " + credit_counts(ccvbird.store.count_credit_states(info.id)))
            last = info.last_sync_at.isoformat(timespec="seconds") if info.last_sync_at else "never"
            following = (
                (info.last_sync_at + timedelta(minutes=ccvbird.settings.poll_minutes)).isoformat(
                    timespec="seconds"
                )
                if info.last_sync_at
                else "at the next start of `ccvbird run`"
            )
            console.print(f"  last sync: {last}; next: {following}")
            if info.last_error:
                when = (
                    info.last_error_at.isoformat(timespec="seconds") if info.last_error_at else ""
                )
                console.print(
                    f"  [red]last sync failed[/] {when}: {escape(info.last_error)}", soft_wrap=True
                )
            count, first = ccvbird.store.retries_waiting(info.id)
            console.print("  " + _retries_line(count, first, ccvbird, paused=info.paused_reason))
            used, limit = bootstrap.budget_use(ccvbird, info.id)
            console.print(
                f"  Moneybird budget: {used} of {limit} requests used in the last "
                f"{ccvbird.settings.moneybird_window_seconds:.0f} s"
            )
            if info.paused_reason:
                console.print(f"  [yellow]paused:[/] {escape(info.paused_reason)}")
            elif not info.enabled:
                console.print("  [yellow]disabled[/]")


def _retries_line(
    count: int, first: datetime | None, ccvbird: bootstrap.App, *, paused: str
) -> str:
    """How many bookings wait to be taken up again, and when the first one is due."""
    if count == 0:
        return "bookings waiting for a retry: none"
    if paused:
        due = "once the connection resumes"
    elif first is None or first <= ccvbird.clock.now():
        due = "now"
    else:
        due = first.isoformat(timespec="seconds")
    return f"bookings waiting for a retry: {count}; next due: {due}"


@app.command()
def orders(
    state: Annotated[
        SyncState | None,
        typer.Option(
            help="Only orders in this state (awaiting_payment: booked, the invoice open "
            "until CCV says the order is paid; credited: orders with credits booked by "
            "ccvbird, with the amount and the credits' references, and orders credited in "
            "Moneybird by a person)."
        ),
    ] = None,
    search: Annotated[
        str, typer.Option(help="Order number, CCV id or invoice number contains this.")
    ] = "",
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 50,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """List orders with their state, invoice and — when something is wrong — why."""
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        if state is SyncState.CREDITED:
            _print_credited(ccvbird, chosen, search=search, limit=limit)
            return
        records = ccvbird.store.records(
            chosen, states=[state] if state else None, search=search, limit=limit
        )
        credited = ccvbird.store.credited_orders(chosen)
    table = Table("Order", "CCV id", "Created", "State", "Invoice", "Why", header_style="bold")
    for record in records:
        created = record.order_created_at.date().isoformat() if record.order_created_at else ""
        shown = state_words(record.state)
        if record.order_id in credited:
            shown += ", credited"
        invoice = record.invoice_number or ""
        table.add_row(
            escape(record.order_number), record.order_id, created, shown, invoice,
            escape(record.reason),
        )  # fmt: skip
    console.print(table)


def _print_credited(ccvbird: bootstrap.App, chosen: int, *, search: str, limit: int) -> None:
    """``orders --state credited``: what ccvbird credited (amount, references), newest first,
    and the orders a person credited in Moneybird (ccvbird leaves those alone)."""
    booked: dict[str, list[CreditRecord]] = {}
    for credit in ccvbird.store.credit_records(chosen):
        if credit.state is CreditState.BOOKED:
            booked.setdefault(credit.order_id, []).append(credit)
    records = {r.order_id: r for r in ccvbird.store.records(chosen, states=[SyncState.CREDITED])}
    for order_id in booked:
        if order_id not in records:
            records[order_id] = ccvbird.store.record(chosen, order_id)

    def matches(record: OrderRecord) -> bool:
        texts = [record.order_number, record.order_id, record.invoice_number or ""]
        texts += [c.reference for c in booked.get(record.order_id, [])]
        return not search or any(search.lower() in text.lower() for text in texts)

    newest = datetime.min.replace(tzinfo=UTC)
    shown = sorted(
        (r for r in records.values() if matches(r)),
        key=lambda r: (r.order_created_at or newest, r.order_id),
        reverse=True,
    )[:limit]
    table = Table(
        "Order", "CCV id", "Created", "Invoice", "Booked", "Credited", "Credits", "Why",
        header_style="bold",
    )  # fmt: skip
    for record in shown:
        credits = booked.get(record.order_id, [])
        created = record.order_created_at.date().isoformat() if record.order_created_at else ""
        total = sum((c.total or ZERO for c in credits), ZERO)
        why = (
            record.reason
            if record.state is SyncState.CREDITED
            else "; ".join(credit_booked_words(c) for c in credits)
        )
        table.add_row(
            escape(record.order_number), record.order_id, created, record.invoice_number or "",
            format_amount(record.booked_total) if record.booked_total is not None else "",
            format_amount(total) if credits else "",
            ", ".join(c.reference for c in credits), escape(why),
        )  # fmt: skip
    console.print(table)


@app.command()
def retry(
    order: Annotated[str | None, typer.Argument(help="Order number or CCV order id.")] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Retry every order that needs attention.")
    ] = False,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Try an order (or every order needing attention) again, now."""
    if (order is None) == (not all_failed):
        fail("give an order number, or --all-failed")
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        if all_failed:
            targets = [
                r.order_id
                for r in ccvbird.store.records(chosen, states=[SyncState.NEEDS_ATTENTION])
            ]
        else:
            targets = [find_order(ccvbird, chosen, order or "").order_id]
        engine = ccvbird.leased_engine(chosen, "cli")
        outcomes: Counter[str] = Counter()
        for order_id in targets:
            record = ccvbird.store.record(chosen, order_id)
            record.attempts, record.next_attempt_at = 0, None
            ccvbird.store.save(record, "retry.requested", Reason("event.retry.command_line"))
            with engine:  # the lease for this order only: the workers go on between orders
                result = engine.sync_order(chosen, order_id, trigger=Trigger.RETRY)
            outcomes[result.outcome.value] += 1
            if len(targets) == 1:
                said = (
                    f"Order {result.record.order_number or order_id}: "
                    f"{outcome_words(result.outcome.value)}."
                )
                reason = result.record.reason
                console.print(escape(f"{said} {reason}" if reason else said))
        paused = ccvbird.store.connection(chosen).paused_reason
        if len(targets) == 1:  # its line above said what happened: no tally of one
            _print_report(Counter(), paused, tally_line=False)
        else:
            _print_report(outcomes, paused)


@app.command()
def resume(connection: ConnectionOption = None, data_dir: DataDir = None) -> None:
    """Resume a paused connection once you fixed the cause (e.g. restored the Moneybird token):
    the next `ccvbird sync` (or the running `ccvbird run`) books every order that waited."""
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        info = ccvbird.store.connection(chosen)
        if not info.paused_reason:
            console.print(f"Connection {chosen} is not paused.")
            return
        ccvbird.store.resume(chosen)
        count, _first = ccvbird.store.retries_waiting(chosen)
        console.print(
            f"Connection {chosen} resumed; {count} waiting order(s) are booked by the next sync."
        )


def _serve_workers(
    data_dir: DataDir,
    *,
    workers: int | None,
    scheduler: bool,
    web: bool,
    host: str | None = None,
    port: int | None = None,
    metrics_port: int | None = None,
) -> None:
    with opened(data_dir) as ccvbird:
        settings = ccvbird.settings
        if web:
            ensure_port_free(host or settings.web_host, port or settings.web_port, option="--port")
        if metrics_port is not None:
            ensure_port_free(settings.web_host, metrics_port, option="--metrics-port")
        configure_logging(settings.log_format)
        huey = bootstrap.task_queue(settings)
        tasks = worker.register(ccvbird, huey)
        # Every process of the machine keeps its counters in one directory (docs/operations.md).
        metrics = metrics_endpoint(ccvbird, huey, multiprocess=True)
        queue_answers = partial(bootstrap.queue_answers, huey)
        server = None
        if web:
            server = web_server(
                ccvbird, tasks.queue(), host=host, port=port, queue_answers=queue_answers,
                metrics=metrics.render,
            )  # fmt: skip
        # Every wait of a booking ends when the process is asked to stop (worker.Stopping).
        stopping = worker.Stopping()
        ccvbird.sleep = stopping.sleep
        consumer = worker.consumer(
            tasks, workers=workers or ccvbird.settings.workers, periodic=scheduler,
            stopping=stopping, on_stop=_say_stopping,
        )  # fmt: skip
        parts = [f"{workers or ccvbird.settings.workers} workers"] + (["scheduler (polls every "
                 f"{ccvbird.settings.poll_minutes:g} min)"] if scheduler else [])  # fmt: skip
        if server is not None:
            parts.append(f"web app on http://{server.config.host}:{server.config.port}")
        probes = None
        if metrics_port is not None:
            checks = {"database": partial(bootstrap.database_answers, ccvbird),
                      "queue": queue_answers}  # fmt: skip
            token = settings.metrics_token
            probes = health.health_server(
                checks, host=settings.web_host, port=metrics_port, metrics=metrics.render,
                metrics_token=token.get_secret_value() if token else None,
                log_config=uvicorn_log_config(settings.log_format),
            )  # fmt: skip
            health.serve_in_thread(probes)
            parts.append(
                f"/healthz, /readyz and /metrics on http://{settings.web_host}:{metrics_port}"
            )
        console.print("ccvbird running: " + ", ".join(parts) + ". Stop with Ctrl+C.")
        try:
            if server is not None:
                consumer.start()
                try:
                    server.run()
                finally:
                    consumer.stop(graceful=True)
            else:
                consumer.run()
        finally:
            if probes is not None:
                probes.should_exit = True
        console.print("ccvbird stopped: no booking left under way.")


def _say_stopping() -> None:
    console.print(
        "ccvbird stopping: finishing the bookings under way, handing back those that wait "
        "(asked again, it stops at once)."
    )


#: ``--host`` and ``--port`` of the commands that serve the web app (they override the settings).
WebHost = Annotated[
    str | None,
    typer.Option(help="Address the web app listens on (default: CCVBIRD_WEB_HOST, 127.0.0.1)."),
]
WebPort = Annotated[
    int | None,
    typer.Option(help="Port the web app listens on (default: CCVBIRD_WEB_PORT, 8700)."),
]


@app.command()
def run(
    workers: Annotated[int | None, typer.Option(help="Worker threads (default 2).")] = None,
    host: WebHost = None,
    port: WebPort = None,
    data_dir: DataDir = None,
) -> None:
    """Run everything in one process: the web app, the scheduler and the workers."""
    _serve_workers(data_dir, workers=workers, scheduler=True, web=True, host=host, port=port)


@app.command("worker")
def worker_(
    workers: Annotated[int | None, typer.Option(help="Worker threads (default 2).")] = None,
    scheduler: Annotated[
        bool, typer.Option(help="Also poll on schedule (run it on one machine only).")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve /healthz (alive), /readyz (database and queue answer) and /metrics "
            "(Prometheus; see docs/operations.md) on this port."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run workers only (start as many as needed, on as many machines; use Redis and PostgreSQL).

    SIGTERM or Ctrl+C stops cleanly: a booking under way is finished, or handed back when it
    waits (another worker takes it up at once); no lease is left behind. Asked twice, it stops
    at once (an interrupted booking then resumes by itself once its lease ran out)."""
    _serve_workers(
        data_dir, workers=workers, scheduler=scheduler, web=False, metrics_port=metrics_port
    )
