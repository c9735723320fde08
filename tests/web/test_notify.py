"""E-mail notices over SMTP, against a real SMTP server on localhost (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ccvbird.domain.sync import SyncState
from ccvbird.wiring import mailer_for
from ccvbird.wiring.jobs import send_due_notices
from tests.web.conftest import World, first_start, make_world, set_up, settings_for


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its port by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailed_world(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[World]:
    _, port = smtp
    settings = settings_for(
        tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        mail_from="ccvbird@example.nl", notify_to="ops@example.nl", notify_parked_hours=0,
    )  # fmt: skip
    mailer = mailer_for(settings)
    yield from make_world(
        tmp_path, mailer=mailer, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        notify_to="ops@example.nl", notify_parked_hours=0,
    )  # fmt: skip


def test_a_paused_connection_is_mailed_once_to_operator_and_owner(
    mailed_world: World, smtp: tuple[Inbox, int]
) -> None:
    world, (inbox, _) = mailed_world, smtp
    first_start(world)
    connection_id = set_up(world, "owner@shop.example")
    backend = world.client.app.state.backend  # type: ignore[attr-defined]
    assert send_due_notices(backend) == 0
    world.app.store.pause(connection_id, "Moneybird refused the token — reconnect.")
    assert send_due_notices(backend) == 1
    ((recipients, message),) = inbox.messages
    assert sorted(recipients) == ["ops@example.nl", "owner@shop.example"]
    assert "paused" in message["Subject"]
    assert "Moneybird refused the token" in message.get_payload()  # type: ignore[operator]
    assert send_due_notices(backend) == 0  # once per pause


def test_a_pause_by_hand_sends_nothing(mailed_world: World, smtp: tuple[Inbox, int]) -> None:
    world, (inbox, _) = mailed_world, smtp
    first_start(world)
    connection_id = set_up(world)
    base = f"/connections/{connection_id}"
    world.post_form(base, f"{base}/pause")
    assert send_due_notices(world.client.app.state.backend) == 0  # type: ignore[attr-defined]
    assert inbox.messages == []


def test_orders_parked_too_long_are_mailed(mailed_world: World, smtp: tuple[Inbox, int]) -> None:
    world, (inbox, _) = mailed_world, smtp
    first_start(world)
    connection_id = set_up(world)
    record = world.app.store.record(connection_id, "424242")
    record.order_number, record.state = "A-1001", SyncState.NEEDS_ATTENTION
    record.reason = "No Moneybird tax rate is set for 13% VAT."
    world.app.store.save(record, "needs_attention", record.reason)
    backend = world.client.app.state.backend  # type: ignore[attr-defined]
    assert send_due_notices(backend) == 1
    ((_, message),) = inbox.messages
    assert "need attention" in message["Subject"]
    assert "A-1001" in message.get_payload()  # type: ignore[operator]
    assert send_due_notices(backend) == 0
