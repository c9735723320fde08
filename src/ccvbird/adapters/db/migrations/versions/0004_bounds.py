"""connections: why the last poll failed

``ccvbird status`` says why a sync failed when a poll fails for a reason of the whole connection
(the shop unreachable, its order list unreadable); a successful poll clears it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_error", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("last_error_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("last_error_at")
        batch_op.drop_column("last_error")
