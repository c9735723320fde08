"""One Moneybird contact per customer e-mail, found before it is ever created.

Moneybird does not make e-mail addresses unique, so ccvbird does: a local map from normalised
e-mail to contact id answers repeat customers without a request. For a new customer the local
*directory* of Moneybird's contacts (kept current through Moneybird's synchronization endpoints:
one request lists every contact's version, changed ones are fetched 100 per request) says
whether the administration already has them — so a new customer costs one create, not a search
plus a create. The directory is refreshed when it is older than ``refresh_after``.

After an uncertain create (a timeout: did it happen?) the contact is searched by e-mail and
adopted instead of created twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ccvbird.domain.invoice import ContactDraft
from ccvbird.domain.profile import GuestPolicy, MappingProfile
from ccvbird.domain.sync import OrderRecord, RemoteContact, normalise_email
from ccvbird.ports import Books, Clock, Store

#: The key of the collective contact for guests who left no e-mail address.
GUEST_KEY = "__guests__"


@dataclass
class ContactResolver:
    store: Store
    books: Books
    clock: Clock
    refresh_after: timedelta = timedelta(minutes=10)
    #: How an intent is committed (the engine's journal); default: save at once.
    commit: Callable[[OrderRecord, str, str], None] | None = None
    #: How a new e-mail → contact mapping is kept (the engine's: with its next save, which
    #: follows before any other request); default: at once.
    remember: Callable[[int, str, str], None] | None = None

    def resolve(
        self, record: OrderRecord, contact: ContactDraft, profile: MappingProfile | None = None
    ) -> str:
        """The Moneybird contact id for this order's customer, creating the contact if needed.

        A guest without an e-mail address gets the profile's collective guest contact (an
        existing one when ``guest_contact_id`` is set), or a contact of their own per order.
        """
        connection = record.connection_id
        profile = profile or MappingProfile()
        if contact.email:
            key = normalise_email(contact.email)
        elif profile.guests_without_email is GuestPolicy.PER_ORDER:
            key = f"__order__:{record.order_id}"
        else:
            if profile.guest_contact_id:
                return profile.guest_contact_id
            key = GUEST_KEY
        found = self.store.find_contact(connection, key)
        if found.contact_id is not None:
            return found.contact_id
        if record.contact_intent:
            adopted = self._search(contact.email) if contact.email else None
            if adopted is not None:
                (self.remember or self.store.remember_contact)(connection, key, adopted.id)
                return adopted.id
        elif contact.email and self._refresh_if_stale(connection, found.directory_refreshed_at):
            known = self.store.contact_id_for(connection, key)
            if known is not None:
                return known
        record.contact_intent = True
        (self.commit or self.store.save)(
            record, "contact.create", "creating the customer's contact in Moneybird"
        )
        draft = contact if contact.email or key != GUEST_KEY else _guest_contact()
        try:
            created = self.books.create_contact(draft)
        except BaseException:
            # The contact may exist now without us knowing its id: the directory is no longer
            # a complete picture, so the next new customer re-reads it before creating.
            self.store.invalidate_contact_directory(connection)
            raise
        (self.remember or self.store.remember_contact)(connection, key, created.id)
        return created.id

    def _refresh_if_stale(self, connection_id: int, refreshed_at: datetime | None) -> bool:
        """Bring the local directory of Moneybird contacts up to date when it was last
        refreshed (``refreshed_at``; ``None``: never, or invalidated) ``refresh_after`` ago.

        Returns whether it was re-read (only then can a lookup that just missed now hit).
        """
        now = self.clock.now()
        if refreshed_at is not None and now - refreshed_at < self.refresh_after:
            return False
        versions = self.store.contact_directory(connection_id)
        remote = self.books.contact_versions()
        changed = [cid for cid, version in remote.items() if versions.get(cid) != version]
        removed = [cid for cid in versions if cid not in remote]
        contacts = self.books.contacts(changed) if changed else []
        self.store.update_contact_directory(connection_id, contacts, removed, now)
        return True

    def _search(self, email: str) -> RemoteContact | None:
        matches = self.books.find_contacts_by_email(email)
        active = [c for c in matches if not c.archived]
        chosen = sorted(active or matches, key=lambda c: (len(c.id), c.id))
        return chosen[0] if chosen else None


def _guest_contact() -> ContactDraft:
    return ContactDraft(email="", company_name="Webshopklanten zonder e-mailadres")
