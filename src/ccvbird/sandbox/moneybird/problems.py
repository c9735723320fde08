"""Refusals in Moneybird's own error shapes, raised by the sandbox's handlers.

``{"error": "...", "symbolic": {...}}`` for 400/401/402/403/404/405, ``{"error": {field: [...]},
"details": {field: [{"error": code}]}}`` for 422 validation errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MoneybirdProblem(Exception):
    """An HTTP refusal with a Moneybird-shaped JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def bad_request(message: str, symbolic: dict[str, str] | None = None) -> MoneybirdProblem:
    body: dict[str, Any] = {"error": message}
    if symbolic is not None:
        body["symbolic"] = symbolic
    return MoneybirdProblem(400, body)


def unauthorized(message: str) -> MoneybirdProblem:
    return MoneybirdProblem(401, {"error": message})


def plan_limit(message: str) -> MoneybirdProblem:
    return MoneybirdProblem(
        402, {"error": message, "symbolic": {"administration": "limit_reached"}}
    )


def forbidden(message: str) -> MoneybirdProblem:
    return MoneybirdProblem(403, {"error": message, "symbolic": {"administration": "forbidden"}})


def not_found(message: str = "record not found", field: str = "id") -> MoneybirdProblem:
    return MoneybirdProblem(404, {"error": message, "symbolic": {field: "not_found"}})


def routing_problem(status: int, headers: Mapping[str, str] | None = None) -> MoneybirdProblem:
    """A request no route takes: 404 for an unknown path, 405 for a known path and another
    method (with its ``Allow`` header). The spec shows ``{"error": "Not Found"}`` for missing
    things and documents no 405; both get the ``{error, symbolic}`` shape of every other
    refusal, with a symbolic code naming what did not match."""
    if status == 405:
        body = {"error": "Method Not Allowed", "symbolic": {"method": "not_allowed"}}
    elif status == 404:
        body = {"error": "Not Found", "symbolic": {"path": "not_found"}}
    else:
        body = {"error": "Request refused", "symbolic": {"request": "invalid"}}
    return MoneybirdProblem(status, body, dict(headers or {}))


def invalid(errors: dict[str, list[tuple[str, str]]]) -> MoneybirdProblem:
    """422 with ``errors`` as field → [(code, message)], e.g. ``{"price": [("blank", "...")]}``."""
    return MoneybirdProblem(
        422,
        {
            "error": {name: [message for _, message in items] for name, items in errors.items()},
            "details": {
                name: [{"error": code} for code, _ in items] for name, items in errors.items()
            },
        },
    )


def invalid_field(name: str, code: str, message: str) -> MoneybirdProblem:
    return invalid({name: [(code, message)]})
