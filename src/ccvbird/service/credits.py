"""Booking the credits of a booked order, each exactly once (``docs/engine.md``, credits).

Every step is committed before its call (an intent) and after it (its result), as for invoices.
After a lost answer the credit is adopted, never made again: by its own reference
(``1001-C1``) once it has one in Moneybird, and before that — a ``duplicate_creditinvoice``
whose answer was lost still carries the original's reference — as the draft credit of the
original invoice that Moneybird holds.

A credit with bad input is parked with a code and its parameters; the order's other credits,
its invoice and every other order go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from ccvbird.domain.booked import shop_date
from ccvbird.domain.credit_records import CreditRecord, CreditState, CreditStep
from ccvbird.domain.credits import (
    CANCEL_KEY,
    CancellationPolicy,
    CcvCredit,
    CreditPolicy,
    CreditProblemCode,
    CreditResult,
    SettleMethod,
    credit_reference,
    map_cancellation,
    map_credit,
    order_as_booked,
)
from ccvbird.domain.errors import NotFound, TransientError
from ccvbird.domain.mapping import invoice_reference, map_order
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.order import STATUS_CANCELLED, Order
from ccvbird.domain.profile import InvoiceKind, MappingProfile
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import OrderRecord, RemoteInvoice
from ccvbird.ports import Books, Clock, PaymentDraft, Shop, Store

log = logging.getLogger(__name__)


@dataclass
class CreditBooker:
    """Books the credits of one connection's booked orders."""

    store: Store
    shop: Shop
    books: Books
    clock: Clock
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=30)

    def sync_credits(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        *,
        read_ccv: bool,
        cancel: bool = False,
        found: list[CcvCredit] | None = None,
    ) -> list[CreditRecord]:
        """Find the order's credits (``read_ccv``: ask CCV for its credit invoices, one request;
        ``found``: they were read already in this sync) and book each one not booked yet.
        ``cancel``: a person said "credit it" for a cancelled order. The order ``record`` must
        be booked."""
        policy = profile.credits
        reference = invoice_reference(order, profile)
        credits: dict[str, CcvCredit] = {}
        if found is not None:
            credits = {c.key: c for c in found}
        elif read_ccv:
            credits = {c.key: c for c in self.shop.credits(order)}
        known = {
            r.credit_key: r for r in self.store.credit_records(record.connection_id, order.order_id)
        }
        for key in credits:
            if key not in known:
                known[key] = self.store.credit_record(
                    record.connection_id,
                    order.order_id,
                    key,
                    lambda seq: credit_reference(reference, seq),
                )
        cancelled = order.status == STATUS_CANCELLED and not credits
        if (
            cancelled
            and CANCEL_KEY not in known
            and (cancel or policy.cancellations is CancellationPolicy.CREDIT)
        ):
            known[CANCEL_KEY] = self.store.credit_record(
                record.connection_id, order.order_id, CANCEL_KEY,
                lambda seq: credit_reference(reference, seq),
            )  # fmt: skip
        done = []
        for credit_record in sorted(known.values(), key=lambda r: r.seq):
            if credit_record.state in (CreditState.BOOKED, CreditState.PARKED):
                done.append(credit_record)
                continue
            ccv = credits.get(credit_record.credit_key)
            if (
                ccv is None
                and credit_record.credit_key != CANCEL_KEY
                and credit_record.credit_id is None
            ):
                done.append(credit_record)  # not read this time: taken up when it is
                continue
            booked = self.as_booked(record, order, profile, list(credits.values()))
            done.append(self._book(record, booked, profile, policy, credit_record, ccv, known))
        return done

    @staticmethod
    def as_booked(
        record: OrderRecord, order: Order, profile: MappingProfile, credits: list[CcvCredit]
    ) -> Order:
        """The order as it was booked: as read now when CCV left it as it was, else with its
        credits added back (a shop edits the order before CCV invoices the difference;
        :func:`order_as_booked`). Whichever maps to the booked invoice (its fingerprint);
        when neither does, the order as read — its credits then park with the reason."""
        if not credits or record.fingerprint is None:
            return order
        booking_date = record.invoice_date
        if map_order(order, profile, booking_date=booking_date).draft.fingerprint() == (
            record.fingerprint
        ):
            return order
        before = order_as_booked(order, credits)
        if map_order(before, profile, booking_date=booking_date).draft.fingerprint() == (
            record.fingerprint
        ):
            return before
        return order

    def note_waiting(
        self, record: OrderRecord, order: Order, profile: MappingProfile, found: list[CcvCredit]
    ) -> list[CreditRecord]:
        """Record the credits of an order that is not booked yet: they wait (state ``waiting``,
        with what CCV credited) and are booked right after the order's own invoice."""
        reference = invoice_reference(order, profile)
        noted = []
        for ccv in found:
            credit = self.store.credit_record(
                record.connection_id, order.order_id, ccv.key,
                lambda seq: credit_reference(reference, seq),
            )  # fmt: skip
            if credit.state is CreditState.WAITING and credit.total != ccv.total:
                credit.total = ccv.total
                credit.reason_code = "original_not_booked"
                credit.reason = (
                    f"Waiting for the order's invoice: CCV credit {ccv.number} is booked right "
                    "after it."
                )
                self.store.save_credit(credit, "credit.waiting", _step("waiting", credit))
            noted.append(credit)
        return noted

    # -- one credit -------------------------------------------------------------------------------

    def _book(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        policy: CreditPolicy,
        credit: CreditRecord,
        ccv: CcvCredit | None,
        known: dict[str, CreditRecord],
    ) -> CreditRecord:
        try:
            return self._steps(record, order, profile, policy, credit, ccv, known)
        except TransientError as exc:
            credit.attempts += 1
            if credit.attempts >= self.max_attempts:
                return self._park(
                    credit,
                    "keeps_failing",
                    f"Booking the credit failed {credit.attempts} times: {exc}.",
                    {},
                )
            credit.state = CreditState.BOOKING
            credit.next_attempt_at = self.clock.now() + self.base_backoff * (
                2 ** (credit.attempts - 1)
            )
            credit.reason, credit.reason_code = f"Temporary problem, retrying: {exc}", "transient"
            self.store.save_credit(credit, "credit.retry", _step("retry", credit, error=str(exc)))
            return credit

    def _steps(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        policy: CreditPolicy,
        credit: CreditRecord,
        ccv: CcvCredit | None,
        known: dict[str, CreditRecord],
    ) -> CreditRecord:
        if record.invoice_id is None:
            return self._park(
                credit, CreditProblemCode.ORIGINAL_BOOKED_ELSEWHERE.value,
                "The order was not booked by this connection, so its credit is not booked "
                "either: credit it in Moneybird where the invoice is.", {},
            )  # fmt: skip
        result = self._map(order, profile, credit, ccv, known, booked_total=record.booked_total)
        if credit.credit_id is None and not credit.credit_intent and not result.ok:
            first = result.problems[0]
            message = " ".join(p.message for p in result.problems)
            return self._park(credit, first.code.value, message, dict(first.params))
        external = profile.invoice_kind is InvoiceKind.EXTERNAL_SALES_INVOICE
        if credit.state is not CreditState.BOOKING:
            credit.state, credit.reason, credit.reason_code = CreditState.BOOKING, "", ""
            credit.kind = "external_sales_invoice" if external else "sales_invoice"
            credit.total = result.amount
            credit.vat = result.vat_by_percentage()
            credit.quantities = dict(result.quantities)
        credit.next_attempt_at = self.clock.now() + timedelta(minutes=5)
        invoice: RemoteInvoice | None = None
        if credit.next_step is CreditStep.CREATE:
            invoice = self._create(record, credit, result)
            if invoice is None:
                return credit
        if credit.next_step is CreditStep.EDIT:
            invoice = self._edit(credit, result, invoice)
        if credit.next_step is CreditStep.SEND:
            credit.send_intent = True
            self.store.save_credit(credit, "credit.send", _step("send", credit))
            assert credit.credit_id is not None
            invoice = self.books.send_invoice(credit.credit_id)
            credit.sent, credit.send_intent = True, False
        if credit.next_step is CreditStep.SETTLE:
            self._settle(record, order, profile, policy, credit, ccv)
        credit.state, credit.next_attempt_at, credit.attempts = CreditState.BOOKED, None, 0
        credit.reason, credit.reason_code, credit.reason_params = "", "", {}
        self.store.save_credit(
            credit, "credit.booked",
            _step(
                "booked", credit, total_amount=f"-{format_amount(credit.total or ZERO)}",
                currency=order.currency, settle_part=_settled(credit.settle_method),
            ),
        )  # fmt: skip
        return credit

    def _map(
        self,
        order: Order,
        profile: MappingProfile,
        credit: CreditRecord,
        ccv: CcvCredit | None,
        known: dict[str, CreditRecord],
        *,
        booked_total: Decimal | None,
    ) -> CreditResult:
        others = [
            r
            for r in known.values()
            if r.seq != credit.seq and r.counts_against_order and r.seq < credit.seq
        ]
        booked = booked_total if booked_total is not None else order.total_paid
        remaining = booked - sum((r.total or ZERO for r in others), ZERO)
        already: dict[str, Decimal] = {}
        for other in others:
            for row_id, quantity in other.quantities.items():
                already[row_id] = already.get(row_id, ZERO) + quantity
        reference = invoice_reference(order, profile)
        if ccv is None:
            return map_cancellation(
                order, profile, original_reference=reference, seq=credit.seq,
                remaining=remaining, booked_total=booked,
                credit_date=shop_date(self.clock.now(), profile.timezone),
            )  # fmt: skip
        return map_credit(
            order, ccv, profile, original_reference=reference, seq=credit.seq,
            remaining=remaining, already_credited=already,
            credit_date=shop_date(ccv.created_at, profile.timezone),
        )  # fmt: skip

    def _create(
        self, record: OrderRecord, credit: CreditRecord, result: CreditResult
    ) -> RemoteInvoice | None:
        assert record.invoice_id is not None
        if credit.credit_intent:
            found = self._adopt(record, credit, result)
            if found is not None:
                return found
        credit.credit_intent = True
        self.store.save_credit(credit, "credit.create", _step("create", credit))
        try:
            if credit.external:
                made = self.books.create_invoice(
                    result.draft, contact_id=_contact(record), external=True
                )
                credit.edited = True
            else:
                made = self.books.duplicate_credit(record.invoice_id)
        except NotFound:
            self._park(
                credit, CreditProblemCode.ORIGINAL_INVOICE_DELETED.value,
                f"The original invoice (id {record.invoice_id}) is no longer in Moneybird, so "
                "it cannot be credited.", {"invoice_id": record.invoice_id},
            )  # fmt: skip
            return None
        credit.credit_id, credit.credit_intent = made.id, False
        self.store.save_credit(
            credit, "credit.created", _step("created", credit, invoice_id=made.id)
        )
        return made

    def _adopt(
        self, record: OrderRecord, credit: CreditRecord, result: CreditResult
    ) -> RemoteInvoice | None:
        """The credit a lost answer may have made: by its own reference, else (sales invoices)
        as the original's draft credit still carrying the original's reference."""
        assert record.invoice_id is not None
        own = self.books.find_invoice(
            credit.reference, contact_id=record.contact_id, external=credit.external,
            invoice_date=result.draft.invoice_date,
        )  # fmt: skip
        if own is not None:
            credit.credit_id, credit.credit_intent = own.id, False
            credit.edited = True
            credit.sent = credit.sent or not own.is_draft
            self.store.save_credit(credit, "credit.adopted", _step("adopted", credit))
            return own
        if not credit.external:
            original = credit.reference.rsplit("-C", 1)[0]
            drafts = self.books.find_credit_drafts(original, record.invoice_id)
            if drafts:
                credit.credit_id, credit.credit_intent = drafts[0].id, False
                self.store.save_credit(credit, "credit.adopted", _step("adopted", credit))
                return drafts[0]
        return None

    def _edit(
        self, credit: CreditRecord, result: CreditResult, invoice: RemoteInvoice | None
    ) -> RemoteInvoice:
        assert credit.credit_id is not None
        if credit.edit_intent or invoice is None:
            invoice = self.books.get_invoice(credit.credit_id, external=False)
            if invoice.reference == credit.reference:
                credit.edited, credit.edit_intent = True, False
                return invoice
        credit.edit_intent = True
        self.store.save_credit(credit, "credit.edit", _step("edit", credit))
        edited = self.books.rewrite_credit(invoice, result.draft)
        credit.edited, credit.edit_intent = True, False
        return edited

    def _settle(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        policy: CreditPolicy,
        credit: CreditRecord,
        ccv: CcvCredit | None,
    ) -> None:
        assert credit.credit_id is not None
        method = policy.settle_method(order, original_paid=record.payment_id is not None)
        credit.settle_method = method.value
        if credit.settle_intent:
            current = self.books.get_invoice(credit.credit_id, external=credit.external)
            if current.payment_ids:
                credit.settlement_id, credit.settle_intent = current.payment_ids[-1], False
                return
        credit.settle_intent = True
        self.store.save_credit(
            credit, "credit.settle", _step("settle", credit, settle_part=_settled(method.value))
        )
        if method is SettleMethod.SET_OFF and not credit.external:
            settled = self.books.settle_credit(credit.credit_id)
            credit.settlement_id = settled.payment_ids[-1] if settled.payment_ids else "set-off"
        else:
            current = self.books.get_invoice(credit.credit_id, external=credit.external)
            day = shop_date(self.clock.now(), profile.timezone)
            if method is SettleMethod.SET_OFF:
                # External: the spec's way is a payment on the credit that settles it against
                # the original (``manual_payment_action = "invoices_settlement"``).
                assert record.invoice_id is not None
                payment = PaymentDraft(
                    payment_date=day, amount=current.total_unpaid, financial_account_id=None,
                    transaction_id=credit.reference, manual_payment_action="invoices_settlement",
                    settles_invoice_id=record.invoice_id,
                )  # fmt: skip
            else:
                payment = PaymentDraft(
                    payment_date=day,
                    amount=current.total_unpaid,
                    financial_account_id=policy.refund_account(
                        order, payment_account=profile.payment_account_for(order)
                    ),
                    transaction_id=credit.reference,
                )
            credit.settlement_id = self.books.register_payment(
                current, payment, external=credit.external
            )
        credit.settle_intent = False

    def _park(
        self, credit: CreditRecord, code: str, reason: str, params: dict[str, str]
    ) -> CreditRecord:
        credit.state, credit.reason, credit.reason_code = CreditState.PARKED, reason, code
        credit.reason_params, credit.next_attempt_at = params, None
        self.store.save_credit(credit, "credit.parked", _step("parked", credit))
        return credit


def _step(name: str, credit: CreditRecord, **facts: str) -> Reason:
    """A credit's line on its order's log: a code and its facts, worded by the reader's page."""
    return Reason(f"event.credit.{name}", {"reference": credit.reference, **facts})


def _settled(method: str) -> str:
    """The ``settle_part`` of a refund or a set-off."""
    return "event.credit.settle.set_off" if method == "set_off" else "event.credit.settle.refund"


def _contact(record: OrderRecord) -> str:
    if record.contact_id is None:
        raise ValueError(f"order {record.order_id} has no contact")
    return record.contact_id


__all__ = ["CreditBooker"]
