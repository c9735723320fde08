"""CCV's refusals become ccvbird's error tree; budgets per resource and method."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from ccvbird.adapters.ccvshop import CcvBudget, CcvCredentials, CcvShopClient
from ccvbird.adapters.ccvshop.transport import resource_of
from ccvbird.adapters.http import RetryPolicy
from ccvbird.domain.errors import (
    ApiError,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


def ccv_error(status: int, code: str, message: str) -> httpx.Response:
    body = {"status": status, "code": code, "developermessage": message}
    return httpx.Response(status, content=json.dumps(body).encode())


def client_answering(
    answer: Callable[[httpx.Request], httpx.Response], attempts: int = 1
) -> tuple[CcvShopClient, list[httpx.Request], Clock]:
    seen: list[httpx.Request] = []
    clock = Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = CcvShopClient(
        CcvCredentials("https://shop.test", "pub", "sec"),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        retry=RetryPolicy(attempts=attempts, seed=1),
        clock=clock,
        sleep=clock.sleep,
    )
    return client, seen, clock


def test_401_says_the_key_or_secret_is_wrong() -> None:
    client, _, _ = client_answering(lambda r: ccv_error(401, "401.10", "Invalid hash"))
    with pytest.raises(AuthenticationFailed) as caught:
        client.paymethods()
    assert "public key or the secret is wrong" in str(caught.value)
    assert "Invalid hash" in str(caught.value)


def test_403_is_a_missing_permission() -> None:
    client, _, _ = client_answering(lambda r: ccv_error(403, "403.10", "No access to webhooks"))
    with pytest.raises(PermissionDenied, match="No access to webhooks"):
        client.webhooks()


def test_404_keeps_ccvs_code() -> None:
    client, _, _ = client_answering(lambda r: ccv_error(404, "404.20", "Invalid resource name"))
    with pytest.raises(NotFound) as caught:
        client.order(5)
    assert (caught.value.status, caught.value.code) == (404, "404.20")


@pytest.mark.parametrize("code", ["429.10", "429.11"])
def test_429_is_rate_limited_and_retried_after_a_window(code: str) -> None:
    answers = iter([ccv_error(429, code, "Too many"), httpx.Response(200, json={"items": []})])
    dates: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        dates.append(request.headers["x-date"])
        return next(answers)

    client, seen, clock = client_answering(answer, attempts=3)
    start = clock.now
    assert client.paymethods() == []
    assert len(seen) == 2
    assert clock.now - start >= 60
    assert dates == ["2026-01-01T00:00:00Z", "2026-01-01T00:01:01Z"]  # signed afresh


def test_429_11_holds_every_resource() -> None:
    client, _, clock = client_answering(lambda r: ccv_error(429, "429.11", "Total"), attempts=1)
    with pytest.raises(RateLimited, match=r"429\.11.*shop's total") as caught:
        client.paymethods()
    assert caught.value.retry_at is not None
    # The next request, to another resource, waits for the same moment.
    budget = client.transport.budget
    assert budget.reserve("GET webhooks") >= caught.value.retry_at - clock.now - 0.001


def test_5xx_is_retried_for_reads_and_then_unavailable() -> None:
    client, seen, _ = client_answering(lambda r: ccv_error(503, "", "down"), attempts=3)
    with pytest.raises(ServiceUnavailable, match="503"):
        client.webshops()
    assert len(seen) == 3


def test_5xx_on_a_create_is_not_repeated() -> None:
    client, seen, _ = client_answering(lambda r: ccv_error(500, "", "oops"), attempts=5)
    with pytest.raises(ServiceUnavailable):
        client.create_webhook("orders.created", "https://app.test/x")
    assert len(seen) == 1


def test_a_permanent_5xx_code_is_not_transient() -> None:
    client, seen, _ = client_answering(lambda r: ccv_error(500, "500.80", "Payload too big"), 5)
    with pytest.raises(ApiError) as caught:
        client.webshops()
    assert not isinstance(caught.value, ServiceUnavailable)
    assert caught.value.code == "500.80"
    assert len(seen) == 1


def test_marking_installed_twice_is_fine() -> None:
    client, _, _ = client_answering(lambda r: ccv_error(500, "500.50", "Same value"))
    client.set_app_installed(7)


def test_budgets_are_per_method_and_resource() -> None:
    assert resource_of("/api/rest/v1/orders") == "orders"
    assert resource_of("/api/rest/v1/orders/123/") == "orders"
    assert resource_of("/api/rest/v1/orders/123/orderrows?start=0") == "orderrows"
    assert resource_of("/api/rest/v1/webshops/9/merchant") == "merchant"
    assert resource_of("/api/rest/v1/") == "root"

    clock = Clock()
    budget = CcvBudget(clock=clock, window=60)
    assert [budget.reserve("GET orders") for _ in range(150)] == [0.0] * 150
    assert budget.reserve("GET orders") == pytest.approx(60)
    assert budget.reserve("GET orderrows") == 0.0
    assert [budget.reserve("PATCH apps") for _ in range(100)] == [0.0] * 100
    assert budget.reserve("PATCH apps") == pytest.approx(60)


def test_every_call_has_a_timeout_and_ccvs_accept_header() -> None:
    client, seen, _ = client_answering(lambda r: httpx.Response(200, json={"items": []}))
    client.paymethods()
    (request,) = seen
    assert request.extensions["timeout"]["read"] == 30.0
    assert request.headers["accept"] == "application/vnd.verto.webshop+json"


def test_bad_credentials_are_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="secret"):
        CcvShopClient(CcvCredentials("https://shop.test", "pub", ""))
    with pytest.raises(ValueError, match="api_root"):
        CcvShopClient(CcvCredentials("shop.test", "pub", "sec"))
    assert "sec" not in repr(CcvCredentials("https://shop.test", "pub", "sec"))
