"""Invoices Moneybird has already — from another connector, a person, or ccvbird with a state
database that is gone — are found before anything is booked, and never made twice."""

from __future__ import annotations

from collections.abc import Callable

from ccvbird.domain.mapping import map_order
from ccvbird.domain.sync import SyncState
from tests.e2e.world import World

NewWorld = Callable[..., World]


def test_a_reimport_with_a_lost_state_database_writes_nothing(new_world: NewWorld) -> None:
    first = new_world(orders=120, seed=11)
    first.import_all()
    booked = first.check_exactly_once_to_the_cent()[SyncState.BOOKED]
    writes, requests = first.moneybird_writes(), len(first.sandboxes.moneybird.api_requests())

    again = new_world(same_services_as=first)  # same shop and administration, empty database
    again.import_all()

    assert again.moneybird_writes() == writes, "the second import wrote to Moneybird"
    assert again.outcomes["taken_over"] == booked
    assert again.outcomes["booked"] == 0
    records = again.store.records(again.connection_id, states=[SyncState.BOOKED])
    invoices = {i.id: i.reference for i in again.invoices()}
    assert {r.invoice_id: r.order_number for r in records} == invoices
    again.check_exactly_once_to_the_cent()
    # The look-up is batched: a couple of requests per 100 orders, not one per order.
    reads = len(again.sandboxes.moneybird.api_requests()) - requests
    assert reads <= 2 * (len(again.shop_orders()) // 100 + 1) + 10


def test_an_unpaid_invoice_someone_else_made_is_left_alone_and_explained(
    new_world: NewWorld,
) -> None:
    world = new_world(orders=40, seed=12)
    orders = sorted(
        (o for o in world.shop_orders().values() if o.is_completed and o.paid),
        key=lambda o: o.created_at,
    )
    theirs = orders[0]
    books = world.app.books_for(world.connection_id)
    profile = world.store.connection(world.connection_id).profile
    result = map_order(theirs, profile)
    contact = books.create_contact(result.contact)
    made = books.create_invoice(result.draft, contact_id=contact.id, external=False)
    books.send_invoice(made.id)  # open and unpaid, as another tool might leave it

    world.import_all()

    record = world.store.record(world.connection_id, theirs.order_id)
    assert record.state is SyncState.NEEDS_ATTENTION
    assert record.reason_code == "already_in_moneybird"
    assert "did not make another one" in record.reason and theirs.number in record.reason
    same_reference = [i for i in world.invoices() if i.reference == theirs.number]
    assert [(i.id, i.state) for i in same_reference] == [(made.id, "open")]
    others = world.store.records(world.connection_id, states=[SyncState.BOOKED])
    assert len(others) >= 20


def test_with_existing_invoices_complete_an_unfinished_one_is_finished(
    new_world: NewWorld,
) -> None:
    world = new_world(orders=30, seed=13)
    store, cid = world.store, world.connection_id
    store.set_profile(
        cid,
        store.profile_toml(cid).replace(
            'existing_invoices = "adopt_paid"', 'existing_invoices = "complete"', 1
        ),
    )
    theirs = min(
        (o for o in world.shop_orders().values() if o.is_completed and o.paid and o.total_paid),
        key=lambda o: o.created_at,
    )
    books = world.app.books_for(cid)
    result = map_order(theirs, store.connection(cid).profile)
    contact = books.create_contact(result.contact)
    draft = books.create_invoice(result.draft, contact_id=contact.id, external=False)

    world.import_all()

    record = store.record(cid, theirs.order_id)
    assert (record.state, record.invoice_id) == (SyncState.BOOKED, draft.id)
    assert world.outcomes["taken_over"] == 1
    world.check_exactly_once_to_the_cent()  # finalised and paid, one invoice per reference
