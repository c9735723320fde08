"""The profile page: filled from the administration, suggestions selected, validation that says
what to fix, a preview, and TOML the engine reads."""

from __future__ import annotations

import re

from sqlalchemy import update

from ccvbird.adapters.db.tables import ConnectionRow, ProfileRow
from ccvbird.sandbox.moneybird import constants as mb
from tests.web.conftest import (
    World,
    connect_moneybird,
    first_start,
    install,
    save_profile,
    second_shop,
    set_up,
    set_up_shop,
    sign_in,
)
from tests.web.forms import form_fields


def ready(world: World) -> int:
    first_start(world)
    connection_id = install(world)
    connect_moneybird(world, connection_id)
    return connection_id


def test_dropdowns_come_from_the_administration_with_suggestions_selected(world: World) -> None:
    connection_id = ready(world)
    page = world.client.get(f"/connections/{connection_id}/profile").text
    fields = form_fields(page, f"/connections/{connection_id}/profile")
    assert fields["tax_21"] == mb.TAX_RATE_21
    assert fields["tax_9"] == mb.TAX_RATE_9
    assert fields["ledger_revenue"] == mb.LEDGER_REVENUE
    assert fields["payment_default"] == mb.FINANCIAL_ACCOUNT_BANK
    assert fields["existing_invoices"] == "adopt_paid"  # never finish someone else's unasked
    assert "Omzet verzendkosten" in page and "Betaalrekening" in page
    # The shop's own status names, cancelled never offered.
    assert "Afgerond" in page and 'value="8"' not in page


def test_validation_says_what_to_fix(world: World) -> None:
    connection_id = ready(world)
    response = save_profile(
        world, connection_id, tax_21="", tolerance="twee cent",
        ledger_revenue="470000000000099999", trigger_statuses=None,
    )  # fmt: skip
    assert response.status_code == 422
    text = response.text
    assert "Kies het Moneybird-btw-tarief voor dit btw-percentage." in text
    assert "Vul een bedrag van 0 tot 1 in, zoals 0.02." in text
    assert "Kies een van de getoonde mogelijkheden." in text
    assert "Vink minstens één status aan" in text
    assert world.app.store.profile_toml(connection_id)  # the suggestion is still stored


def test_saving_stores_a_profile_the_engine_reads(world: World) -> None:
    connection_id = ready(world)
    response = save_profile(
        world, connection_id, tolerance="0.05", trigger_statuses=["5", "7"],
        kind="external_sales_invoice", start_date="2026-01-01", oss=None,
        existing_invoices="complete",
    )  # fmt: skip
    assert response.status_code == 303
    profile = world.app.store.connection(connection_id).profile
    assert profile.existing_invoices.value == "complete"
    assert str(profile.rounding_tolerance) == "0.05"
    assert profile.trigger_statuses == frozenset({5, 7})
    assert profile.invoice_kind.value == "external_sales_invoice"
    assert world.app.store.connection(connection_id).start_date.isoformat() == "2026-01-01"  # type: ignore[union-attr]
    # Keys the form does not show are kept (the suggestion's OSS tables).
    assert "[tax_rates.oss.DE]" in world.app.store.profile_toml(connection_id)


def test_preview_shows_the_invoice_an_order_would_become(world: World) -> None:
    connection_id = ready(world)
    order_id = world.shop.create_order(scenario="consumer")
    page = f"/connections/{connection_id}/profile"
    fields = form_fields(world.client.get(page).text, page)
    fields.pop("oss", None)
    fields.update(action="preview", order=str(order_id))
    response = world.client.post(page, data=fields)
    assert response.status_code == 200, response.text[-2000:]
    assert 'id="preview"' in response.text
    number = world.shop.order(order_id)["ordernumber"]  # type: ignore[index]
    assert re.search(rf"Bestelling {number}\S* zou deze factuur worden", response.text)
    assert "Totaal" in response.text
    # Nothing was saved or booked.
    assert world.moneybird.invoices() == []
    unknown = world.client.post(page, data={**fields, "order": "abc"})
    assert unknown.status_code == 422 and "ccvbird kent bestelnummer abc nog niet" in unknown.text


def test_a_second_shop_in_the_same_administration_gets_a_prefix_and_cannot_drop_it(
    world: World,
) -> None:
    first_start(world)
    first_id = set_up(world)
    shop2, app2 = second_shop(world)
    world.shop, world.app_id = shop2, app2  # the second merchant installs from their shop
    second_id = install(world, "owner@thee.example")
    connect_moneybird(world, second_id)  # the same sandbox administration
    page = f"/connections/{second_id}/profile"
    fields = form_fields(world.client.get(page).text, page)
    assert fields["reference_prefix"] == "B-"  # drafted by the wizard
    assert "Voorvoegsel van de factuurreferentie" in world.client.get(page).text

    for refused in ("", " "):
        response = save_profile(world, second_id, oss=None, reference_prefix=refused)
        assert response.status_code == 422, refused
        assert "Een andere koppeling boekt in deze Moneybird-administratie" in response.text
        assert "bijvoorbeeld B-" in response.text
    response = save_profile(world, second_id, oss=None, reference_prefix="B|")
    assert response.status_code == 422
    assert "Gebruik hoogstens 12 letters en cijfers" in response.text
    assert world.app.store.connection(second_id).profile.reference_prefix == "B-"

    response = save_profile(world, second_id, oss=None, reference_prefix="TZ-")
    assert response.status_code == 303, response.text
    assert world.app.store.connection(second_id).profile.reference_prefix == "TZ-"
    # The first connection keeps its bare order numbers.
    assert world.app.store.connection(first_id).profile.reference_prefix == ""


def test_saving_a_prefix_of_its_own_resumes_a_connection_paused_for_a_clash(
    world: World,
) -> None:
    first_start(world)
    set_up(world)
    shop2, app2 = second_shop(world)
    second_id = set_up_shop(world, shop2, app2, "owner@thee.example")
    store = world.app.store
    # As made before prefixes existed: the same (no) prefix as the first connection.
    bare = store.profile_toml(second_id).replace('reference_prefix = "B-"\n', "")
    with world.app.sessions() as session, session.begin():
        profile_id = session.get(ConnectionRow, second_id).profile_id
        session.execute(update(ProfileRow).where(ProfileRow.id == profile_id).values(toml=bare))
    order_id = shop2.create_order(scenario="consumer")
    synced = world.app.engine_for(second_id).sync_order(second_id, str(order_id))
    assert synced.outcome.value == "paused"
    assert store.connection(second_id).paused_reason.startswith("The profile needs a reference")

    world.client.cookies.clear()
    sign_in(world, "owner@thee.example")
    response = save_profile(world, second_id, oss=None, reference_prefix="TZ-")
    assert response.status_code == 303, response.text
    assert store.connection(second_id).paused_reason == ""


# -- the profile must fit the administration --------------------------------------------------


def test_a_9_percent_key_on_the_21_percent_rate_is_refused_naming_both_percentages(
    world: World,
) -> None:
    connection_id = ready(world)
    before = world.app.store.profile_toml(connection_id)
    response = save_profile(world, connection_id, tax_9=mb.TAX_RATE_21)
    assert response.status_code == 422
    text = " ".join(response.text.replace("&#34;", '"').replace("&quot;", '"').split())
    assert "Past niet bij Moneybird:" in text
    assert (
        f'tax_rates.domestic."9" is 9% VAT, but it is mapped to Moneybird tax rate '
        f'{mb.TAX_RATE_21} "21% btw" of 21%'
    ) in text
    assert world.app.store.profile_toml(connection_id) == before


def _stored_with(world: World, connection_id: int, old: str, new: str) -> None:
    stored = world.app.store.profile_toml(connection_id)
    assert old in stored, stored
    world.app.store.set_profile(connection_id, stored.replace(old, new, 1))


def test_keys_the_form_does_not_show_are_checked_too(world: World) -> None:
    connection_id = ready(world)
    # OSS tables are kept from the stored profile: a Dutch rate under BE, a purchase rate.
    _stored_with(
        world, connection_id, f'"21" = "{mb.TAX_RATE_OSS_BE_21}"', f'"21" = "{mb.TAX_RATE_21}"'
    )
    _stored_with(
        world,
        connection_id,
        f'"19" = "{mb.TAX_RATE_OSS_DE_19}"',
        f'"19" = "{mb.TAX_RATE_PURCHASE_21}"',
    )
    response = save_profile(world, connection_id)
    assert response.status_code == 422
    text = " ".join(response.text.replace("&#34;", '"').replace("&quot;", '"').split())
    assert 'tax_rates.oss.BE."21" is VAT of BE' in text
    assert "a Dutch rate (no country)" in text
    assert 'tax_rates.oss.DE."19"' in text and "purchase invoice rate" in text


def test_an_inactive_or_missing_account_is_refused(world: World) -> None:
    connection_id = ready(world)
    stored = world.app.store.profile_toml(connection_id)
    world.app.store.set_profile(
        connection_id,
        stored.replace(
            "[ledger_accounts.revenue_by_rate]\n",
            '[ledger_accounts.revenue_by_rate]\n"21" = "470000000000029999"\n',
        )
        + '\n[payment_accounts.methods]\nMollieIdeal = "470000000000050002"\n',
    )
    account = world.moneybird.books().setup.financial_account(mb.FINANCIAL_ACCOUNT_MOLLIE)
    assert account is not None
    account.active = False
    response = save_profile(world, connection_id)
    assert response.status_code == 422, response.text[-3000:]
    text = " ".join(response.text.replace("&#34;", '"').replace("&quot;", '"').split())
    assert (
        'payment_accounts.methods."MollieIdeal": Moneybird has no active financial account '
        f"{mb.FINANCIAL_ACCOUNT_MOLLIE}"
    ) in text
    assert 'ledger_accounts.revenue_by_rate."21": Moneybird has no ledger account' in text


def _between(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_the_choices_that_need_the_owner_come_first_and_the_rest_is_advanced(
    world: World,
) -> None:
    connection_id = ready(world)
    page = world.client.get(f"/connections/{connection_id}/profile").text
    advanced = _between(page, '<details class="advanced"', "</details>")
    first = page[: page.index('<details class="advanced"')]
    # Statuses, payment and the VAT mapping: in front of the owner.
    for name in ("trigger_statuses", "require_paid", "tax_21", "tax_9", "tax_0", "tax_platform"):
        assert f'name="{name}"' in first, name
    # What has a good default: in the collapsed Advanced section.
    for name in ("ledger_revenue", "workflow", "document_style", "tolerance", "reference_prefix"):
        assert f'name="{name}"' in advanced and f'name="{name}"' not in first, name
    assert '<details class="advanced" id="advanced" >' in page  # collapsed


def test_a_rate_left_empty_that_parks_orders_never_looks_like_a_default(world: World) -> None:
    connection_id = ready(world)
    page = world.client.get(f"/connections/{connection_id}/profile").text
    for name in ("tax_platform", "tax_reverse_charge", "tax_export"):
        select = _between(page, f'<select name="{name}"', "</select>")
        empty = re.search(r'<option value="">([^<]*)</option>', select)
        assert empty and "wachten op jou" in empty.group(1), name
        assert "standaard van Moneybird" not in select, name
    # The workflow's empty choice is Moneybird's default indeed: nothing parks.
    assert "standaard van Moneybird" in _between(page, '<select name="workflow"', "</select>")


def test_a_problem_in_an_advanced_field_opens_the_section(world: World) -> None:
    connection_id = ready(world)
    response = save_profile(world, connection_id, tolerance="twee cent")
    assert response.status_code == 422
    assert '<details class="advanced" id="advanced" open>' in response.text


def test_the_preview_appears_next_to_its_button(world: World) -> None:
    connection_id = ready(world)
    order_id = world.shop.create_order(scenario="consumer", status=7, paid=True)
    page = f"/connections/{connection_id}/profile"
    fields = form_fields(world.client.get(page).text, page)
    fields.update(action="preview", order=str(order_id))
    text = world.client.post(page, data=fields).text
    fieldset = text[text.rindex("<fieldset", 0, text.index('value="preview"')) :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    assert 'id="preview"' in fieldset  # in the same box as the button, not below the form


def test_preview_errors_are_in_the_owners_language(world: World) -> None:
    connection_id = ready(world)
    page = f"/connections/{connection_id}/profile"
    for order, dutch in (
        ("", "Vul een bestelnummer of een CCV-bestel-id in."),
        ("B-77", "ccvbird kent bestelnummer B-77 nog niet"),
        ("999999999", "CCV Shop heeft geen bestelling 999999999."),
    ):
        fields = form_fields(world.client.get(page).text, page)
        fields.update(action="preview", order=order)
        response = world.client.post(page, data=fields)
        assert response.status_code == 422, order
        assert dutch in response.text, order
        assert "fill in an order number" not in response.text
        assert "404.10" not in response.text and "not found" not in response.text
