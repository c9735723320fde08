"""The whole journey in Chromium, against both sandboxes on localhost:

App Store install → handshake → wizard → Moneybird OAuth consent → profile → history import →
an order paid in the CCV sandbox shows as booked on the dashboard seconds after its webhook.
Every page is photographed in Dutch and in English (artifacts/screenshots/<language>/).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from ccvbird.sandbox.moneybird import constants as mb
from tests.browser.conftest import ARTIFACTS, Stack

PASSWORD = "a long operator password"
WAIT = 30_000  # ms: the longest a step may take before the test fails


def shoot(page: Page, language: str, name: str) -> None:
    target = ARTIFACTS / language / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)


def switch(page: Page, language: str) -> None:
    label = {"nl": "Nederlands", "en": "English"}[language]
    page.get_by_role("button", name=label, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def both(page: Page, name: str) -> None:
    """Photograph the current page in English and Dutch, ending in Dutch."""
    switch(page, "en")
    shoot(page, "en", name)
    switch(page, "nl")
    shoot(page, "nl", name)


def test_install_connect_import_and_book_in_a_real_browser(stack: Stack, browser: Any) -> None:
    operator = browser.new_context(locale="nl-NL").new_page()
    operator.goto(stack.web_url)
    expect(operator).to_have_url(re.compile(r"/first-start$"))
    both(operator, "first-start")
    operator.get_by_label("E-mailadres").fill("operator@example.nl")
    operator.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    operator.get_by_label("Wachtwoord nogmaals").fill(PASSWORD)
    operator.get_by_role("button", name="Account aanmaken").click()
    expect(operator.locator("h1")).to_have_text("Koppelingen")

    # -- the merchant installs the app from the CCV App Store -----------------------------
    merchant = browser.new_context(locale="nl-NL").new_page()
    merchant.goto(f"{stack.ccv_url}/_sandbox/apps/{stack.app_id}/install")
    expect(merchant).to_have_url(re.compile(r"/ccv/account$"))
    both(merchant, "install-account")
    merchant.get_by_label("E-mailadres").fill("eigenaar@koffie.example")
    merchant.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    merchant.get_by_label("Wachtwoord nogmaals").fill(PASSWORD)
    merchant.get_by_role("button", name="Account aanmaken en verder").click()
    expect(merchant).to_have_url(re.compile(r"/connections/\d+/setup$"))
    connection = merchant.url.rsplit("/", 2)[-2]
    base = f"{stack.web_url}/connections/{connection}"
    both(merchant, "setup")

    # -- Moneybird: OAuth consent at the Moneybird sandbox ----------------------------------
    merchant.get_by_role("link", name="Moneybird koppelen").click()
    both(merchant, "moneybird")
    merchant.get_by_role("button", name="Moneybird koppelen").click()
    expect(merchant).to_have_url(re.compile(re.escape(stack.moneybird_url) + r"/oauth/authorize"))
    shoot(merchant, "nl", "moneybird-consent")
    merchant.get_by_label("Wachtwoord").fill(mb.USER_PASSWORD)
    merchant.get_by_role("button", name="Toegang verlenen").click()
    expect(merchant).to_have_url(re.compile(r"/moneybird/administration$"))
    both(merchant, "administration")
    merchant.get_by_role("button", name="Deze administratie gebruiken").click()

    # -- the profile, suggested from the administration --------------------------------------
    expect(merchant).to_have_url(re.compile(r"/profile$"))
    expect(merchant.locator("select[name=tax_21]")).to_have_value(mb.TAX_RATE_21)
    both(merchant, "profile")
    merchant.get_by_label("De winkel rekent EU-consumenten").uncheck()  # no OSS in this shop
    merchant.get_by_role("button", name="Profiel opslaan").click()
    expect(merchant).to_have_url(re.compile(r"/setup$"))
    merchant.get_by_role("button", name="Installatie afronden").click()
    expect(merchant).to_have_url(
        re.compile(re.escape(stack.ccv_url) + r"/_sandbox/apps/\d+/installed")
    )
    expect(merchant.locator("body")).to_contain_text("The app is installed")

    # -- the dashboard and a history import --------------------------------------------------
    merchant.goto(base)
    both(merchant, "dashboard")
    merchant.get_by_label("Boek de bestellingen sinds").fill("2025-01-01")
    merchant.get_by_role("button", name="Importeren", exact=True).click()
    expect(merchant.locator("#import-status")).to_contain_text("Klaar:", timeout=WAIT)
    both(merchant, "import")

    # -- an order paid in the shop is booked seconds after its webhook ------------------------
    with httpx.Client(base_url=stack.ccv_url) as shop:
        created = shop.post("/_sandbox/orders", json={"status": 7, "paid": False,
                                                      "scenario": "consumer"}).json()  # fmt: skip
        order_id = created["id"]
        merchant.goto(f"{base}/orders/{order_id}")
        expect(merchant.locator("#order-state")).to_have_text("Wacht", timeout=WAIT)
        shop.post(f"/_sandbox/orders/{order_id}/paid", json={"paid": True})
    expect(merchant.locator("#order-state")).to_have_text("Geboekt", timeout=WAIT)
    expect(merchant.get_by_role("link", name=re.compile(r"\d{4}-\d+"))).to_be_visible()
    both(merchant, "order")

    merchant.goto(f"{base}/orders")
    expect(merchant.locator(f"tr[data-order='{created['ordernumber']}'] .state")).to_have_text(
        "Geboekt"
    )
    both(merchant, "orders")

    # The operator sees the connection among all connections.
    operator.goto(f"{stack.web_url}/connections")
    expect(operator.get_by_role("link", name=stack.shop.name)).to_be_visible()
    both(operator, "connections")
    operator.goto(f"{stack.web_url}/connections/new")
    both(operator, "connection-new")
    operator.get_by_role("button", name="Uitloggen").click()
    expect(operator).to_have_url(re.compile(r"/login$"))
    both(operator, "login")
