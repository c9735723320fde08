"""Sessions end on the server, guessing slows down the guesser only, and sign-in links work
once and for a while.

Attacks, as an outsider would try them: replay a copied session cookie after signing out or
after a password change; fail sign-ins from one address and sign in as the owner from another;
use a mailed link twice, or after it expired.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.fakes import FixedClock
from tests.web.conftest import (
    PASSWORD,
    PUBLIC_URL,
    World,
    first_start,
    make_world,
    sign_in,
    sign_out,
)
from tests.web.forms import form_fields

OPERATOR = "operator@example.nl"


@dataclass
class Outbox:
    sent: list[tuple[list[str], str, str]] = field(default_factory=list)

    def send(self, to: list[str], subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def mail_world(tmp_path: Path, clock: FixedClock, outbox: Outbox) -> Iterator[World]:
    yield from make_world(tmp_path, mailer=outbox, clock=clock)


def _signed_in(client: TestClient) -> bool:
    response = client.get("/connections", follow_redirects=False)
    return response.status_code == 200


def _copy_of(world: World) -> TestClient:
    """Another browser holding a copy of this one's session cookie (a replay)."""
    other = TestClient(world.client.app, base_url=PUBLIC_URL)
    for cookie in world.client.cookies.jar:
        other.cookies.set(cookie.name, cookie.value or "")
    return other


def _change_password(client: TestClient, current: str, new: str) -> int:
    fields = form_fields(client.get("/account/password").text, "/account/password")
    fields.update(current=current, password=new, again=new)
    return client.post("/account/password", data=fields, follow_redirects=False).status_code


def test_a_copied_cookie_stops_working_once_its_session_signed_out(world: World) -> None:
    first_start(world)
    replay = _copy_of(world)
    assert _signed_in(replay)  # the copy works while the session lasts
    world.client.post("/logout", data={"csrf_token": world.csrf("/connections")})
    assert not _signed_in(world.client)
    assert not _signed_in(replay)


def test_a_password_change_ends_every_other_session_and_keeps_this_one(world: World) -> None:
    first_start(world)
    elsewhere = _copy_of(world)
    assert _change_password(world.client, "wrong current password", "a new long password") == 422
    assert _signed_in(elsewhere)  # a refused change ends nothing
    assert _change_password(world.client, PASSWORD, "a new long password") == 303
    assert _signed_in(world.client)
    assert not _signed_in(elsewhere)
    sign_out(world)
    assert sign_in(world, OPERATOR, PASSWORD).status_code == 401
    assert sign_in(world, OPERATOR, "a new long password").status_code == 303


def test_failed_sign_ins_elsewhere_do_not_lock_the_owner_out(world: World) -> None:
    first_start(world)
    sign_out(world)
    attacker = TestClient(world.client.app, base_url=PUBLIC_URL, client=("203.0.113.9", 40000))
    for _ in range(6):
        fields = form_fields(attacker.get("/login").text, "/login")
        fields.update(email=OPERATOR, password="a wrong guess")
        attacker.post("/login", data=fields, follow_redirects=False)
    fields = form_fields(attacker.get("/login").text, "/login")
    fields.update(email=OPERATOR, password=PASSWORD)
    # The guesser is slowed down, even with the right password...
    assert attacker.post("/login", data=fields, follow_redirects=False).status_code == 429
    # ...while the owner, from their own address, signs in at once.
    assert sign_in(world, OPERATOR, PASSWORD).status_code == 303


def test_one_address_guessing_many_accounts_is_slowed_down(world: World) -> None:
    first_start(world)
    sign_out(world)
    attacker = TestClient(world.client.app, base_url=PUBLIC_URL, client=("203.0.113.7", 40000))
    statuses = []
    for n in range(24):
        fields = form_fields(attacker.get("/login").text, "/login")
        fields.update(email=f"someone{n}@example.nl", password="a wrong guess")
        statuses.append(attacker.post("/login", data=fields, follow_redirects=False).status_code)
    assert statuses[:20] == [401] * 20
    assert 429 in statuses[20:]


def _ask_for_link(client: TestClient, email: str) -> str:
    fields = form_fields(client.get("/login").text, "/login/link")
    fields.update(email=email)
    response = client.post("/login/link", data=fields, follow_redirects=True)
    assert response.status_code == 200
    return response.text


def _link_in(outbox: Outbox) -> str:
    _to, _subject, body = outbox.sent[-1]
    found = re.search(r"https?://\S+/login/link/\S+", body)
    assert found, body
    return found.group(0).removeprefix(PUBLIC_URL)


def _use_link(client: TestClient, path: str) -> int:
    page = client.get(path)
    assert page.status_code == 200
    fields = form_fields(page.text, path)
    return client.post(path, data=fields, follow_redirects=False).status_code


def test_a_sign_in_link_signs_in_once(mail_world: World, outbox: Outbox) -> None:
    first_start(mail_world)
    sign_out(mail_world)
    text = _ask_for_link(mail_world.client, OPERATOR)
    assert "inloglink" in text
    assert [to for to, _s, _b in outbox.sent] == [[OPERATOR]]
    path = _link_in(outbox)
    assert not _signed_in(mail_world.client)  # opening the mail's link alone signs nobody in
    assert _use_link(mail_world.client, path) == 303
    assert _signed_in(mail_world.client)
    sign_out(mail_world)
    assert _use_link(mail_world.client, path) == 303  # back to the sign-in page...
    assert not _signed_in(mail_world.client)  # ...not signed in: the link was used


def test_a_sign_in_link_expires(mail_world: World, outbox: Outbox, clock: FixedClock) -> None:
    first_start(mail_world)
    sign_out(mail_world)
    _ask_for_link(mail_world.client, OPERATOR)
    path = _link_in(outbox)
    clock.current += timedelta(minutes=30)
    _use_link(mail_world.client, path)
    assert not _signed_in(mail_world.client)


def test_asking_a_link_for_an_unknown_address_tells_nothing(
    mail_world: World, outbox: Outbox
) -> None:
    first_start(mail_world)
    sign_out(mail_world)
    known = _ask_for_link(mail_world.client, OPERATOR)
    unknown = _ask_for_link(mail_world.client, "nobody@example.nl")
    assert len(outbox.sent) == 1
    assert known.replace(OPERATOR, "X") == unknown.replace("nobody@example.nl", "X")
