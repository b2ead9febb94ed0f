"""change log: which records each write changed, so replicas catch up incrementally

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 07:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "changelog",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("record", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_autoincrement=True,
    )
    # Existing stores start with an empty log: replicas rebuild once, then follow it.
    with op.batch_alter_table("storestate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trimmed_through", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("storestate", schema=None) as batch_op:
        batch_op.drop_column("trimmed_through")
    op.drop_table("changelog")
