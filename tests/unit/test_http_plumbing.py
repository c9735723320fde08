"""Request budgets and the retrying transport, on a fake clock (nothing sleeps)."""

from __future__ import annotations

import httpx
import pytest

from ccvbird.adapters.http import ApiTransport, RetryPolicy, SlidingWindowLimiter, guarded_by
from ccvbird.domain.errors import (
    CcvbirdError,
    LeaseLost,
    NetworkError,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
)


class FakeTime:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_limiter_never_lets_more_than_limit_into_a_window() -> None:
    time = FakeTime()
    limiter = SlidingWindowLimiter(3, 10.0, clock=time.clock)
    sent = []
    for _ in range(10):
        time.sleep(limiter.reserve("k"))
        sent.append(time.now)
    for i in range(len(sent) - 3):
        assert sent[i + 3] - sent[i] >= 10.0  # any 4 consecutive sends span a full window
    assert sent[:3] == [sent[0]] * 3  # the first burst goes at once: the budget is used fully


def test_budgets_are_per_key_and_a_block_holds_every_slot() -> None:
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, 60.0, clock=time.clock)
    assert limiter.reserve("GET orders") == 0
    assert limiter.reserve("POST webhooks") == 0
    assert limiter.reserve("GET orders") == 60.0
    limiter.block_until("POST webhooks", time.now + 90)
    assert limiter.reserve("POST webhooks") == 90.0


def transport(handler, time: FakeTime, **kwargs) -> ApiTransport:  # type: ignore[no-untyped-def]
    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    return ApiTransport(
        client, retry=RetryPolicy(seed=1), sleep=time.sleep, clock=time.clock, **kwargs
    )


class EpochRetryAfter(ApiTransport):
    def retry_at(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        return float(value) if value else None


def test_a_429_is_retried_after_the_moment_the_service_named() -> None:
    time = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.now)
        if len(calls) == 1:
            return httpx.Response(
                429, headers={"Retry-After": str(int(time.now) + 42)}, text="<html>slow down</html>"
            )
        return httpx.Response(201, json={"ok": True})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    api = EpochRetryAfter(
        client,
        budget=SlidingWindowLimiter(100, 300, clock=time.clock),
        retry=RetryPolicy(seed=1),
        sleep=time.sleep,
        clock=time.clock,
    )
    response = api.send(
        client.build_request("POST", "/things"), idempotent=False
    )  # 429: never processed
    assert response.status_code == 201
    assert calls[1] - calls[0] == pytest.approx(42, abs=1)


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (lambda r: httpx.Response(503), ServiceUnavailable),
        (lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)), NetworkError),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)), RequestTimeout),
    ],
)
def test_safe_calls_are_retried_and_writes_are_not(failure, error) -> None:  # type: ignore[no-untyped-def]
    time = FakeTime()
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        if len(attempts) < 3:
            return failure(request)  # type: ignore[no-any-return]
        return httpx.Response(200, json={})

    api = transport(handler, time)
    assert api.send(api.client.build_request("GET", "/x"), idempotent=True).status_code == 200
    assert attempts == ["GET"] * 3
    assert len(time.slept) == 2 and all(s > 0 for s in time.slept)

    attempts.clear()
    with pytest.raises(error):
        api.send(api.client.build_request("POST", "/x"), idempotent=False)
    assert attempts == ["POST"]


def test_retries_stop_after_the_policy_s_attempts() -> None:
    time = FakeTime()
    api = transport(lambda request: httpx.Response(502), time)
    with pytest.raises(ServiceUnavailable):
        api.send(api.client.build_request("GET", "/x"), idempotent=True)
    assert len(time.slept) == RetryPolicy().attempts - 1


def test_a_refusal_is_not_retried() -> None:
    time = FakeTime()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"error": "nope"})

    api = transport(handler, time)
    with pytest.raises(CcvbirdError) as info:
        api.send(api.client.build_request("GET", "/x"), idempotent=True)
    assert not isinstance(info.value, RateLimited)
    assert calls == [1]


class Lease:
    """A stand-in for the connection's lease: checked every ``check_every`` seconds; it is
    taken away (``LeaseLost``) from ``lost_at`` on."""

    check_every = 100.0

    def __init__(self, time: FakeTime, lost_at: float | None = None) -> None:
        self.time = time
        self.lost_at = lost_at
        self.kept: list[float] = []

    def keep(self) -> None:
        self.kept.append(self.time.now)
        if self.lost_at is not None and self.time.now >= self.lost_at:
            raise LeaseLost("another worker holds the connection now")


class Budget:
    """A budget that makes the next request wait ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        self.wait = wait

    def reserve(self, key: str = "") -> float:
        wait, self.wait = self.wait, 0.0
        return wait

    def block_until(self, key: str, moment: float) -> None:
        return None


def test_a_long_wait_for_the_budget_keeps_the_lease_and_then_sends() -> None:
    time, sent = FakeTime(), []
    start = time.now
    api = transport(lambda r: sent.append(r) or httpx.Response(200), time, budget=Budget(250))
    lease = Lease(time)
    with guarded_by(lease):
        api.send(api.client.build_request("POST", "/invoices"), idempotent=False)
    assert time.slept == [100.0, 100.0, 50.0]  # never longer than check_every at a time
    assert [t - start for t in lease.kept] == [100.0, 200.0, 250.0, 250.0]  # and before sending
    assert len(sent) == 1


@pytest.mark.parametrize("wait", ["budget", "retry_after"])
def test_a_worker_that_lost_its_lease_while_waiting_sends_nothing(wait: str) -> None:
    time, sent = FakeTime(), []
    start = time.now

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if wait == "retry_after" and len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": str(int(start) + 400)})
        return httpx.Response(200)

    api = EpochRetryAfter(
        httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test"),
        budget=Budget(400 if wait == "budget" else 0),
        retry=RetryPolicy(seed=1),
        sleep=time.sleep,
        clock=time.clock,
    )
    with guarded_by(Lease(time, lost_at=start + 300)), pytest.raises(LeaseLost):
        api.send(api.client.build_request("GET", "/contacts"), idempotent=True)
    assert len(sent) == (1 if wait == "retry_after" else 0)  # nothing after the lease was lost
    assert time.now - start == 300.0  # it stopped at the first check after the loss


def test_without_a_lease_a_wait_is_one_sleep() -> None:
    time = FakeTime()
    api = transport(lambda r: httpx.Response(200), time, budget=Budget(250))
    api.send(api.client.build_request("GET", "/x"), idempotent=True)
    assert time.slept == [250.0]
