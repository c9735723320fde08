"""``ccvbird credit``: the full credit of a booked order that was cancelled in CCV Shop.

With the profile's ``credits.cancellations = "ask"`` (the default) a booked order that is
cancelled afterwards is not credited by itself: a person says so, here or with the web app's
"credit it" button. Partial refunds need no one: CCV makes a credit invoice for them and ccvbird
books it when it reads the order.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ccvbird import bootstrap
from ccvbird.entrypoints.cli.common import (
    ConnectionOption,
    DataDir,
    app,
    console,
    fail,
    find_order,
    opened,
    pick_connection,
)
from ccvbird.entrypoints.cli.words import credit_booked_words


@app.command()
def credit(
    order: Annotated[str, typer.Argument(help="Order number or CCV order id.")],
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Credit a booked order that was cancelled in CCV Shop, in full: a Moneybird credit invoice
    for every line of its invoice, linked to it, finalised without e-mailing the customer, and
    settled (the refund registered, or set off against the invoice when it was never paid).

    For credits.cancellations = "ask" in the profile (the default). Refused, with exit status
    2, for an order ccvbird does not know, has not booked, that is not cancelled in CCV Shop,
    or that is credited already. Running it twice books one credit."""
    with opened(data_dir) as ccvbird:
        chosen = pick_connection(ccvbird, connection)
        record = find_order(ccvbird, chosen, order)
        answer = bootstrap.credit_order(ccvbird, chosen, record.order_id)
        paused = ccvbird.store.connection(chosen).paused_reason
    if answer.outcome == "refused":
        fail(answer.message)
    number = record.order_number or record.order_id
    if answer.outcome == "booked":
        for booked in answer.credits:
            console.print(escape(f"Order {number}: {credit_booked_words(booked)}."))
        return
    if answer.outcome == "retry_later":
        console.print(
            escape(f"Order {number}: the credit is under way and will be retried. {answer.message}")
        )
        if paused:
            console.print(f"[yellow]The connection is paused:[/] {escape(paused)}")
        raise typer.Exit(1)
    fail(f"order {number}: the credit needs attention: {answer.message}")
