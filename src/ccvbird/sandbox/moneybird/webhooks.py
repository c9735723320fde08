"""Webhook pushes as Moneybird sends them: signed, with an ``Idempotency-Key``, retried.

Each push is a JSON POST of ``{administration_id, webhook_id, webhook_token, entity_type,
entity_id, state, action, entity}`` with the headers

* ``Moneybird-Signature: t=<epoch>,v1=<hex>[,v1=<hex>]`` — HMAC-SHA256 over ``"{t}.{body}"`` with
  each current secret of the webhook (two while a secret rotates);
* ``Idempotency-Key`` — unique per push, the same on every retry of it.

A receiver that does not answer 200 gets the push again later, up to 10 times with growing
intervals. *How* a push travels is injectable (:class:`Deliverer`): over HTTP for the real
server, straight into a handler for in-process tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ccvbird.sandbox.moneybird.records import Webhook

#: Growing waits between attempts (seconds): 10 retries after the first attempt.
RETRY_DELAYS: tuple[float, ...] = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400)


class Deliverer(Protocol):
    """Sends one push; returns the receiver's HTTP status and body (raise for no answer)."""

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]: ...


def http_deliverer(timeout: float = 10.0) -> Deliverer:
    """Deliver over HTTP (the real-server mode)."""

    def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
        return response.status_code, response.text[:1000]

    return deliver


def signature_header(secrets: list[str], body: bytes, timestamp: int) -> str:
    """``t=…,v1=…`` with one ``v1`` per secret, exactly as a receiver must check it."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += [
        "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
    ]
    return ",".join(parts)


def matches(enabled_events: list[str], action: str) -> bool:
    """An empty list subscribes to everything; a name matches itself and its prefix group."""
    if not enabled_events:
        return True
    return any(action == e or action.startswith(e + "_") for e in enabled_events)


@dataclass
class Push:
    webhook_id: str
    administration_id: str
    key: str
    body: bytes
    action: str
    attempts: int = 0
    next_at: float = 0.0
    #: (status or None when the receiver did not answer, body or error) per attempt
    log: list[tuple[int | None, str]] = field(default_factory=list)


class WebhookOutbox:
    """Pushes waiting to be delivered, and the delivery loop's single step."""

    def __init__(
        self,
        clock: Callable[[], float],
        deliverer: Deliverer,
        *,
        key_seed: int = 0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.clock = clock
        self.deliverer = deliverer
        self.retry_delays = retry_delays
        self.pending: list[Push] = []
        self.delivered: list[Push] = []
        self.abandoned: list[Push] = []
        self._keys = _KeySource(key_seed)
        self._lock = threading.RLock()

    def enqueue(
        self,
        webhook: Webhook,
        administration_id: str,
        action: str,
        entity_type: str,
        entity_id: str,
        state: str | None,
        entity: dict[str, Any],
    ) -> Push:
        payload = {
            "administration_id": administration_id,
            "webhook_id": webhook.id,
            "webhook_token": webhook.token,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "state": state,
            "action": action,
            "entity": entity,
        }
        push = Push(
            webhook_id=webhook.id,
            administration_id=administration_id,
            key=self._keys(),
            body=json.dumps(payload, ensure_ascii=False).encode(),
            action=action,
            next_at=self.clock(),
        )
        with self._lock:
            self.pending.append(push)
        return push

    def deliver_due(self, webhooks: Callable[[str], Webhook | None]) -> int:
        """Attempt every push that is due; returns how many were attempted."""
        now = self.clock()
        with self._lock:
            due = [p for p in self.pending if p.next_at <= now]
        for push in due:
            webhook = webhooks(push.webhook_id)
            if webhook is None or webhook.deactivated_at is not None:
                with self._lock:
                    self.pending.remove(push)
                    self.abandoned.append(push)
                continue
            self._attempt(push, webhook)
        return len(due)

    def _attempt(self, push: Push, webhook: Webhook) -> None:
        stamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Moneybird-Sandbox-Webhooks",
            "Idempotency-Key": push.key,
            "Moneybird-Signature": signature_header(webhook.secrets, push.body, stamp),
        }
        status: int | None
        try:
            status, text = self.deliverer(webhook.url, push.body, headers)
        except Exception as exc:
            status, text = None, f"{type(exc).__name__}: {exc}"
        push.attempts += 1
        push.log.append((status, text))
        webhook.last_http_status = status
        webhook.last_http_body = text
        with self._lock:
            if status == 200:
                self.pending.remove(push)
                self.delivered.append(push)
            elif push.attempts > len(self.retry_delays):
                self.pending.remove(push)
                self.abandoned.append(push)
            else:
                push.next_at = self.clock() + self.retry_delays[push.attempts - 1]


class _KeySource:
    """Idempotency keys: uuid-shaped, reproducible from a seed."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._n = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self._n += 1
            n = self._n
        digest = hashlib.sha256(f"{self._seed}:{n}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))
