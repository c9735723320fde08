"""Calls the sandbox shop makes to the outside: webhook deliveries and App Store calls.

Every outbound call goes through a :data:`Poster` — a function that POSTs bytes to a URL and
returns the HTTP status. The real server uses :class:`HttpPoster`; tests hand in a function that
calls their app in-process (or just records), so nothing needs a socket. A poster that raises
counts as a failed delivery, recorded with the reason; the shop does not retry (CCV's retry
policy is not documented).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

#: POST ``body`` to ``url`` with ``headers``; return the HTTP status.
Poster = Callable[[str, bytes, Mapping[str, str]], int]


class HttpPoster:
    """POSTs over the network with a short timeout (a receiver must answer fast)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return self._client.post(url, content=body, headers=dict(headers)).status_code

    def close(self) -> None:
        self._client.close()


@dataclass
class RecordingPoster:
    """Records every call and answers with ``status`` (for tests that only look)."""

    status: int = 200
    calls: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.calls.append((url, body, dict(headers)))
        return self.status


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery attempt, as the shop's log shows it."""

    webhook_id: int
    event: str
    address: str
    body: bytes
    status: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300
