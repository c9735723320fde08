"""Reading request values the way Moneybird accepts them, refusing what it refuses.

Money may be a JSON number or a string with ``.`` or ``,`` as decimal separator; ids may be a
string or an integer of digits; booleans may be ``true`` or ``"true"``. Each refusal names the
field, as Moneybird's 422 bodies do.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ccvbird.sandbox.moneybird.problems import MoneybirdProblem, invalid_field

_MONEY = re.compile(r"^-?[0-9]+[,.]?[0-9]*$")
_LIMIT = Decimal(1_000_000_000)


def money(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise invalid_field(name, "blank", "can't be blank")
    if isinstance(value, float):  # the sandbox parses JSON with parse_float=Decimal
        value = Decimal(repr(value))
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, str) and _MONEY.match(value.strip()):
        result = Decimal(value.strip().replace(",", "."))
    else:
        raise invalid_field(name, "not_a_number", "is not a number")
    if abs(result) > _LIMIT:
        raise invalid_field(name, "out_of_range", "is out of range")
    return result


def quantity(value: Any, name: str) -> Decimal:
    if value is None or value == "":
        return Decimal(1)
    if isinstance(value, bool):
        raise invalid_field(name, "not_a_number", "is not a number")
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise invalid_field(name, "not_a_number", "is not a number") from None


def identifier(value: Any, name: str) -> str:
    if isinstance(value, bool):
        raise invalid_field(name, "invalid", "is not a valid id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    raise invalid_field(name, "invalid", "is not a valid id")


def optional_identifier(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    return identifier(value, name)


def flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    raise invalid_field(name, "invalid", "is not a boolean")


def day(value: Any, name: str) -> date:
    if not isinstance(value, str) or not value.strip():
        raise invalid_field(name, "blank", "can't be blank")
    text = value.strip()
    try:
        if len(text) > 10:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return date.fromisoformat(text)
    except ValueError:
        raise invalid_field(name, "invalid", "is not a valid date") from None


def text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise invalid_field(name, "invalid", "is not a string")


def wrapped(body: Any, key: str, label: str) -> dict[str, Any]:
    """The object under ``key`` (``{"contact": {...}}``), or Moneybird's 400 when it is missing."""
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise MoneybirdProblem(
            400, {"error": f"{label} is required", "symbolic": {key: "required"}}
        )
    return inner


def refuse_unknown(data: dict[str, Any], allowed: frozenset[str], scope: str) -> None:
    """The spec closes every request object (``unevaluatedProperties: false``)."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise MoneybirdProblem(
            400,
            {
                "error": f"Unknown attribute(s) for {scope}: {', '.join(unknown)}",
                "symbolic": {name: "unknown" for name in unknown},
            },
        )
