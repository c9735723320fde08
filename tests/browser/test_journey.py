"""The whole journey in Chromium, against both sandboxes on localhost:

App Store install → handshake → the install link signs the owner in → Connect Moneybird →
Moneybird OAuth consent → (profile) → finish → the dashboard with the history import → an order
paid in the CCV sandbox shows as booked on the dashboard seconds after its webhook → that order,
cancelled with the CCV sandbox's merchant endpoint, is credited with the order page's
*Crediteren* button, and its credit is shown in Dutch and English. Every page is photographed in
Dutch and in English (artifacts/screenshots/<language>/).

The shortest install is counted click by click, in Dutch and in English: at most 5 from
*Installeren* (that click counts as 1) to a connection that books, with the history import.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
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


#: What the shortest install clicks, per language (Moneybird's consent page is Dutch in the
#: sandbox, as it is for a Dutch Moneybird user).
WORDS = {
    "nl": {"connect": "Moneybird koppelen", "check": "Profiel controleren",
           "finish": "Installatie afronden", "import": "Importeren", "done": "Klaar:"},
    "en": {"connect": "Connect Moneybird", "check": "Check the profile",
           "finish": "Finish setup", "import": "Import", "done": "Finished:"},
}  # fmt: skip


class Clicks:
    """Counts what the owner clicks. Typing in a field is no click; the test's own language
    switches for the screenshots are not the owner's and are not counted."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def install(self, url: str) -> None:
        """*Installeren* in the App Store: CCV's button leads the browser to this address."""
        self.count += 1
        self.page.goto(url)

    def click(self, target: Any) -> None:
        self.count += 1
        target.click()


def start_as_operator(browser: Any, stack: Stack, photograph: bool = False) -> Page:
    """Whoever runs ccvbird made the operator account before any shop installs it."""
    operator = browser.new_context(locale="nl-NL").new_page()
    operator.goto(stack.web_url)
    expect(operator).to_have_url(re.compile(r"/first-start$"))
    if photograph:
        both(operator, "first-start")
    operator.get_by_label("E-mailadres").fill("operator@example.nl")
    operator.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    operator.get_by_label("Wachtwoord nogmaals").fill(PASSWORD)
    operator.get_by_role("button", name="Account aanmaken").click()
    expect(operator.locator("h1")).to_have_text("Koppelingen")
    return operator


def approve_at_moneybird(page: Page, clicks: Clicks, stack: Stack) -> None:
    expect(page).to_have_url(re.compile(re.escape(stack.moneybird_url) + r"/oauth/authorize"))
    page.get_by_label("Wachtwoord").fill(mb.USER_PASSWORD)  # typing, not a click
    clicks.click(page.get_by_role("button", name="Toegang verlenen"))


def reload_until(page: Page, target: Any, timeout_ms: int = WAIT) -> None:
    """Reload ``page`` until ``target`` shows: a page with nothing under way does not reload
    itself, and the worker changes the order at a moment of its own. Each round waits for
    the element (no sleeping); the whole is bounded by ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    rounds = max(timeout_ms // 500, 1)
    for _ in range(rounds):
        try:
            target.wait_for(state="visible", timeout=500)
            return
        except PlaywrightTimeout:
            page.reload()
    expect(target).to_be_visible(timeout=1)


def first_order_day(stack: Stack) -> str:
    """The day of the shop's first order, as the sandbox shop holds it."""
    return min(str(o["create_date"])[:10] for o in stack.shop.orders())


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_shortest_install_takes_at_most_5_clicks(
    stack: Stack, browser: Any, language: str
) -> None:
    start_as_operator(browser, stack)
    words = WORDS[language]
    merchant = browser.new_context(locale=f"{language}-NL").new_page()
    clicks = Clicks(merchant)
    clicks.install(f"{stack.ccv_url}/_sandbox/apps/{stack.app_id}/install?language={language}")
    # The install link signed the owner in: no account to make, no password to invent.
    expect(merchant).to_have_url(re.compile(r"/connections/\d+/setup$"))
    expect(merchant.locator("html")).to_have_attribute("lang", language)
    expect(merchant.get_by_role("button", name=words["connect"])).to_have_count(1)
    clicks.click(merchant.get_by_role("button", name=words["connect"]))
    approve_at_moneybird(merchant, clicks, stack)
    # The administration picked there is used: back on the setup page, ready to finish.
    expect(merchant).to_have_url(re.compile(r"/connections/\d+/setup$"))
    expect(merchant.get_by_role("link", name=words["check"])).to_be_visible()  # offered
    clicks.click(merchant.get_by_role("button", name=words["finish"]))
    expect(merchant).to_have_url(re.compile(r"/connections/\d+$"))  # the dashboard
    connection_id = int(merchant.url.rsplit("/", 1)[-1])
    assert stack.app.store.connection(connection_id).paused_reason == ""
    working = clicks.count
    since = merchant.get_by_label(re.compile("Boek de bestellingen sinds|Book the orders since"))
    expect(since).to_have_value(first_order_day(stack))  # the shop's first order
    clicks.click(merchant.get_by_role("button", name=words["import"], exact=True))
    expect(merchant.locator("#import-status")).to_contain_text(words["done"], timeout=WAIT)
    assert working == 4, f"{working} clicks to a working connection"
    assert clicks.count <= 5, f"{clicks.count} clicks for the shortest install with the import"
    assert stack.app.store.records(connection_id)  # the history was imported


def test_install_connect_import_and_book_in_a_real_browser(stack: Stack, browser: Any) -> None:
    operator = start_as_operator(browser, stack, photograph=True)

    # -- the merchant installs the app from the CCV App Store: the link signs them in -------
    merchant = browser.new_context(locale="nl-NL").new_page()
    clicks = Clicks(merchant)
    clicks.install(f"{stack.ccv_url}/_sandbox/apps/{stack.app_id}/install")
    expect(merchant).to_have_url(re.compile(r"/connections/\d+/setup$"))
    connection = merchant.url.rsplit("/", 2)[-2]
    base = f"{stack.web_url}/connections/{connection}"
    both(merchant, "setup")

    # -- Moneybird: OAuth consent at the Moneybird sandbox ----------------------------------
    clicks.click(merchant.get_by_role("button", name="Moneybird koppelen"))
    shoot(merchant, "nl", "moneybird-consent")
    approve_at_moneybird(merchant, clicks, stack)
    expect(merchant).to_have_url(re.compile(r"/setup$"))
    both(merchant, "setup-ready")

    # -- the profile, drafted from the administration: checked here, though not required ----
    clicks.click(merchant.get_by_role("link", name="Profiel controleren"))
    expect(merchant.locator("select[name=tax_21]")).to_have_value(mb.TAX_RATE_21)
    both(merchant, "profile")
    clicks.click(merchant.get_by_role("button", name="Profiel opslaan"))
    expect(merchant).to_have_url(re.compile(r"/setup$"))
    clicks.click(merchant.get_by_role("button", name="Installatie afronden"))
    expect(merchant).to_have_url(re.compile(re.escape(base) + "$"))
    assert stack.shop.app(stack.app_id).installed

    # -- the dashboard and a history import --------------------------------------------------
    both(merchant, "dashboard")
    merchant.get_by_label("Boek de bestellingen sinds").fill("2025-01-01")
    clicks.click(merchant.get_by_role("button", name="Importeren", exact=True))
    expect(merchant.locator("#import-status")).to_contain_text("Klaar:", timeout=WAIT)
    both(merchant, "import")
    assert clicks.count == 7  # the shortest install plus checking the profile (2 clicks)

    # -- the Moneybird page: connected, with a way to disconnect ------------------------------
    merchant.goto(f"{base}/moneybird")
    both(merchant, "moneybird")

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

    # -- cancelled in the shop after booking: the owner presses Crediteren ------------------
    with httpx.Client(base_url=stack.ccv_url) as shop:
        assert shop.post(f"/_sandbox/orders/{order_id}/cancel").status_code == 200
    merchant.goto(f"{base}/orders/{order_id}")
    credit_it = merchant.get_by_role("button", name="Crediteren")
    reload_until(merchant, credit_it)  # the cancellation's webhook, booked by the worker
    expect(merchant.locator("#order-state")).to_have_text("Vraagt aandacht")
    both(merchant, "order-cancelled")
    credit_it.click()
    expect(merchant.locator(".flash")).to_contain_text(
        f"Gecrediteerd: creditfactuur {created['ordernumber']}-C1"
    )
    (credit,) = [i for i in stack.moneybird.invoices() if i.original_sales_invoice_id]
    assert credit.reference == f"{created['ordernumber']}-C1" and credit.state == "paid"
    row = merchant.locator(f"tr[data-credit='{credit.reference}']")
    expect(row).to_contain_text("Terugbetaling geregistreerd")
    expect(row.get_by_role("link", name=credit.reference)).to_have_attribute(
        "href", re.compile(rf"/sales_invoices/{credit.id}$")
    )
    expect(merchant.get_by_role("button", name="Crediteren")).to_have_count(0)
    shoot(merchant, "nl", "order-credited")
    switch(merchant, "en")
    expect(row).to_contain_text("Refund registered as paid back")
    expect(merchant.get_by_role("heading", name="Invoice and credits")).to_be_visible()
    shoot(merchant, "en", "order-credited")
    switch(merchant, "nl")
    expect(merchant.get_by_role("heading", name="Factuur en crediteringen")).to_be_visible()

    merchant.goto(f"{base}/uninstall")
    both(merchant, "uninstall")

    # The operator sees the connection among all connections.
    operator.goto(f"{stack.web_url}/connections")
    expect(operator.get_by_role("link", name=stack.shop.name)).to_be_visible()
    both(operator, "connections")
    operator.goto(f"{stack.web_url}/connections/new")
    both(operator, "connection-new")
    operator.get_by_role("button", name="Uitloggen").click()
    expect(operator).to_have_url(re.compile(r"/login$"))
    both(operator, "login")
