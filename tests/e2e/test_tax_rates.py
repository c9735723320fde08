"""What Moneybird's tax rates say is checked before anything is booked with them, and what
Moneybird computed is checked before an invoice is sent or paid — against both sandboxes, and
read back through the Moneybird sandbox's own API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ccvbird import bootstrap
from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.domain.mapping import map_order
from ccvbird.domain.sync import SyncState
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.sandbox.moneybird.inprocess import IN_PROCESS_BASE_URL
from ccvbird.service.sync import Outcome, Trigger
from tests.builders import example_profile_text, order_document, row
from tests.e2e.world import World

NewWorld = Callable[..., World]
ADMIN = mb.ADMINISTRATION_ID
HOST = IN_PROCESS_BASE_URL.rsplit("/api", 1)[0]


def _moneybird(world: World) -> httpx.Client:
    return httpx.Client(
        transport=world.sandboxes.transports[HOST],
        base_url=HOST,
        headers={"Authorization": f"Bearer {mb.DEMO_TOKEN}"},
    )


def _get(world: World, path: str) -> Any:
    with _moneybird(world) as client:
        response = client.get(f"/api/v2/{ADMIN}/{path}")
        assert response.status_code == 200, response.text
        return response.json()


def _invoices(world: World) -> list[dict[str, Any]]:
    """Every sales invoice, drafts included, as Moneybird's API lists them."""
    return list(_get(world, "sales_invoices.json?filter=state:all,period:20260101..20261231"))


def _change_rate(world: World, rate_id: str, **body: Any) -> None:
    with _moneybird(world) as client:
        response = client.patch(f"/_sandbox/{ADMIN}/tax_rates/{rate_id}", json=body)
        assert response.status_code == 200, response.text


def _add_order(world: World, number: str, vat: int, paid: str, *, incl: bool) -> str:
    """A paid, completed order of one row at ``vat``% that cost ``paid`` in all; the row is
    written in the order's price mode. Returns the CCV order id."""
    net = {"10.90": "10.00", "121.00": "100.00"}[paid]
    document = order_document(
        [row("Bonen", 1, paid if incl else net, vat)], paid=paid, incl=incl, number=number
    )
    return str(world.sandboxes.shop.add_order(document))


MODES = {"incl": True, "excl": False}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_rate_deactivated_after_connecting_pauses_before_anything_is_booked(
    new_world: NewWorld, mode: str
) -> None:
    incl = MODES[mode]
    world = new_world(orders=0)
    order_id = _add_order(world, "2001", 9, "10.90", incl=incl)
    _change_rate(world, mb.TAX_RATE_9, active=False)  # a person switches it off in Moneybird

    world.import_all()

    reason = world.store.connection(world.connection_id).paused_reason
    assert reason.startswith("The profile does not match the Moneybird administration:")
    assert f'tax_rates.domestic."9": Moneybird tax rate {mb.TAX_RATE_9}' in reason
    assert "is not active" in reason
    assert world.outcomes["paused"] == 1
    assert _invoices(world) == []  # nothing created in Moneybird: no invoice,
    assert _get(world, "contacts.json") == []  # not even the contact
    assert world.moneybird_writes() == 0

    # Switched on again, the same profile fits; importing it resumes and the order is booked.
    _change_rate(world, mb.TAX_RATE_9, active=True)
    text = world.store.profile_toml(world.connection_id)
    bootstrap.check_profile_fits(world.app, world.connection_id, text, source="profile")
    assert bootstrap.resume_after_profile_fix(world.app, world.connection_id)
    world.import_all()
    (invoice,) = _invoices(world)
    assert (invoice["reference"], invoice["state"]) == ("2001", "paid")
    assert world.store.record(world.connection_id, order_id).state is SyncState.BOOKED


@pytest.mark.parametrize("mode", sorted(MODES))
def test_figures_moneybird_computes_differently_are_not_sent_or_paid(
    new_world: NewWorld, mode: str
) -> None:
    incl = MODES[mode]
    world = new_world(orders=0)
    cid = world.connection_id
    first = _add_order(world, "2001", 21, "121.00", incl=incl)
    second = _add_order(world, "2002", 9, "10.90", incl=incl)
    engine = world.app.engine_for(cid)
    engine.begin_pass(cid)
    assert engine.sync_order(cid, first, trigger=Trigger.IMPORT).outcome is Outcome.BOOKED
    # Between ccvbird's check and the create, the 9% rate becomes 21% in Moneybird.
    _change_rate(world, mb.TAX_RATE_9, percentage="21")

    result = engine.sync_order(cid, second, trigger=Trigger.IMPORT)

    assert result.outcome is Outcome.PARKED
    record = world.store.record(cid, second)
    assert (record.state, record.reason_code) == (
        SyncState.NEEDS_ATTENTION,
        "moneybird_figures_differ",
    )
    vat = "1.89" if incl else "2.10"  # what 21% makes of the 9% line
    predicted_vat = "0.90"
    predicted_total = "10.90"
    moneybird_total = "10.90" if incl else "12.10"
    assert (
        f"total incl. VAT: ccvbird predicted {predicted_total}, Moneybird computed "
        f"{moneybird_total}"
    ) in record.reason
    assert (
        f"VAT on tax rate {mb.TAX_RATE_9} (9% in the profile): ccvbird predicted "
        f"{predicted_vat}, Moneybird computed {vat}"
    ) in record.reason
    assert "The draft was deleted; nothing was sent or paid." in record.reason
    assert record.invoice_id is None
    # Through Moneybird's API: only the first order's invoice, paid; the draft is gone.
    invoices = _invoices(world)
    assert [(i["reference"], i["state"]) for i in invoices] == [("2001", "paid")]

    # The rate is put right; a retry books the order, once.
    _change_rate(world, mb.TAX_RATE_9, percentage="9")
    retried = engine.sync_order(cid, second, trigger=Trigger.RETRY)
    assert retried.outcome is Outcome.BOOKED
    again = engine.sync_order(cid, second, trigger=Trigger.RETRY)
    assert again.outcome is Outcome.ALREADY_BOOKED
    invoices = _invoices(world)
    assert sorted((i["reference"], i["state"]) for i in invoices) == [
        ("2001", "paid"),
        ("2002", "paid"),
    ]
    (booked,) = [i for i in invoices if i["reference"] == "2002"]
    assert booked["total_price_incl_tax"] == "10.9"
    assert [(t["tax_rate_id"], t["tax_amount"]) for t in booked["tax_totals"]] == [
        (mb.TAX_RATE_9, "0.9")
    ]
    assert len(booked["payments"]) == 1


def test_an_invoice_found_in_moneybird_with_other_figures_is_not_finished(
    new_world: NewWorld,
) -> None:
    world = new_world(orders=0)
    store, cid = world.store, world.connection_id
    store.set_profile(
        cid,
        store.profile_toml(cid).replace(
            'existing_invoices = "adopt_paid"', 'existing_invoices = "complete"', 1
        ),
    )
    document = order_document([row("Bonen", 1, "10.90", 9)], paid="10.90", number="2001")
    order_id = str(world.sandboxes.shop.add_order(document))
    # Another connector booked it as a draft, with the 9% line on the 21% rate.
    wrong = parse_profile(
        example_profile_text().replace(f'"9" = "{mb.TAX_RATE_9}"', f'"9" = "{mb.TAX_RATE_21}"', 1)
    )
    order = parse_order(document["order"] | {"id": int(order_id)}, document["orderrows"])
    result = map_order(order, wrong)
    books = world.app.books_for(cid)
    contact = books.create_contact(result.contact)
    theirs = books.create_invoice(result.draft, contact_id=contact.id, external=False)

    world.import_all()

    record = store.record(cid, order_id)
    assert (record.state, record.reason_code) == (
        SyncState.NEEDS_ATTENTION,
        "moneybird_figures_differ",
    )
    assert f"Invoice {theirs.id} (reference 2001) is left in Moneybird" in record.reason
    assert "Moneybird computed 1.89" in record.reason
    (invoice,) = _invoices(world)
    assert (invoice["id"], invoice["state"], invoice["payments"]) == (theirs.id, "draft", [])
