"""Reading the forms of a page as a browser would submit them (stdlib HTML parser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, Any]]] = []
        self._fields: dict[str, Any] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False

    def _add(self, name: str, value: str) -> None:
        assert self._fields is not None
        if name in self._fields:
            existing = self._fields[name]
            self._fields[name] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            self._fields[name] = value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._fields = {}
            self.forms.append((a.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select, self._first_option, self._selected = a.get("name"), None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._selected:
                self._selected = True
                self._add(self._select, value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None
        elif tag == "form":
            self._fields = None


def form_fields(html: str, action: str) -> dict[str, Any]:
    """The fields the form posting to ``action`` would send (first such form)."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action == action:
            return dict(fields)
    raise AssertionError(f"no form posts to {action}; forms: {[a for a, _ in parser.forms]}")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)
