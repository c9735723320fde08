"""Orders from files, in the ``ccvbird preview`` input format.

A file holds ``{"order": <GET /orders/:id body>, "orderrows": <GET /orders/:id/orderrows body>}``
or a JSON list of such objects; a directory contributes every ``*.json`` file in it, in name
order. Each order is checked the way ccvbird will read it, so a malformed file is refused at
load time with the file and the field named, not when a client first fetches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccvbird.adapters.ccvshop.wire import loads, parse_order
from ccvbird.domain.errors import InvalidOrderData


class OrderFileError(ValueError):
    """An order file that cannot be loaded; the message names the file and the field."""


def _documents_in(path: Path) -> list[dict[str, Any]]:
    try:
        content = loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise OrderFileError(f"{path}: not valid JSON ({exc})") from None
    items = content if isinstance(content, list) else [content]
    documents = []
    for index, item in enumerate(items):
        where = f"{path}" if not isinstance(content, list) else f"{path}[{index}]"
        if not isinstance(item, dict) or "order" not in item or "orderrows" not in item:
            raise OrderFileError(f'{where}: expected an object with "order" and "orderrows"')
        try:
            parse_order(item["order"], item["orderrows"])
        except InvalidOrderData as exc:
            raise OrderFileError(f"{where}: {exc}") from None
        documents.append(item)
    return documents


def read_order_documents(path: Path) -> list[dict[str, Any]]:
    """Every order document in ``path`` (a file or a directory of ``*.json`` files)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise OrderFileError(f"{path}: no such file or directory")
    documents: list[dict[str, Any]] = []
    for file in files:
        documents.extend(_documents_in(file))
    return documents
