"""The composition root: the only module that picks and wires adapters.

Entrypoints ask bootstrap for what they need and hand it to the services; nothing else imports
an adapter by name, so swapping a real service for the sandbox is a change in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ccvbird.adapters.ccvshop.wire import decode_order_file
from ccvbird.adapters.moneybird.payload import sales_invoice_payload
from ccvbird.adapters.profile_toml import load_profile, parse_profile
from ccvbird.domain.invoice import InvoiceDraft
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile

EXAMPLE_ORDER = "order-mixed-basket.json"
EXAMPLE_PROFILE = "profile.toml"


def _example(name: str) -> bytes:
    return resources.files("ccvbird.examples").joinpath(name).read_bytes()


def read_order(path: Path | None) -> Order:
    """The order in ``path`` (``ccvbird preview`` format), or the bundled example order."""
    data = _example(EXAMPLE_ORDER) if path is None else path.read_bytes()
    return decode_order_file(data)


def read_profile(path: Path | None) -> MappingProfile:
    """The profile in ``path``, or the bundled example profile (the sandbox administration)."""
    if path is None:
        return parse_profile(_example(EXAMPLE_PROFILE).decode(), source="example profile")
    return load_profile(path)


def invoice_payload(draft: InvoiceDraft, *, contact_id: str | None = None) -> dict[str, Any]:
    return sales_invoice_payload(draft, contact_id=contact_id)


class SystemClock:
    """The wall clock, in the shop's time zone."""

    def __init__(self, timezone: str = "Europe/Amsterdam") -> None:
        self._zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(self._zone)

    def today(self) -> date:
        return self.now().date()
