"""Fixtures for every Moneybird test: a sandbox on a fake clock, spec-checked traffic.

Every client built here talks to the sandbox through :class:`ValidatingTransport`, so each
request and response in these tests is checked against Moneybird's OpenAPI spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from ccvbird.adapters.http import RetryPolicy
from ccvbird.adapters.moneybird import MoneybirdClient, connect
from ccvbird.sandbox.moneybird import (
    IN_PROCESS_BASE_URL,
    FaultPlan,
    MoneybirdSandbox,
    SandboxConfig,
    SandboxTransport,
)
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID, DEMO_TOKEN
from tests.integration.moneybird.openapi import MoneybirdSpec, ValidatingTransport, load_spec
from tests.shared import MONEYBIRD_SPEC, require

#: 2026-03-02 10:00:00 UTC, a Monday: every test starts at the same moment.
START = 1_772_445_600.0


@dataclass
class FakeClock:
    """Wall clock for the sandbox and the client; ``sleep`` advances it instead of waiting."""

    now: float = START
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Inbox:
    """A webhook receiver in-process: records pushes and answers with ``status``."""

    status: int = 200
    pushes: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        self.pushes.append((url, body, headers))
        return self.status, "ok" if self.status == 200 else "nope"


@pytest.fixture(scope="session")
def spec() -> MoneybirdSpec:
    require(MONEYBIRD_SPEC)
    loaded = load_spec()
    assert loaded is not None
    return loaded


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan(seed=7)


@pytest.fixture
def config(request: pytest.FixtureRequest) -> SandboxConfig:
    """The sandbox's settings; parametrize indirectly to change them."""
    return getattr(request, "param", None) or SandboxConfig()


@pytest.fixture
def sandbox(
    config: SandboxConfig, clock: FakeClock, faults: FaultPlan, inbox: Inbox
) -> MoneybirdSandbox:
    return MoneybirdSandbox(config, clock=clock, faults=faults, deliverer=inbox)


@pytest.fixture
def transport(sandbox: MoneybirdSandbox, spec: MoneybirdSpec) -> Iterator[ValidatingTransport]:
    validating = ValidatingTransport(SandboxTransport(sandbox), spec)
    return validating


ClientFactory = Callable[..., MoneybirdClient]


@pytest.fixture
def make_client(transport: ValidatingTransport, clock: FakeClock) -> ClientFactory:
    def make(**overrides: object) -> MoneybirdClient:
        options: dict[str, object] = {
            "administration_id": ADMINISTRATION_ID,
            "base_url": IN_PROCESS_BASE_URL,
            "transport": transport,
            "sleep": clock.sleep,
            "clock": clock,
            "retry": RetryPolicy(seed=1),
        }
        if "auth" not in overrides:
            options["token"] = DEMO_TOKEN
        options.update(overrides)
        return connect(**options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def client(make_client: ClientFactory) -> MoneybirdClient:
    return make_client()
