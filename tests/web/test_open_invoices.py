"""The dashboard of a shop that sells on account: orders booked with an open invoice have their
own tile and filter ("Geboekt, wacht op betaling"), fed by CCV's webhooks through the web app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccvbird.domain.sync import SyncState
from tests.web.conftest import World, first_start, save_profile, set_up

TODAY = datetime.now(UTC).date()


def test_open_invoices_have_a_tile_a_filter_and_words_until_they_are_paid(world: World) -> None:
    first_start(world)
    connection_id = set_up(world, start=TODAY - timedelta(days=400))
    assert save_profile(world, connection_id, require_paid=None, oss=None).status_code == 303
    assert not world.app.store.connection(connection_id).profile.require_paid
    world.drain()
    before = world.app.store.count_states(connection_id).get(SyncState.BOOKED, 0)
    on_credit = [
        world.shop.create_order(scenario="consumer", status=7, paid=False) for _ in range(2)
    ]
    world.drain()  # the webhooks came in through the web app

    base = f"/connections/{connection_id}"
    page = world.client.get(base).text
    assert 'data-state="awaiting_payment"><strong>2</strong> Geboekt, wacht op betaling' in page
    listed = world.client.get(f"{base}/orders?state=awaiting_payment").text
    records = world.app.store.records(connection_id, states=[SyncState.AWAITING_PAYMENT])
    assert sorted(r.order_id for r in records) == sorted(str(o) for o in on_credit)
    for record in records:
        assert f'data-order="{record.order_number}"' in listed
        assert "Geboekt, wacht op betaling" in listed
        order_page = world.client.get(f"{base}/orders/{record.order_id}").text
        assert "de betaling wordt geregistreerd zodra CCV Shop zegt" in order_page
    assert "awaiting_payment" in world.client.get(f"{base}/orders.csv").text

    world.shop.set_paid(on_credit[0])
    world.drain()
    page = world.client.get(base).text
    assert 'data-state="awaiting_payment"><strong>1</strong>' in page
    counts = world.app.store.count_states(connection_id)
    assert counts[SyncState.BOOKED] == before + 1
    paid = world.app.store.record(connection_id, str(on_credit[0]))
    assert paid.state is SyncState.BOOKED and paid.payment_date is not None
