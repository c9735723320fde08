"""Following CCV's ``next`` links safely.

CCV lists are offset-paged (``start``/``size``); each page says where the next one is as an
absolute URL that keeps the filters, and leaves ``next`` out (or ``null``) on the last page
(reference §2). This module turns a ``next`` link into the URL to request and refuses the ways a
server bug could make a client loop forever or wander off:

* a link already fetched in this listing is a loop;
* more than :data:`MAX_EMPTY_PAGES` pages in a row without items but with a ``next`` is a loop;
* a link outside the API's path is refused rather than followed.

Refusing means raising :class:`PagingError`: stopping quietly would lose orders without a word.
The request always goes to the shop's own origin (the one in the credentials): only the path and
query of the link are taken, byte for byte, so they are signed exactly as they are sent.
"""

from __future__ import annotations

import httpx

from ccvbird.domain.errors import ApiError

MAX_EMPTY_PAGES = 3


class PagingError(ApiError):
    """CCV's ``next`` links do not lead to an end."""


class PageTrail:
    """The pages of one listing so far; decides where the next request goes."""

    def __init__(self, origin: httpx.URL, api_path: str) -> None:
        self._origin = origin
        self._api_path = api_path
        self._seen: set[bytes] = set()
        self._empty_in_a_row = 0

    def visit(self, url: httpx.URL) -> None:
        """Record a page about to be fetched."""
        self._seen.add(url.raw_path)

    def next_url(self, link: object, *, items_on_page: int) -> httpx.URL | None:
        """Where to go after a page with ``items_on_page`` items and ``next`` = ``link``."""
        if link is None or link == "":
            return None
        if not isinstance(link, str):
            raise PagingError(f"CCV Shop sent a next link that is not text: {link!r}")
        target = httpx.URL(link)
        raw_path = target.raw_path
        if not raw_path.decode("ascii", "replace").startswith(self._api_path):
            raise PagingError(f"CCV Shop's next link leaves the API: {link}")
        if raw_path in self._seen:
            raise PagingError(f"CCV Shop's paging loops: {link} was already fetched")
        self._empty_in_a_row = 0 if items_on_page else self._empty_in_a_row + 1
        if self._empty_in_a_row > MAX_EMPTY_PAGES:
            raise PagingError(
                f"CCV Shop sent {self._empty_in_a_row} empty pages in a row, each with a next link"
            )
        return self._origin.copy_with(raw_path=raw_path)
