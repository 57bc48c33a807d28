"""job.worker: which worker process runs (or last ran) a job

`host:pid` of the worker process that started the job's latest attempt, written with the attempt's
start: an operator (and the failure drills) can tell which process holds a running job. The job
table's grants and row-level security are unchanged (its runtime role already updates it).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job", sa.Column("worker", sa.String(length=120), nullable=True))


def downgrade() -> None:
    op.drop_column("job", "worker")
