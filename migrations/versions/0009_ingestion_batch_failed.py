"""ingestion batch: status failed (the job failed for a system reason; the batch may be re-sent)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_ingestion_batch_status"), "ingestion_batch", type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_batch_status"), "ingestion_batch", "status in ('pending', 'done', 'refused', 'failed')"
    )


def downgrade() -> None:
    op.execute("update ingestion_batch set status = 'refused' where status = 'failed'")
    op.drop_constraint(op.f("ck_ingestion_batch_status"), "ingestion_batch", type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_batch_status"), "ingestion_batch", "status in ('pending', 'done', 'refused')"
    )
