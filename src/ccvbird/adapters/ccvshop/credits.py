"""CCV credit invoices (``GET /invoices`` with ``type`` credit, and their rows) as domain credits.

CCV documents the invoice ``status`` as 1 paid, 2 unpaid, 3 reimbursed while its filter takes
the words (``ccvshop-api.md`` §5.1, §10 item 9): both are read. The sign of a credit's amounts
is not documented: :func:`ccvbird.domain.credits.normalised` accepts either.
"""

from __future__ import annotations

from ccvbird.adapters.ccvshop.resources import Invoice, InvoiceRow
from ccvbird.domain.credits import CcvCredit, CcvCreditRow, CcvCreditStatus, normalised

_STATUSES = {
    "1": CcvCreditStatus.PAID,
    "2": CcvCreditStatus.UNPAID,
    "3": CcvCreditStatus.REIMBURSED,
    "paid": CcvCreditStatus.PAID,
    "unpaid": CcvCreditStatus.UNPAID,
    "reimbursed": CcvCreditStatus.REIMBURSED,
    "refunded": CcvCreditStatus.REIMBURSED,
}


def credit_status(invoice: Invoice) -> CcvCreditStatus:
    """The status word; an unknown one counts as unpaid (no money known to have moved)."""
    for value in (invoice.status, invoice.status_name):
        found = _STATUSES.get(value.strip().lower())
        if found is not None:
            return found
    return CcvCreditStatus.UNPAID


def credit_from_invoice(invoice: Invoice, rows: list[InvoiceRow], *, order_id: str) -> CcvCredit:
    """The credit ``invoice`` (of ``order_id``) with its ``rows``, amounts made positive."""
    return normalised(
        CcvCredit(
            invoice_id=invoice.id,
            number=invoice.invoicenumber_full or invoice.invoicenumber or invoice.id,
            order_id=invoice.order or order_id,
            created_at=invoice.create_date,
            status=credit_status(invoice),
            rows=tuple(
                CcvCreditRow(
                    row_id=row.id,
                    orderrow_id=row.orderrow,
                    name=row.product_name,
                    count=row.count,
                    price=row.price,
                    vat_percentage=row.tax,
                    total=row.total_price_with_attributes or row.total_price,
                )
                for row in rows
            ),
            total=invoice.total_price,
            currency=invoice.currency,
            shipping=invoice.total_shipping,
            payment_costs=invoice.paymethod_costs,
            payment_option_price=invoice.extra_payment_option_price,
            extra_costs=invoice.extra_costs,
            discounts=invoice.total_discounts,
            credit_point_discount=invoice.credit_point_discount,
        )
    )
