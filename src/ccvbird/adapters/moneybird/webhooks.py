"""Checking a Moneybird webhook push before believing it, and handling each push once.

A push is genuine when

* its ``Moneybird-Signature: t=<epoch>,v1=<hex>[,v1=…]`` carries, for some ``v1``, the
  HMAC-SHA256 of ``"{t}.{raw body}"`` under the webhook's secret (constant-time compare; several
  ``v1`` while Moneybird rotates a secret; unknown schemes are ignored), and ``t`` is within five
  minutes of now (an old, replayed push is refused);
* its ``webhook_token`` equals the token Moneybird returned when the webhook was registered.

Pushes are retried with the same ``Idempotency-Key``; a :class:`~ccvbird.ports.SeenKeys` store
turns a repeat into "already handled". These are pure functions plus one small class: the web
entrypoint reads the request, the engine stores the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from ccvbird.adapters.moneybird import wire
from ccvbird.domain.errors import CcvbirdError
from ccvbird.ports import SeenKeys

SIGNATURE_HEADER = "Moneybird-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE = 300.0


class WebhookRejected(CcvbirdError):
    """The push is not from Moneybird (bad signature or token), too old, or unreadable."""

    #: The HTTP answer: 401 for a push that is not Moneybird's, 400 for an unreadable body.
    status = 401


class UnreadablePush(WebhookRejected):
    """A correctly signed push whose body is not a Moneybird webhook event."""

    status = 400


def verify_signature(
    body: bytes,
    header: str | None,
    secrets: str | Sequence[str],
    *,
    now: float,
    tolerance: float = TOLERANCE,
) -> None:
    """Raise :class:`WebhookRejected` unless ``header`` signs ``body`` with one of ``secrets``."""
    if not header:
        raise WebhookRejected(f"the push has no {SIGNATURE_HEADER} header")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not any(keys):
        raise WebhookRejected("no webhook secret is configured to check the signature")
    stamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            stamp = value
        elif name == "v1":
            candidates.append(value.lower())
    if stamp is None or not stamp.isdigit() or not candidates:
        raise WebhookRejected(f"the {SIGNATURE_HEADER} header is malformed")
    if abs(now - int(stamp)) > tolerance:
        raise WebhookRejected("the push's signature timestamp is more than 5 minutes off")
    signed = stamp.encode() + b"." + body
    for key in keys:
        if not key:
            continue
        expected = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise WebhookRejected("the push's signature does not match the webhook secret")


def parse_event(body: bytes) -> wire.WebhookEvent:
    try:
        return wire.WebhookEvent.model_validate(wire.loads(body))
    except RecursionError:
        raise UnreadablePush("the push body is nested too deeply") from None
    except (ValueError, ValidationError) as exc:
        raise UnreadablePush(f"the push body is not a Moneybird webhook event: {exc}") from None


@dataclass(frozen=True)
class WebhookCredentials:
    """What Moneybird returned when the webhook was registered."""

    token: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return "WebhookCredentials(***)"


class WebhookReceiver:
    """Verify a push, then deduplicate it by ``Idempotency-Key``."""

    def __init__(self, credentials: WebhookCredentials, seen: SeenKeys) -> None:
        self.credentials = credentials
        self.seen = seen

    def accept(
        self, headers: Mapping[str, str], body: bytes, *, now: float
    ) -> wire.WebhookEvent | None:
        """The event, or ``None`` when this push was handled before. Forged: raises."""
        lowered = {k.lower(): v for k, v in headers.items()}
        verify_signature(
            body, lowered.get(SIGNATURE_HEADER.lower()), self.credentials.secrets, now=now
        )
        event = parse_event(body)
        if not hmac.compare_digest(event.webhook_token, self.credentials.token):
            raise WebhookRejected("the push's webhook_token does not match")
        key = lowered.get(IDEMPOTENCY_HEADER.lower())
        if not key:
            raise WebhookRejected(f"the push has no {IDEMPOTENCY_HEADER} header")
        if not self.seen.first_time(key):
            return None
        return event


class MemorySeenKeys:
    """A :class:`SeenKeys` in memory (tests; the engine keeps them in the state DB)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True
