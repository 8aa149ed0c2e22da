"""Workflows: the options a run was started with, and the Temporal run executing it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workflows",
        sa.Column("options", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.add_column("workflows", sa.Column("temporal_run_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("workflows", "temporal_run_id")
    op.drop_column("workflows", "options")
