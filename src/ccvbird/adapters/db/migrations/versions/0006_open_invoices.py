"""order records keep their invoice date and the date of a later payment

``invoice_date``: the invoice date an order was booked with, so reading a booked order again
compares what the shop can change, not the day it is read (profile ``invoice_date =
"booking_date"``). ``payment_date``: for an order invoiced while unpaid (``require_paid =
false``), the day ccvbird first saw CCV say it is paid; its payment is dated with it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("payment_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.drop_column("payment_date")
        batch_op.drop_column("invoice_date")
