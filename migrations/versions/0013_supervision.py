"""supervision findings: supervision_finding and supervision_finding_case (issue 12)

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from dianshu.db import rls

revision: str = "0013"
down_revision: str | None = "0012b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_finding",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("figure", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("threshold", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("peer_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_run", sa.Uuid(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=True),
        sa.Column("priority", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.CheckConstraint("state in ('open', 'confirmed', 'dismissed')", name=op.f("ck_supervision_finding_state")),
        sa.CheckConstraint("severity in ('low', 'medium', 'high')", name=op.f("ck_supervision_finding_severity")),
        sa.CheckConstraint("level in ('case', 'hospital')", name=op.f("ck_supervision_finding_level")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "hospital_id"],
            ["hospital.tenant_id", "hospital.id"],
            name=op.f("fk_supervision_finding_tenant_id_hospital_id_hospital"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_supervision_finding")),
        sa.UniqueConstraint("tenant_id", "fingerprint", name=op.f("uq_supervision_finding_tenant_id_fingerprint")),
    )
    op.create_index(
        "ix_supervision_finding_year", "supervision_finding", ["tenant_id", "year", "rule", "state"], unique=False
    )
    op.create_index(
        "ix_supervision_finding_hospital", "supervision_finding", ["tenant_id", "hospital_id", "year"], unique=False
    )
    op.create_table(
        "supervision_finding_case",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("finding_id", sa.Uuid(), nullable=False),
        sa.Column("list_id", sa.String(length=50), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "finding_id"],
            ["supervision_finding.tenant_id", "supervision_finding.id"],
            name=op.f("fk_supervision_finding_case_tenant_id_finding_id_supervision_finding"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "finding_id", "list_id", name=op.f("pk_supervision_finding_case")),
    )
    app = context.config.attributes["app_role"]
    for stmt in (
        # A hospital user sees its own hospital's findings and their cases; the region all of its own.
        *rls.protect("supervision_finding", "hospital_id"),
        *rls.protect("supervision_finding_case", "hospital_id"),
        rls.grant("supervision_finding", app, "select, insert, update"),
        rls.grant("supervision_finding_case", app, "select, insert, update, delete"),
    ):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("supervision_finding_case")
    op.drop_index("ix_supervision_finding_hospital", table_name="supervision_finding")
    op.drop_index("ix_supervision_finding_year", table_name="supervision_finding")
    op.drop_table("supervision_finding")
