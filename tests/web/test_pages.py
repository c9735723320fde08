"""Every page renders, in Dutch (the default) and in English, with nothing left untranslated."""

from __future__ import annotations

import re

import pytest

from ccvbird.entrypoints.web import catalog
from ccvbird.entrypoints.web.i18n import translations
from tests.web.conftest import World, first_start, set_up


def test_every_string_has_its_dutch() -> None:
    assert catalog.untranslated() == []


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _untranslated_in(html: str) -> list[str]:
    """English msgids (of three words or more) that appear on a page meant to be Dutch."""
    dutch = translations("nl")
    text = _text(html)
    return [
        m.id for m in catalog.extracted()
        if isinstance(m.id, str) and "%" not in m.id and len(m.id.split()) >= 3
        and dutch.gettext(m.id) != m.id and m.id in text
    ]  # fmt: skip


def pages_of(world: World, connection_id: int) -> list[str]:
    order_id = world.app.store.records(connection_id)[0].order_id
    base = f"/connections/{connection_id}"
    return [
        "/connections", "/connections/new", base, f"{base}/setup", f"{base}/moneybird",
        f"{base}/moneybird/administration", f"{base}/profile", f"{base}/orders",
        f"{base}/orders/{order_id}", f"{base}/import", f"{base}/uninstall",
    ]  # fmt: skip


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_page_renders_in_both_languages(world: World, language: str) -> None:
    first_start(world)
    connection_id = set_up(world)
    world.shop.set_paid(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.drain()
    world.client.cookies.clear()
    from tests.web.conftest import sign_in

    sign_in(world, "operator@example.nl")
    if language == "en":
        world.post_form("/connections", "/language", language="en")
    for path in pages_of(world, connection_id):
        response = world.client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{language}">' in response.text, path
        if language == "nl":
            assert _untranslated_in(response.text) == [], path
        else:
            assert "Sign out" in response.text, path
