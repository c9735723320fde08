"""credits: one record per credit of a booked order (issue 11)

A CCV credit invoice, or the cancellation of a booked order, becomes one Moneybird credit
invoice; ``credit_records`` keeps each one's steps (intents before calls, results after) so it
is booked exactly once, and its number within the order (``seq``) so its reference is fixed.

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("credit_key", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=60), nullable=False),
        sa.Column("reason_params", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("credit_intent", sa.Boolean(), nullable=False),
        sa.Column("credit_id", sa.String(length=40), nullable=True),
        sa.Column("edit_intent", sa.Boolean(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("send_intent", sa.Boolean(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("settle_intent", sa.Boolean(), nullable=False),
        sa.Column("settle_method", sa.String(length=20), nullable=False),
        sa.Column("settlement_id", sa.String(length=40), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("vat", sa.Text(), nullable=False),
        sa.Column("quantities", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_credit_records_connection_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_records")),
        sa.UniqueConstraint(
            "connection_id",
            "order_id",
            "credit_key",
            name=op.f("uq_credit_records_connection_id_order_id_credit_key"),
        ),
        sa.UniqueConstraint(
            "connection_id",
            "order_id",
            "seq",
            name=op.f("uq_credit_records_connection_id_order_id_seq"),
        ),
    )
    op.create_index(
        "ix_credit_records_state", "credit_records", ["connection_id", "state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_credit_records_state", table_name="credit_records")
    op.drop_table("credit_records")
