"""Refusals in Moneybird's own error shapes, raised by the sandbox's handlers.

``{"error": "...", "symbolic": {...}}`` for 400/401/402/403/404, ``{"error": {field: [...]},
"details": {field: [{"error": code}]}}`` for 422 validation errors.
"""

from __future__ import annotations

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
