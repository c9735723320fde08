"""Moneybird's own OpenAPI spec as a referee between ccvbird's client and the sandbox.

:class:`ValidatingTransport` sits between the two in every Moneybird test: each request the
client sends is checked against the operation's parameters and request body, each response the
sandbox returns against the declared response schema (JSON Schema 2020-12, refs resolved through
a ``referencing`` registry holding the whole spec). The spec allows ids and amounts as numbers
too, so ids and money are additionally required to be strings, as Moneybird sends them.
Any violation raises :class:`SpecViolation`, which fails the test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.shared import MONEYBIRD_EXAMPLES, MONEYBIRD_SPEC

SPEC_PATH = MONEYBIRD_SPEC
EXAMPLES = MONEYBIRD_EXAMPLES
API_PREFIX = "/api/v2"
_URN = "urn:moneybird-openapi"

#: Keys whose values are record ids (strings in Moneybird's answers, even though the spec
#: allows integers). ``draft_id`` is a sequence number and ``invoice_id`` on an invoice is its
#: number; both are excluded or already strings.
_NOT_IDS = {"draft_id", "contact_import_id"}
_MONEY_KEYS = {
    "price", "price_base", "total_paid", "total_unpaid", "total_unpaid_base",
    "total_price_excl_tax", "total_price_excl_tax_base", "total_price_incl_tax",
    "total_price_incl_tax_base", "total_discount", "discount", "taxable_amount",
    "taxable_amount_base", "tax_amount", "tax_amount_base", "amount_decimal", "percentage",
    "total_price_excl_tax_with_discount", "total_price_excl_tax_with_discount_base",
}  # fmt: skip
_GENERIC_RESPONSES = {
    400: "400_bad_request",
    401: "401_unauthorized",
    402: "402_payment_required",
    403: "403_forbidden",
    404: "404_not_found",
    422: "422_unprocessable_entity",
    429: "429_too_many_requests",
}


class SpecViolation(AssertionError):
    """A request or response that Moneybird's OpenAPI spec does not allow."""


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    literal_length: int
    definition: dict[str, Any]


@dataclass
class MoneybirdSpec:
    spec: dict[str, Any]
    operations: list[Operation] = field(default_factory=list)
    validators: dict[str, Draft202012Validator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_URN, resource)
        for template, item in self.spec["paths"].items():
            regex = re.escape(template)
            regex = regex.replace(re.escape("{format}"), r"(?P<format>(\.json|\.xml)?)")
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+?)", regex)
            literal = len(re.sub(r"\{\w+\}", "", template))
            for method, definition in item.items():
                if method in {"get", "post", "patch", "put", "delete"}:
                    self.operations.append(
                        Operation(
                            method.upper(), template, re.compile(f"^{regex}$"), literal, definition
                        )
                    )

    def validator(self, *pointer: str) -> Draft202012Validator:
        return _validator(self, "#/" + _pointer(*pointer))

    def operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        matches = []
        for op in self.operations:
            if op.method != method:
                continue
            found = op.pattern.match(path)
            if found:
                matches.append((op.literal_length, op, found.groupdict()))
        if not matches:
            raise SpecViolation(f"{method} {path}: no such operation in Moneybird's spec")
        _, op, params = max(matches, key=lambda m: m[0])
        return op, params

    # -- requests ---------------------------------------------------------------------------

    def check_request(self, request: httpx.Request) -> Operation | None:
        path = request.url.raw_path.split(b"?")[0].decode()
        if not path.startswith(API_PREFIX + "/"):
            return None
        op, path_params = self.operation(request.method, path[len(API_PREFIX) :])
        where = f"{request.method} {op.template}"
        declared = self._parameters(op)
        for name, raw in path_params.items():
            value = unquote(raw)
            param = declared.get(("path", name))
            if param is None:
                raise SpecViolation(f"{where}: path parameter {name} is not declared")
            self._check_value(param, value, f"{where} path {name}")
        for name, value in request.url.params.multi_items():
            param = declared.get(("query", name))
            if param is None:
                raise SpecViolation(f"{where}: query parameter {name!r} is not in the spec")
            self._check_value(param, value, f"{where} query {name}")
        body = request.content
        content_type = request.headers.get("content-type", "")
        request_body = op.definition.get("requestBody")
        if not body:
            if request_body and request_body.get("required") and request.method != "DELETE":
                raise SpecViolation(f"{where}: the spec requires a request body")
            return op
        if request_body is None:
            raise SpecViolation(f"{where}: sends a body the operation does not take")
        media = request_body["content"]
        if content_type.startswith("multipart/form-data"):
            if "multipart/form-data" not in media:
                raise SpecViolation(f"{where}: multipart body not allowed")
            return op
        if not content_type.startswith("application/json") or "application/*" not in media:
            raise SpecViolation(f"{where}: request content type {content_type!r} not allowed")
        decoded = json.loads(body)
        pointer = ("paths", op.template, op.method.lower(), "requestBody", "content")
        errors = list(self.validator(*pointer, "application/*", "schema").iter_errors(decoded))
        if errors:
            raise SpecViolation(f"{where} request body: " + "; ".join(_describe(e) for e in errors))
        return op

    def _parameters(self, op: Operation) -> dict[tuple[str, str], dict[str, Any]]:
        result = {}
        for param in op.definition.get("parameters", []):
            if "$ref" in param:
                name = param["$ref"].rsplit("/", 1)[-1]
                param = self.spec["components"]["parameters"][name]
            result[(param["in"], param["name"])] = param
        return result

    def _check_value(self, param: dict[str, Any], value: str, where: str) -> None:
        schema = param.get("schema", {})
        if "$ref" in schema:
            validator = _validator(self, schema["$ref"])
        else:
            validator = Draft202012Validator(schema, registry=self.registry)
        errors = list(validator.iter_errors(value))
        if errors:
            raise SpecViolation(f"{where}={value!r}: " + "; ".join(_describe(e) for e in errors))

    # -- responses --------------------------------------------------------------------------

    def check_response(self, response: httpx.Response, op: Operation) -> None:
        status = response.status_code
        where = f"{op.method} {op.template} → {status}"
        responses = op.definition.get("responses", {})
        declared = responses.get(str(status))
        pointer: tuple[str, ...]
        if declared is not None:
            pointer = ("paths", op.template, op.method.lower(), "responses", str(status))
            if "$ref" in declared:
                name = declared["$ref"].rsplit("/", 1)[-1]
                pointer = ("components", "responses", name)
                declared = self.spec["components"]["responses"][name]
        elif status in _GENERIC_RESPONSES:
            name = _GENERIC_RESPONSES[status]
            pointer = ("components", "responses", name)
            declared = self.spec["components"]["responses"][name]
        elif status >= 500:
            return
        else:
            raise SpecViolation(f"{where}: status not described by the spec")
        content = declared.get("content")
        if not content:
            if response.content:
                raise SpecViolation(
                    f"{where}: the spec says no body, got {response.content[:80]!r}"
                )
            return
        content_type = response.headers.get("content-type", "")
        if status == 429 and content_type.startswith("text/html"):
            return  # nginx's HTML 429 page happens (picqer #101); the client must cope
        if not content_type.startswith("application/json"):
            raise SpecViolation(f"{where}: content type {content_type!r}, expected JSON")
        decoded = json.loads(response.content)
        schema = self.validator(*pointer, "content", "application/json", "schema")
        errors = [e for e in schema.iter_errors(decoded) if not _spec_defect(e)]
        if errors:
            raise SpecViolation(f"{where}: " + "; ".join(_describe(e) for e in errors[:5]))
        check_strings(decoded, where)


def _validator(spec: MoneybirdSpec, ref: str) -> Draft202012Validator:
    found = spec.validators.get(ref)
    if found is None:
        found = Draft202012Validator(
            {"$ref": f"{_URN}{ref}"}, registry=spec.registry, format_checker=FormatChecker()
        )
        spec.validators[ref] = found
    return found


def _spec_defect(error: Any) -> bool:
    """A ``null`` that fails ``oneOf`` only because two branches both allow null.

    ``tax_rate_response.percentage`` is ``oneOf: [number, null]`` where ``number`` itself
    allows null, so the spec rejects the ``null`` percentage Moneybird really sends for
    "Geen btw" (recorded in ``recorded-moneybird-dotnet/Endpoints_TaxRates_getTaxRates.json``).
    """
    return error.validator == "oneOf" and error.instance is None


def _describe(error: Any) -> str:
    location = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{location}: {error.message}"


def check_strings(value: Any, where: str, key: str = "") -> None:
    """Ids and money must be JSON strings (or null), whatever the spec permits."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "data":  # event data is free-form
                continue
            check_strings(v, where, k)
        return
    if isinstance(value, list):
        for item in value:
            check_strings(item, where, key)
        return
    if value is None:
        return
    is_id = (key == "id" or key.endswith("_id")) and key not in _NOT_IDS
    if (is_id or key in _MONEY_KEYS) and not isinstance(value, str):
        raise SpecViolation(f"{where}: {key} is {value!r}; Moneybird sends it as a string")


@cache
def load_spec() -> MoneybirdSpec | None:
    if not SPEC_PATH.exists():
        return None
    return MoneybirdSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


class ValidatingTransport(httpx.BaseTransport):
    """Checks every request and response passing through against the spec."""

    def __init__(self, inner: httpx.BaseTransport, spec: MoneybirdSpec) -> None:
        self.inner = inner
        self.spec = spec
        self.checked: list[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        op = self.spec.check_request(request)
        response = self.inner.handle_request(request)
        if op is not None:
            response.read()
            self.spec.check_response(response, op)
            self.checked.append((request.method, op.template, response.status_code))
        return response
