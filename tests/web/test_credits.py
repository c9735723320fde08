"""Credits in the web app: a booked order cancelled in CCV Shop offers *Credit it*, which books
one Moneybird credit invoice; the order page lists the invoice and each credit in words (nl and
en), a parked credit says why and what to do, and the dashboard has tiles and filters for
credited orders and credits that need attention.

What was booked is checked against the Moneybird sandbox's own records (the credit invoice, its
link to the original, its totals and VAT), not against ccvbird's view of itself.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest

from ccvbird.bootstrap import LEASE
from ccvbird.domain.credits import CreditProblemCode
from ccvbird.domain.sync import OrderRecord, SyncState
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.credit_labels import credit_why, order_why
from ccvbird.entrypoints.web.formats import money
from ccvbird.entrypoints.web.i18n import set_language
from ccvbird.entrypoints.web.labels import advice
from ccvbird.entrypoints.web.routes.orders import CREDIT_LEASE_TRIES
from ccvbird.sandbox.moneybird.records import SalesInvoice
from tests.web.conftest import World
from tests.web.test_dashboard import with_orders
from tests.web.test_pages import _untranslated_in


def _booked(world: World, connection_id: int) -> list[OrderRecord]:
    return [r for r in world.app.store.records(connection_id) if r.state is SyncState.BOOKED]


def _cancel(world: World, connection_id: int, record: OrderRecord) -> None:
    """The merchant cancels the order in CCV Shop; its webhook reaches ccvbird and is synced."""
    world.shop.cancel_order(int(record.order_id))
    world.drain()


def _credits(world: World) -> list[SalesInvoice]:
    return [i for i in world.moneybird.invoices() if i.original_sales_invoice_id]


def _page(world: World, connection_id: int, order_id: str) -> str:
    return unescape(world.client.get(f"/connections/{connection_id}/orders/{order_id}").text)


def _text(html: str) -> str:
    """The words of a page, spaces collapsed (not the no-break space after €)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def _in(language: str, value: Decimal) -> str:
    token = set_language(language)
    try:
        return money(value)
    finally:
        i18n._language.reset(token)


def _press_credit_it(world: World, connection_id: int, order_id: str) -> Any:
    page = f"/connections/{connection_id}/orders/{order_id}"
    response = world.post_form(page, f"{page}/credit")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == page
    return world.client.get(page)


def _post_credit(world: World, connection_id: int, order_id: str) -> Any:
    """What a stale page (a second tab) would post, with no button on the page now."""
    return world.client.post(
        f"/connections/{connection_id}/orders/{order_id}/credit",
        data={"csrf_token": world.csrf(f"/connections/{connection_id}/orders/{order_id}")},
        follow_redirects=True,
    )


def _cancelled_and_asked(world: World) -> tuple[int, OrderRecord]:
    connection_id = with_orders(world)
    record = _booked(world, connection_id)[0]
    _cancel(world, connection_id, record)
    return connection_id, world.app.store.record(connection_id, record.order_id)


def test_a_cancelled_booked_order_asks_in_dutch_and_offers_credit_it(world: World) -> None:
    connection_id, record = _cancelled_and_asked(world)
    assert record.reason_code == "cancelled_after_booking_ask"
    html = _page(world, connection_id, record.order_id)
    assert '<button id="credit-it">Crediteren</button>' in html
    text = _text(html)
    assert f"De bestelling is in CCV Shop geannuleerd nadat factuur {record.invoice_number}" in text
    assert "druk dan op Crediteren" in text
    why = _text(html[: html.index('<table class="events">')])  # the log keeps the engine's lines
    assert "cancellations" not in why and "ccvbird credit" not in why  # no engine English
    assert _untranslated_in(html) == []
    # A retry cannot credit it: it is only the quiet "look again", never the main button.
    retry = re.search(r'action="[^"]+/retry">(.*?)</form>', html, re.S)
    assert retry and 'class="secondary"' in retry.group(1)
    # The list and the dashboard say it in Dutch too.
    listed = _text(unescape(world.client.get(f"/connections/{connection_id}/orders").text))
    assert "geannuleerd nadat factuur" in listed
    board = _text(unescape(world.client.get(f"/connections/{connection_id}").text))
    assert "geannuleerd nadat factuur" in board
    assert _credits(world) == []  # nothing is credited until a person says so


def test_credit_it_books_one_credit_invoice_shown_in_dutch_and_english(world: World) -> None:
    connection_id, record = _cancelled_and_asked(world)
    assert record.booked_total is not None
    answer = _text(unescape(_press_credit_it(world, connection_id, record.order_id).text))

    (credit,) = _credits(world)  # Moneybird's own record of what was booked
    assert credit.original_sales_invoice_id == record.invoice_id
    assert credit.reference == f"{record.order_number}-C1"
    assert credit.state == "paid"  # settled: the refund of a paid order is registered
    sums = world.moneybird.books().sums(credit)
    assert sums.incl_tax == -record.booked_total
    vat = [rate.tax for rate in sums.rates if rate.tax]
    assert answer.count(f"Gecrediteerd: creditfactuur {credit.reference} van ") == 1
    assert f"{_in('nl', record.booked_total)} is in Moneybird geboekt." in answer

    html = _page(world, connection_id, record.order_id)
    assert 'id="credit-it"' not in html  # credited: nothing left to press
    row = re.search(rf'<tr class="credit booked" data-credit="{credit.reference}">(.*?)</tr>',
                    html, re.S)  # fmt: skip
    assert row, html
    cells = row.group(1)
    assert f'/sales_invoices/{credit.id}"' in cells  # the link to the credit in Moneybird
    assert f'<td class="amount">{_in("nl", sums.incl_tax)}</td>' in cells
    assert all(_in("nl", tax) in cells for tax in vat)
    assert "Geboekt" in cells and "Terugbetaling geregistreerd" in cells
    assert "Factuur en crediteringen" in html and "Creditfactuur" in html
    assert "Creditering geboekt" in html  # the event log, in words
    # ...its details too: what the credit's steps did, in Dutch, never the engine's English.
    reference = f"{record.order_number}-C1"
    assert f"creditering {reference} geboekt (" in html
    assert f"credit {reference} booked" not in html and "creating credit" not in html
    assert _untranslated_in(html) == []

    world.post_form(f"/connections/{connection_id}", "/language", language="en")
    english = _page(world, connection_id, record.order_id)
    assert "Invoice and credits" in english and "Refund registered as paid back" in english
    assert f'<td class="amount">{_in("en", sums.incl_tax)}</td>' in english
    assert _in("en", sums.incl_tax).startswith("-€")

    # Pressed again (a second tab, a double click): still one credit, and it says so.
    again = _post_credit(world, connection_id, record.order_id)
    assert "Nothing was done: this order is credited already." in unescape(again.text)
    assert len(_credits(world)) == 1


def test_credit_it_is_refused_in_words_for_an_order_not_cancelled(world: World) -> None:
    connection_id = with_orders(world)
    record = _booked(world, connection_id)[0]
    assert 'id="credit-it"' not in _page(world, connection_id, record.order_id)
    page = _text(unescape(_post_credit(world, connection_id, record.order_id).text))
    assert "Er is niets gedaan: de bestelling is in CCV Shop niet geannuleerd." in page
    assert _credits(world) == []


def test_a_parked_credit_says_why_and_what_to_do(world: World) -> None:
    connection_id, record = _cancelled_and_asked(world)
    assert record.invoice_id is not None
    # Someone removed the invoice from Moneybird meanwhile (no webhook told ccvbird).
    world.moneybird.books().sales_invoices.pop(record.invoice_id)
    page = _text(unescape(_press_credit_it(world, connection_id, record.order_id).text))
    assert "De creditering vraagt aandacht: hieronder staat waarom." in page
    assert "De factuur van de bestelling is in Moneybird verwijderd." in page
    assert "De factuur staat niet meer in Moneybird, dus er valt niets te crediteren." in page
    assert _credits(world) == []
    html = _page(world, connection_id, record.order_id)
    assert f'data-credit="{record.order_number}-C1"' in html and "Vraagt aandacht" in html
    assert _untranslated_in(html) == []

    world.post_form(f"/connections/{connection_id}", "/language", language="en")
    english = _text(_page(world, connection_id, record.order_id))
    assert "The order's invoice was deleted in Moneybird." in english

    # The dashboard's tile and the list's filter find it.
    board = world.client.get(f"/connections/{connection_id}").text
    assert 'data-state="credit_needs_attention"><strong>1</strong>' in board
    assert 'data-state="credited"><strong>0</strong>' in board
    base = f"/connections/{connection_id}/orders"
    listed = world.client.get(base, params={"state": "credit_needs_attention"}).text
    assert re.findall(r'<tr data-order="([^"]+)"', listed) == [record.order_number]
    assert world.client.get(base, params={"state": "credited"}).text.count("<tr data-order=") == 0


def test_tiles_and_filters_for_credited_orders(world: World) -> None:
    connection_id, record = _cancelled_and_asked(world)
    base = f"/connections/{connection_id}"
    board = world.client.get(base).text
    assert 'data-state="credited"><strong>0</strong>' in board
    _press_credit_it(world, connection_id, record.order_id)
    board = world.client.get(base).text
    assert 'data-state="credited"><strong>1</strong>' in board
    assert 'data-state="credit_needs_attention"><strong>0</strong>' in board
    assert f'href="{base}/orders?state=credited"' in board
    assert "1</strong> Gecrediteerd</a>" in board
    listed = world.client.get(f"{base}/orders", params={"state": "credited"}).text
    assert re.findall(r'<tr data-order="([^"]+)"', listed) == [record.order_number]
    assert '<option value="credited" selected>Gecrediteerd</option>' in listed
    # An order a person credited in Moneybird is listed as credited too (as the CLI lists it).
    other = next(r for r in _booked(world, connection_id) if r.order_id != record.order_id)
    other.state, other.reason_code = SyncState.CREDITED, "credited"
    world.app.store.save(other, "moneybird.credited", "credited in Moneybird")
    listed = world.client.get(f"{base}/orders", params={"state": "credited"}).text
    assert sorted(re.findall(r'<tr data-order="([^"]+)"', listed)) == sorted(
        [record.order_number, other.order_number]
    )
    assert 'data-state="credited"><strong>2</strong>' in world.client.get(base).text
    csv = world.client.get(f"{base}/orders.csv", params={"state": "credited"}).text
    assert record.order_number in csv and other.order_number in csv


def test_credit_it_says_busy_and_books_nothing_while_the_connection_is_leased(
    world: World,
) -> None:
    connection_id, record = _cancelled_and_asked(world)
    waits: list[float] = []
    world.app.sleep = waits.append  # the second between asks, not slept in a test
    held = world.app.store.acquire_lease(connection_id, "import:elsewhere", LEASE)
    assert held is not None
    page = _text(unescape(_press_credit_it(world, connection_id, record.order_id).text))
    assert "ccvbird is nu bezig met deze winkel" in page
    assert len(waits) == CREDIT_LEASE_TRIES - 1
    assert _credits(world) == []
    world.app.store.release_lease(held)
    _press_credit_it(world, connection_id, record.order_id)
    assert len(_credits(world)) == 1


CODES = [c.value for c in CreditProblemCode] + [
    "cancelled_after_booking_ask", "credited_before_booking", "original_not_booked",
]  # fmt: skip


@pytest.mark.parametrize("code", CODES)
def test_every_credit_reason_code_has_words_and_advice_in_both_languages(code: str) -> None:
    said = {}
    for language in ("en", "nl"):
        token = set_language(language)
        try:
            why = credit_why(code, {"amount": "1.00", "mapping": "unmapped_vat_rate"})
            if code in ("cancelled_after_booking_ask", "credited_before_booking"):
                why = order_why(OrderRecord(1, "1", reason_code=code, invoice_number="2026-1"))
            said[language] = (why, advice(code))
        finally:
            i18n._language.reset(token)
        assert all(said[language]), (language, code)
    assert said["nl"][0] != said["en"][0] and said["nl"][1] != said["en"][1]
