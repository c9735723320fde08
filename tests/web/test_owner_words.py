"""Owner-facing pages speak the owner's words: no "webhooks", in Dutch or in English.

Every owner page of a set-up connection is read in both languages.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import World, first_start, set_up

OWNER_PAGES = ["", "/setup", "/moneybird", "/profile", "/orders", "/uninstall", "/import"]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_owner_page_says_webhook(world: World, language: str) -> None:
    first_start(world)
    connection_id = set_up(world)
    base = f"/connections/{connection_id}"
    world.post_form(base, "/language", language=language)
    for path in OWNER_PAGES:
        page = world.client.get(base + path)
        assert page.status_code == 200, path
        assert f'lang="{language}"' in page.text
        assert "webhook" not in page.text.lower(), path
