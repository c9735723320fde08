"""The dashboard: counts, sync, budget, pause/resume, the order list and page, retries, CSV,
and a history import with its progress."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ccvbird.domain.mapping import map_order
from ccvbird.domain.sync import SyncState
from tests.web.conftest import World, first_start, set_up, sign_in, sign_out

TODAY = datetime.now(UTC).date()


def with_orders(world: World) -> int:
    first_start(world)
    connection_id = set_up(world, start=TODAY - timedelta(days=400))
    for _ in range(2):
        world.shop.set_paid(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.shop.create_order(scenario="consumer", status=4, paid=False)
    world.drain()
    return connection_id


def test_the_dashboard_shows_counts_sync_times_and_budget(world: World) -> None:
    connection_id = with_orders(world)
    sign_out(world)
    sign_in(world, "operator@example.nl")  # the operator sees the request budget
    page = world.client.get(f"/connections/{connection_id}").text
    assert 'data-state="booked"><strong>2</strong>' in page
    assert 'data-state="waiting"><strong>1</strong>' in page
    assert "Moneybird-verzoeken" in page  # the operator's page: what the budget means
    assert " van de 150 die Moneybird per 5 minuten toestaat (ccvbird wacht als ze op zijn)" in page
    api = world.client.get(f"/api/connections/{connection_id}").json()
    assert api["orders"]["booked"] == 2
    assert api["moneybird_budget"]["used"] > 0


def test_pause_and_resume(world: World) -> None:
    connection_id = with_orders(world)
    base = f"/connections/{connection_id}"
    assert world.post_form(base, f"{base}/pause").status_code == 303
    assert world.app.store.connection(connection_id).paused_reason
    page = world.client.get(base).text
    assert "Gepauzeerd" in page
    assert world.post_form(base, f"{base}/resume").status_code == 303
    assert world.app.store.connection(connection_id).paused_reason == ""


def test_the_order_list_searches_and_filters(world: World) -> None:
    connection_id = with_orders(world)
    records = world.app.store.records(connection_id)
    waiting = next(r for r in records if r.state is SyncState.WAITING)
    base = f"/connections/{connection_id}/orders"
    page = world.client.get(base, params={"state": "waiting"}).text
    assert page.count("<tr data-order=") == 1 and waiting.order_number in page
    page = world.client.get(base, params={"q": waiting.order_number}).text
    assert page.count("<tr data-order=") == 1
    page = world.client.get(base, params={"state": "booked"}).text
    assert page.count("<tr data-order=") == 2


def test_the_order_page_shows_the_log_the_invoice_and_what_to_do(world: World) -> None:
    connection_id = with_orders(world)
    booked = next(r for r in world.app.store.records(connection_id) if r.state is SyncState.BOOKED)
    page = world.client.get(f"/connections/{connection_id}/orders/{booked.order_id}").text
    assert booked.invoice_number and booked.invoice_number in page
    assert f"/sales_invoices/{booked.invoice_id}" in page
    assert "payment.created" in page and "invoice.sent" in page
    waiting = next(
        r for r in world.app.store.records(connection_id) if r.state is SyncState.WAITING
    )
    page = world.client.get(f"/connections/{connection_id}/orders/{waiting.order_id}").text
    assert "Wat te doen" in page and 'http-equiv="refresh"' in page
    assert world.client.get(f"/connections/{connection_id}/orders/999999").status_code == 404


def test_retry_one_and_retry_all_put_orders_back_in_the_queue(world: World) -> None:
    connection_id = with_orders(world)
    store = world.app.store
    parked = [r for r in store.records(connection_id) if r.state is SyncState.BOOKED]
    for record in parked:  # pretend they needed a person
        record.state, record.reason, record.reason_code = SyncState.NEEDS_ATTENTION, "x", "bug"
        store.save(record, "needs_attention", "x")
    base = f"/connections/{connection_id}"
    page = f"{base}/orders/{parked[0].order_id}"
    assert world.post_form(page, f"{page}/retry").status_code == 303
    assert world.queue.items == [(connection_id, parked[0].order_id)]
    world.queue.items.clear()
    assert world.post_form(base, f"{base}/retry-failed").status_code == 303
    assert sorted(world.queue.items) == sorted((connection_id, r.order_id) for r in parked)


def test_sync_now_queues_what_is_due(far_world: World) -> None:
    world = far_world
    connection_id = with_orders(world)
    waiting = next(
        r for r in world.app.store.records(connection_id) if r.state is SyncState.WAITING
    )
    world.shop.patch_order(int(waiting.order_id), {"status": 7, "paid": True})  # no webhook
    world.queue.items.clear()
    base = f"/connections/{connection_id}"
    assert world.post_form(base, f"{base}/sync").status_code == 303
    assert (connection_id, waiting.order_id) in world.queue.items
    assert world.app.store.connection(connection_id).last_sync_at is not None


def test_the_order_log_exports_as_csv(world: World) -> None:
    connection_id = with_orders(world)
    record = world.app.store.records(connection_id)[0]
    record.reason = '=HYPERLINK("http://evil")'
    world.app.store.save(record, "note", "x")
    response = world.client.get(f"/connections/{connection_id}/orders.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")  # Excel reads it as UTF-8
    # In Dutch: what Dutch Excel opens in columns — semicolons, decimal commas, Dutch words.
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 3
    assert {r["Stand"] for r in rows} == {"Geboekt", "Wacht"}
    assert all(not r["Waarom"].startswith("=") for r in rows)
    amounts = [r["Geboekt bedrag"] for r in rows if r["Geboekt bedrag"]]
    assert amounts and all(re.fullmatch(r"-?\d+,\d\d", a) for a in amounts)
    booked = {r.order_id: r.booked_total for r in world.app.store.records(connection_id)}
    for row in rows:
        if row["Geboekt bedrag"]:
            assert Decimal(row["Geboekt bedrag"].replace(",", ".")) == booked[row["Bestel-id"]]
    # In English: commas between fields, points in amounts.
    world.post_form(f"/connections/{connection_id}", "/language", language="en")
    english = world.client.get(f"/connections/{connection_id}/orders.csv").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(english)))
    assert {r["State"] for r in rows} == {"Booked", "Waiting"}
    assert all(re.fullmatch(r"-?\d+\.\d\d", r["Booked amount"]) for r in rows if r["Booked amount"])


def test_a_history_import_books_the_past_and_shows_its_progress(world: World) -> None:
    first_start(world)
    connection_id = set_up(world, start=TODAY)
    world.drain()  # the shop's earlier orders were not booked: they are history
    assert world.app.store.count_states(connection_id).get(SyncState.BOOKED, 0) == 0
    base = f"/connections/{connection_id}"
    since = (TODAY - timedelta(days=400)).isoformat()
    response = world.post_form(base, f"{base}/import", since=since)
    assert response.headers["location"] == f"{base}/import"
    page = world.client.get(f"{base}/import").text
    assert "Klaar:" in page
    progress = world.client.get(f"/api{base}").json()["import"]
    assert progress["running"] is False and progress["done"] == progress["total"] > 0
    paid = [o for o in world.shop.orders() if o["paid"] and o["status"] == 7 and o["is_completed"]]
    counts = world.app.store.count_states(connection_id)
    assert counts.get(SyncState.BOOKED, 0) + counts.get(SyncState.NEEDS_ATTENTION, 0) == len(paid)


def test_an_unfinished_invoice_moneybird_has_is_left_and_explained(world: World) -> None:
    first_start(world)
    connection_id = set_up(world, start=TODAY)
    world.drain()
    app = world.app
    theirs = next(
        o for o in world.shop.orders() if o["paid"] and o["status"] == 7 and o["is_completed"]
    )
    order = app.shop_for(connection_id).get_order(str(theirs["id"]))
    mapped = map_order(order, app.store.connection(connection_id).profile)
    books = app.books_for(connection_id)
    contact = books.create_contact(mapped.contact)
    made = books.create_invoice(mapped.draft, contact_id=contact.id, external=False)
    books.send_invoice(made.id)  # open, unpaid: another tool's, say

    base = f"/connections/{connection_id}"
    since = (TODAY - timedelta(days=400)).isoformat()
    world.post_form(base, f"{base}/import", since=since)

    progress_page = world.client.get(f"{base}/import").text
    assert "Vraagt aandacht: 1" in progress_page and "Geboekt: " in progress_page
    order_page = world.client.get(f"{base}/orders/{order.order_id}").text
    assert "Moneybird heeft al een onafgemaakte factuur voor deze bestelling" in order_page
    same = [i for i in world.moneybird.invoices() if i.reference == order.number]
    assert [i.id for i in same] == [made.id]


def test_the_dashboard_says_why_the_last_sync_failed_until_one_succeeds(world: World) -> None:
    connection_id = with_orders(world)
    base = f"/connections/{connection_id}"
    secrets = world.app.store.secrets(connection_id)
    world.shop.revoke_api_key(secrets.ccv_public)
    assert world.post_form(base, f"{base}/sync").status_code == 303
    page = world.client.get(base).text
    assert "Laatste synchronisatie mislukt" in page
    assert "Could not read the shop&#39;s orders" in page
    api = world.client.get(f"/api/connections/{connection_id}").json()
    assert api["last_error"].startswith("Could not read the shop's orders")

    world.shop.add_api_key(secrets.ccv_public, secrets.ccv_secret)  # the key works again
    assert world.post_form(base, f"{base}/sync").status_code == 303
    assert "Laatste synchronisatie mislukt" not in world.client.get(base).text
    assert world.client.get(f"/api/connections/{connection_id}").json()["last_error"] == ""


def test_an_order_that_arrived_while_paused_is_booked_after_resume_without_a_retry(
    world: World,
) -> None:
    connection_id = with_orders(world)
    base = f"/connections/{connection_id}"
    assert world.post_form(base, f"{base}/pause").status_code == 303
    order_id = world.shop.create_order(scenario="consumer", status=7, paid=False)
    world.shop.set_paid(order_id)  # the webhook arrives while paused
    world.drain()
    assert len(world.moneybird.invoices()) == 2  # nothing booked while paused
    assert world.queue.items == []
    response = world.post_form(base, f"{base}/resume")
    assert response.status_code == 303
    assert (connection_id, str(order_id)) in world.queue.items  # no retry pressed
    world.drain()
    assert len(world.moneybird.invoices()) == 3  # Moneybird has its invoice now
    page = world.client.get(f"{base}/orders/{order_id}").text
    record = world.app.store.record(connection_id, str(order_id))
    assert record.state is SyncState.BOOKED
    # Its page says why it waited (the log), and that it was booked after.
    assert "de koppeling is gepauzeerd. Met de hand gepauzeerd vanaf het overzicht." in page
    # newest first, and in Dutch (no English sentence of the engine on a Dutch page)
    assert page.index("geboekt en betaald") < page.index("de koppeling is gepauzeerd")
    assert "booked and paid" not in page and "the connection is paused" not in page


def test_the_owner_sees_the_tiles_they_act_on_and_no_request_counts(world: World) -> None:
    connection_id = with_orders(world)
    cancelled = world.shop.create_order(scenario="consumer", status=8, paid=False)
    world.queue.items.append((connection_id, str(cancelled)))
    world.drain()
    assert world.app.store.count_states(connection_id).get(SyncState.SKIPPED, 0) >= 1
    sign_out(world)
    sign_in(world, "owner@shop.example")
    page = world.client.get(f"/connections/{connection_id}").text
    tiles = re.findall(r'data-state="([a-z_]+)"', page)
    assert tiles[0] == "needs_attention"  # what needs the owner comes first, even at 0
    assert "booked" in tiles and "waiting" in tiles
    assert "skipped" not in tiles and "booking" not in tiles  # nothing to act on
    assert "Moneybird-verzoeken" not in page
    assert "webhook" not in page.lower()
