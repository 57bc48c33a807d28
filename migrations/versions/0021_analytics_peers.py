"""analytics: the time index's peer pool among a refresh's stored inputs

analytics_refresh.peers: the regions whose cases were the time index's peers when the region's year
was computed (the evaluation peer scope: the region alone, or every region of the city), so the
status reports a change of peer scope alone as stale. Null on rows written before: the status says
so (stale) until the next refresh records them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("analytics_refresh", sa.Column("peers", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("analytics_refresh", "peers")
