"""Whether an order may be booked at all, before anything is mapped.

An order is booked when its status is one the profile triggers on (default 7, "afgerond") and it
is paid (unless the profile says payment is not required). Cancelled orders and baskets the
customer never checked out are never booked, whatever the profile says.
"""

from __future__ import annotations

from ccvbird.domain.mapping import Problem, ProblemCode
from ccvbird.domain.order import STATUS_CANCELLED, STATUS_NAMES, Order
from ccvbird.domain.profile import MappingProfile


def status_name(status: int | None) -> str:
    if status is None:
        return "none"
    return f"{status} ({STATUS_NAMES[status]})" if status in STATUS_NAMES else str(status)


def booking_blockers(order: Order, profile: MappingProfile) -> tuple[Problem, ...]:
    """The reasons ``order`` must not be booked (yet); empty when it is eligible.

    A reason that decides alone (an unfinished checkout, a cancelled order: never invoiced) is
    the only one given: "cancelled; never invoiced" beside "invoiced once it is paid" would
    contradict itself."""
    if not order.is_completed or not order.number:
        return (Problem(ProblemCode.NOT_COMPLETED),)
    if order.status == STATUS_CANCELLED:
        return (Problem(ProblemCode.CANCELLED),)
    problems: list[Problem] = []
    if order.status not in profile.trigger_statuses:
        wanted = ", ".join(status_name(s) for s in sorted(profile.trigger_statuses))
        problems.append(
            Problem(
                ProblemCode.STATUS_NOT_TRIGGERING,
                {"status": status_name(order.status), "wanted": wanted},
            )
        )
    if profile.require_paid and not order.paid:
        problems.append(Problem(ProblemCode.NOT_PAID))
    return tuple(problems)
