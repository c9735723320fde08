"""reasons as a code and its facts: order reasons, pause reasons and log lines (issue 12)

The engine used to store *why* as a finished English sentence, which a Dutch page then showed
as it was. Now it stores a code (``domain/reasons.py``) with its parameters as a JSON object of
strings, and each page words it in the reader's language; the English sentence is still kept.

* ``order_records.reason_params``: the facts behind ``reason_code``; NULL for a record written
  before this revision (pages then fall back, see docs/web.md);
* ``connections.paused_code`` / ``paused_params``: why a connection is paused;
* ``order_events.code`` / ``params``: the message of a log line.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-20 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_records") as batch:
        batch.add_column(sa.Column("reason_params", sa.Text(), nullable=True))
    with op.batch_alter_table("connections") as batch:
        batch.add_column(
            sa.Column("paused_code", sa.String(length=60), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("paused_params", sa.Text(), nullable=True))
    with op.batch_alter_table("order_events") as batch:
        batch.add_column(sa.Column("code", sa.String(length=60), server_default="", nullable=False))
        batch.add_column(sa.Column("params", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("params")
        batch.drop_column("code")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("paused_params")
        batch.drop_column("paused_code")
    with op.batch_alter_table("order_records") as batch:
        batch.drop_column("reason_params")
