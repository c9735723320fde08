"""A local e-mail → contact index kept current with Moneybird's synchronization endpoints.

Looking a customer up by e-mail costs a search request per order; for a shop with many repeat
customers that is most of the budget. :class:`ContactIndex` instead asks once for every
contact's ``(id, version)`` (one request, no paging) and fetches only new or changed contacts,
100 per request. Between refreshes, :meth:`ContactIndex.remember` adds contacts ccvbird created
itself, so a refresh after a busy hour costs a handful of requests.
"""

from __future__ import annotations

from ccvbird.adapters.moneybird.client import MoneybirdClient
from ccvbird.adapters.moneybird.wire import Contact


class ContactIndex:
    """Contacts by normalised e-mail (archived ones included and marked)."""

    def __init__(self) -> None:
        self._contacts: dict[str, Contact] = {}
        self._by_email: dict[str, set[str]] = {}

    def refresh(self, client: MoneybirdClient) -> int:
        """Bring the index up to date; returns how many contacts were (re)fetched."""
        versions = client.contact_versions(include_archived=True)
        for gone in set(self._contacts) - set(versions):
            self._forget(gone)
        stale = [
            contact_id
            for contact_id, version in versions.items()
            if contact_id not in self._contacts or self._contacts[contact_id].version != version
        ]
        for contact in client.contacts_by_ids(stale):
            self.remember(contact)
        return len(stale)

    def remember(self, contact: Contact) -> None:
        self._forget(contact.id)
        self._contacts[contact.id] = contact
        for email in contact.emails:
            self._by_email.setdefault(email, set()).add(contact.id)

    def _forget(self, contact_id: str) -> None:
        old = self._contacts.pop(contact_id, None)
        if old is None:
            return
        for email in old.emails:
            ids = self._by_email.get(email)
            if ids is not None:
                ids.discard(contact_id)
                if not ids:
                    del self._by_email[email]

    def find(self, email: str) -> list[Contact]:
        """Contacts with this address; active ones first."""
        ids = self._by_email.get(email.strip().lower(), set())
        return sorted((self._contacts[i] for i in ids), key=lambda c: (c.archived, c.id))

    def __len__(self) -> int:
        return len(self._contacts)
