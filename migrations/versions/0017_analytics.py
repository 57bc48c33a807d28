"""hospital analytics: summary cells and their refreshes

analytics_cell: a region's year per hospital, discharge month, discharge department and DRG, the
additive figures the analytics views sum (dianshu.analytics.models); analytics_month: the same sums without the DRG; analytics_refresh: what each
region's year was last computed from. Both tenant-scoped under forced RLS, the cells hospital-scoped
too. The refresh job replaces a region's year of cells (select, insert, delete) and upserts its
refresh row (select, insert, update).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from dianshu.db import rls

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=16, scale=2)
WEIGHT = sa.Numeric(precision=18, scale=6)


def upgrade() -> None:
    count = sa.Integer()
    cell_columns = [
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("department", sa.String(length=50), nullable=False),
        sa.Column("drg", sa.String(length=8), nullable=False),
        sa.Column("cases", count, nullable=False),
        sa.Column("grouped", count, nullable=False),
        sa.Column("weighed", count, nullable=False),
        sa.Column("rw_sum", WEIGHT, nullable=False),
        sa.Column("weighed_cost", MONEY, nullable=False),
        sa.Column("expected_cost", MONEY, nullable=False),
        sa.Column("days", count, nullable=False),
        sa.Column("peer_days", count, nullable=False),
        sa.Column("expected_days", WEIGHT, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("drugs", MONEY, nullable=False),
        sa.Column("materials", MONEY, nullable=False),
        sa.Column("own_pay", MONEY, nullable=False),
        sa.Column("run_cases", count, nullable=False),
        sa.Column("points", sa.Numeric(precision=16, scale=4), nullable=False),
        sa.Column("high_outliers", count, nullable=False),
        sa.Column("low_outliers", count, nullable=False),
        sa.Column("priced_cases", count, nullable=False),
        sa.Column("priced_cost", MONEY, nullable=False),
        sa.Column("payment", sa.Numeric(), nullable=False),
        sa.Column("over_cases", count, nullable=False),
        sa.Column("over_amount", MONEY, nullable=False),
        sa.Column("severe_cases", count, nullable=False),
        sa.Column("severe_cost", MONEY, nullable=False),
    ]
    op.create_table(
        "analytics_cell",
        *[c._copy() for c in cell_columns],
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_analytics_cell_tenant_id_tenant")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "year", "hospital_id", "month", "department", "drg", name=op.f("pk_analytics_cell")
        ),
    )
    # The same sums without the DRG (per hospital, month and department): what a dashboard that
    # does not break down by DRG reads (a hundredth of the cells).
    op.create_table(
        "analytics_month",
        *[c._copy() for c in cell_columns if c.name != "drg"],
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_analytics_month_tenant_id_tenant")),
        sa.PrimaryKeyConstraint(
            "tenant_id", "year", "hospital_id", "month", "department", name=op.f("pk_analytics_month")
        ),
    )
    op.create_table(
        "analytics_refresh",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("points_run_id", sa.Uuid(), nullable=True),
        sa.Column("standard_id", sa.Uuid(), nullable=False),
        sa.Column("scheme_version_id", sa.Uuid(), nullable=False),
        sa.Column("point_values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("refreshed_by", sa.String(length=200), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_analytics_refresh_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_analytics_refresh")),
    )

    app = context.config.attributes["app_role"]
    for stmt in (
        *rls.protect("analytics_cell", "hospital_id"),
        *rls.protect("analytics_month", "hospital_id"),
        *rls.protect("analytics_refresh"),
        rls.grant("analytics_cell", app, "select, insert, delete"),
        rls.grant("analytics_month", app, "select, insert, delete"),
        rls.grant("analytics_refresh", app, "select, insert, update"),
    ):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("analytics_refresh")
    op.drop_table("analytics_month")
    op.drop_table("analytics_cell")
