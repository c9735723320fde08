"""due retries: an index on the time each booking is looked at again

The scheduler asks "which bookings of this connection are due?" every minute; the index on
(connection_id, next_attempt_at) answers that without reading every record, however old the
orders are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_order_records_next_attempt_at",
        "order_records",
        ["connection_id", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_order_records_next_attempt_at", table_name="order_records")
