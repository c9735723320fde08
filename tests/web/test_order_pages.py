"""The order list and an order's page say what matters: the invoice links to Moneybird, the
order is named by its number, amounts and dates read as the reader writes them, and a retry is
offered only where it can change something.

Checked against the Moneybird sandbox's own records (the invoice's total and number), not
against ccvbird's view of itself.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

from ccvbird.domain.sync import SyncState
from tests.web.conftest import World
from tests.web.test_dashboard import with_orders


def _booked(world: World, connection_id: int) -> list:  # type: ignore[type-arg]
    return [r for r in world.app.store.records(connection_id) if r.state is SyncState.BOOKED]


def test_each_invoice_number_in_the_list_links_to_its_invoice_in_moneybird(world: World) -> None:
    connection_id = with_orders(world)
    page = unescape(world.client.get(f"/connections/{connection_id}/orders").text)
    invoices = world.moneybird.invoices()  # Moneybird's own record of what was booked
    assert len(invoices) == 2
    for invoice in invoices:
        link = re.search(rf'href="([^"]+/sales_invoices/{invoice.id})"[^>]*>([^<]+)</a>', page)
        assert link, invoice.id
        assert link.group(2) == invoice.invoice_number


def test_amounts_and_dates_read_as_the_reader_writes_them(world: World) -> None:
    connection_id = with_orders(world)
    record = _booked(world, connection_id)[0]
    assert record.booked_total is not None
    page = world.client.get(f"/connections/{connection_id}/orders/{record.order_id}").text
    euros, cents = f"{record.booked_total:.2f}".split(".")
    dutch_euros = f"{int(euros):,}".replace(",", ".")
    assert f"€\xa0{dutch_euros},{cents}" in unescape(page)  # a space that never wraps
    assert re.search(r"\d\d-\d\d-20\d\d \d\d:\d\d", page)  # 01-12-2026 13:05
    world.post_form(f"/connections/{connection_id}", "/language", language="en")
    page = unescape(world.client.get(f"/connections/{connection_id}/orders/{record.order_id}").text)
    assert f"€{int(euros):,}.{cents}" in page
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d", page)  # 1 Dec 2026, 13:05
    assert Decimal(f"{euros}.{cents}") == record.booked_total


def test_the_order_page_names_the_order_by_its_number(world: World) -> None:
    connection_id = with_orders(world)
    record = _booked(world, connection_id)[0]
    page = world.client.get(f"/connections/{connection_id}/orders/{record.order_id}").text
    assert "<dt>CCV-bestelling</dt><dd " in page
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert f">{record.order_number}</dd>" in facts


def _buttons(world: World, connection_id: int, order_id: str) -> list[tuple[str, str]]:
    page = world.client.get(f"/connections/{connection_id}/orders/{order_id}").text
    action = f"/connections/{connection_id}/orders/{order_id}/retry"
    form = re.search(rf'action="{action}">(.*?)</form>', page, re.S)
    if form is None:
        return []
    return re.findall(r'<button( class="[^"]*")?>([^<]+)</button>', form.group(1))


def test_a_retry_is_the_main_button_only_where_it_can_book_something(world: World) -> None:
    connection_id = with_orders(world)
    store = world.app.store
    booked = _booked(world, connection_id)[0]
    # Booked: only a quiet "check again", never the main button.
    assert _buttons(world, connection_id, booked.order_id) == [
        (' class="secondary"', "Bestelling opnieuw bekijken in CCV Shop")
    ]
    # Needs attention: the main button.
    booked.state, booked.reason, booked.reason_code = SyncState.NEEDS_ATTENTION, "x", "refused"
    store.save(booked, "note", "x")
    [(cls, _text)] = _buttons(world, connection_id, booked.order_id)
    assert cls == ""
    # Skipped (cancelled): nothing a retry can change, so no button.
    booked.state, booked.reason_code = SyncState.SKIPPED, "cancelled"
    store.save(booked, "note", "x")
    assert _buttons(world, connection_id, booked.order_id) == []
