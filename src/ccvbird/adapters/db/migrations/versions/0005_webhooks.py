"""webhooks: queued deliveries, the Moneybird webhook's own token, App Store keys seen

* ``webhook_deliveries.queued`` — a delivery recorded but not queued (the queue failed) is let
  through again when CCV repeats it; deliveries recorded before count as queued.
* ``connections.moneybird_webhook_token`` — the Moneybird webhook's address gets its own token.
  Every existing connection gets one here; a Moneybird webhook registered before keeps
  working at its old address (the CCV token) until it is registered again.
* ``app_store_keys`` — a digest of every API key set an App Store handshake handed over, so a
  replayed handshake is refused. Seeded with the keys the connections hold now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_store_keys",
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_app_store_keys_connection_id")
        ),
        sa.PrimaryKeyConstraint("key_digest", name=op.f("pk_app_store_keys")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queued", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moneybird_webhook_token", sa.String(length=100), nullable=True)
        )
    # A unique index, not a constraint: SQLite adds it without rebuilding the table (which the
    # foreign keys to ``connections`` would refuse).
    op.create_index(
        op.f("ix_connections_moneybird_webhook_token"),
        "connections",
        ["moneybird_webhook_token"],
        unique=True,
    )

    bind = op.get_bind()
    connections = sa.table(
        "connections",
        sa.column("id", sa.Integer()),
        sa.column("ccv_public", sa.String()),
        sa.column("moneybird_webhook_token", sa.String()),
    )
    keys = sa.table(
        "app_store_keys",
        sa.column("key_digest", sa.String()),
        sa.column("connection_id", sa.Integer()),
        sa.column("handed_over_at", sa.DateTime()),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    for connection_id, ccv_public in bind.execute(
        sa.select(connections.c.id, connections.c.ccv_public)
    ).all():
        bind.execute(
            connections.update()
            .where(connections.c.id == connection_id)
            .values(moneybird_webhook_token=secrets.token_urlsafe(24))
        )
        bind.execute(
            keys.insert().values(
                key_digest=hashlib.sha256(ccv_public.encode()).hexdigest(),
                connection_id=connection_id,
                handed_over_at=now,
            )
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_connections_moneybird_webhook_token"), table_name="connections")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("moneybird_webhook_token")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("queued")
    op.drop_table("app_store_keys")
