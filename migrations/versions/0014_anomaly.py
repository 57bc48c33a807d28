"""supervision signals (PEPPER-style) and the anomaly ranking

signal_run and hospital_signal: hospital-level signals per run; anomaly_run, case_anomaly and
hospital_anomaly: the anomaly model's runs and scores. Every table tenant-scoped under forced RLS, the
per-hospital and per-case rows hospital-scoped too. Runs are written once (select, insert only).

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from dianshu.db import rls

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEATURE_VALUE = sa.Numeric(precision=14, scale=4)


def _run_columns() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "signal_run",
        *_run_columns(),
        sa.Column("first_year", sa.SmallInteger(), nullable=False),
        sa.Column("peers", sa.String(length=8), nullable=False),
        sa.Column("requested_tenant", sa.String(length=12), nullable=False),
        sa.Column("standard_id", sa.Uuid(), nullable=False),
        sa.Column("scheme_version_id", sa.Uuid(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("hospitals", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("peers in ('region', 'city')", name=op.f("ck_signal_run_peers")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_signal_run_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_signal_run")),
    )
    op.create_index("ix_signal_run_year", "signal_run", ["tenant_id", "year", "created_at"])
    op.create_table(
        "hospital_signal",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("numerator", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("denominator", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("peers", sa.Integer(), nullable=False),
        sa.Column("percentile", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("flag", sa.String(length=4), nullable=True),
        sa.Column("trend", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("priority", sa.Numeric(precision=16, scale=4), nullable=True),
        sa.CheckConstraint("flag in ('high', 'low')", name=op.f("ck_hospital_signal_flag")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["signal_run.tenant_id", "signal_run.id"],
            name=op.f("fk_hospital_signal_tenant_id_run_id_signal_run"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "hospital_id", "year", "area", name=op.f("pk_hospital_signal")),
    )
    op.create_index("ix_hospital_signal_hospital", "hospital_signal", ["tenant_id", "hospital_id", "year"])
    op.create_table(
        "anomaly_run",
        *_run_columns(),
        sa.Column("requested_tenant", sa.String(length=12), nullable=False),
        sa.Column("standard_id", sa.Uuid(), nullable=False),
        sa.Column("scheme_version_id", sa.Uuid(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("n_cases", sa.Integer(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_anomaly_run_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_anomaly_run")),
    )
    op.create_index("ix_anomaly_run_year", "anomaly_run", ["tenant_id", "year", "created_at"])
    drivers = []
    for k in (1, 2, 3):
        drivers += [
            sa.Column(f"driver_{k}", sa.String(length=24), nullable=False),
            sa.Column(f"driver_{k}_value", FEATURE_VALUE, nullable=False),
            sa.Column(f"driver_{k}_median", FEATURE_VALUE, nullable=False),
        ]
    op.create_table(
        "case_anomaly",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("list_id", sa.String(length=50), nullable=False),
        sa.Column("drg", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        *drivers,
        # No foreign key to anomaly_run (like case_point to points_run): a run writes a million rows
        # at once, and a per-row reference check would cost more than the rest of the insert.
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "case_id", name=op.f("pk_case_anomaly")),
    )
    op.create_index("ix_case_anomaly_rank", "case_anomaly", ["tenant_id", "run_id", "rank"])
    op.create_table(
        "hospital_anomaly",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("mean_score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("top_decile_cases", sa.Integer(), nullable=False),
        sa.Column("top_decile_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["anomaly_run.tenant_id", "anomaly_run.id"],
            name=op.f("fk_hospital_anomaly_tenant_id_run_id_anomaly_run"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "hospital_id", name=op.f("pk_hospital_anomaly")),
    )

    app = context.config.attributes["app_role"]
    statements = [
        *rls.protect("signal_run"),
        *rls.protect("hospital_signal", "hospital_id"),
        *rls.protect("anomaly_run"),
        *rls.protect("case_anomaly", "hospital_id"),
        *rls.protect("hospital_anomaly", "hospital_id"),
        rls.grant("signal_run", app, "select, insert"),
        rls.grant("hospital_signal", app, "select, insert"),
        rls.grant("anomaly_run", app, "select, insert"),
        rls.grant("case_anomaly", app, "select, insert"),
        rls.grant("hospital_anomaly", app, "select, insert"),
    ]
    for stmt in statements:
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("hospital_anomaly")
    op.drop_index("ix_case_anomaly_rank", table_name="case_anomaly")
    op.drop_table("case_anomaly")
    op.drop_index("ix_anomaly_run_year", table_name="anomaly_run")
    op.drop_table("anomaly_run")
    op.drop_index("ix_hospital_signal_hospital", table_name="hospital_signal")
    op.drop_table("hospital_signal")
    op.drop_index("ix_signal_run_year", table_name="signal_run")
    op.drop_table("signal_run")
