"""Preview: the invoice an order would become, and every reason it would not be booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.mapping import MappingResult, Problem, map_order
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile


@dataclass(frozen=True, slots=True)
class Preview:
    order: Order
    result: MappingResult
    #: Eligibility (status, paid) first, then what stops the mapping itself.
    problems: tuple[Problem, ...]

    @property
    def bookable(self) -> bool:
        return not self.problems


def preview_order(order: Order, profile: MappingProfile, *, today: date) -> Preview:
    """Map ``order`` with ``profile`` as the engine would on ``today``; book nothing."""
    result = map_order(order, profile, booking_date=today)
    return Preview(
        order=order, result=result, problems=booking_blockers(order, profile) + result.problems
    )
