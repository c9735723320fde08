"""lease fencing: a token per lease, a version per order record

A worker whose lease on a connection ran out (a long wait for Moneybird's budget, a stalled
process) must not write any more. Every acquisition now gets a new ``lease_token``; the engine's
writes check it in their own transaction. ``order_records.version`` counts saves, so a worker
saves a record only over the version it read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=64), nullable=True))
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("order_records", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
