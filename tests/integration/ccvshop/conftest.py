"""Shared set-up: a sandbox shop in-process, on a fake clock both sides share.

Time only moves when someone "sleeps" (the client waiting for its budget, a retry backoff, a slow
fault): tests never wait, and every date in a signature is consistent with the shop's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ccvbird.adapters.ccvshop import CcvCredentials, CcvShopClient
from ccvbird.adapters.http import RetryPolicy
from ccvbird.sandbox.ccvshop import (
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    InProcessTransport,
    RecordingPoster,
    SandboxShop,
)

BASE_URL = "https://koffie.ccvshop.test"


class FakeClock:
    """Epoch seconds that advance only by :meth:`sleep`."""

    def __init__(self, start: float = 1_767_261_600.0) -> None:  # 2026-01-01T10:00:00Z
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
            self.slept += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def poster() -> RecordingPoster:
    return RecordingPoster()


ShopFactory = Callable[..., SandboxShop]


@pytest.fixture
def make_shop(clock: FakeClock, poster: RecordingPoster) -> ShopFactory:
    def make(**options: Any) -> SandboxShop:
        options.setdefault("base_url", BASE_URL)
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.sleep)
        options.setdefault("poster", poster)
        return SandboxShop(**options)

    return make


@pytest.fixture
def shop(make_shop: ShopFactory) -> SandboxShop:
    return make_shop()


ClientFactory = Callable[..., CcvShopClient]


@pytest.fixture
def connect(clock: FakeClock) -> Iterator[ClientFactory]:
    """Make a client for a shop, in-process; closes every transport it opened."""
    opened: list[httpx.Client] = []

    def make(
        shop: SandboxShop,
        *,
        public: str = DEFAULT_PUBLIC_KEY,
        secret: str = DEFAULT_SECRET,
        api_root: str | None = None,
        **options: Any,
    ) -> CcvShopClient:
        http = httpx.Client(transport=InProcessTransport(shop))
        opened.append(http)
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.sleep)
        options.setdefault("retry", RetryPolicy(attempts=3, seed=1))
        credentials = CcvCredentials(api_root or shop.base_url, public, secret)
        return CcvShopClient(credentials, http=http, **options)

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def client(shop: SandboxShop, connect: ClientFactory) -> CcvShopClient:
    return connect(shop)
