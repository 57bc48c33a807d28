"""evaluation runs: per-hospital totals, dimension and indicator scores, the peers' percentiles;
evaluation_score becomes the region's explicit override, with a reason

Revision ID: 0012b
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from dianshu.db import rls

revision: str = "0012b"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWS = ("evaluation_result", "evaluation_dimension_score", "evaluation_indicator_score", "evaluation_peer_stat")


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "run_id"],
        ["evaluation_run.tenant_id", "evaluation_run.id"],
        name=op.f(f"fk_{table}_tenant_id_run_id_evaluation_run"),
    )


def upgrade() -> None:
    op.create_table(
        "evaluation_run",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("catalogue_version_id", sa.Uuid(), nullable=True),
        sa.Column("catalogue_label", sa.String(length=200), nullable=False),
        sa.Column("peer_scope", sa.String(length=10), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status in ('draft', 'published', 'retired')", name=op.f("ck_evaluation_run_status")),
        sa.CheckConstraint("peer_scope in ('region', 'city')", name=op.f("ck_evaluation_run_peer_scope")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_evaluation_run_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_evaluation_run")),
        sa.UniqueConstraint("tenant_id", "year", "version", name=op.f("uq_evaluation_run_tenant_id_year_version")),
    )
    op.create_index(
        "uq_evaluation_run_published",
        "evaluation_run",
        ["tenant_id", "year"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "evaluation_result",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("total", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("exact_total", sa.Numeric(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("rank_band", sa.String(length=2), nullable=False),
        sa.Column("peers", sa.Integer(), nullable=False),
        sa.Column("coefficient", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("left_out", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("notes", postgresql.ARRAY(sa.Text()), nullable=False),
        _run_fk("evaluation_result"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "hospital_id", name=op.f("pk_evaluation_result")),
    )
    op.create_table(
        "evaluation_dimension_score",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("indicators_scored", sa.Integer(), nullable=False),
        _run_fk("evaluation_dimension_score"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_id", "hospital_id", "dimension", name=op.f("pk_evaluation_dimension_score")
        ),
    )
    op.create_table(
        "evaluation_indicator_score",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("numerator", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("denominator", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.CheckConstraint(
            "status in ('value', 'not_applicable', 'missing')", name=op.f("ck_evaluation_indicator_score_status")
        ),
        _run_fk("evaluation_indicator_score"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_id", "hospital_id", "code", name=op.f("pk_evaluation_indicator_score")
        ),
    )
    op.create_table(
        "evaluation_peer_stat",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("p25", sa.Numeric(precision=24, scale=4), nullable=True),
        sa.Column("p75", sa.Numeric(precision=24, scale=4), nullable=True),
        _run_fk("evaluation_peer_stat"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "level", "code", name=op.f("pk_evaluation_peer_stat")),
    )
    # The entered score is now an explicit override of the published run, with a reason.
    op.add_column("evaluation_score", sa.Column("reason", sa.Text(), nullable=True))
    op.execute(
        "update evaluation_score set source = 'override', reason = 'entered (setEvaluationScore)' "
        "where source = 'entered'"
    )
    op.create_check_constraint(
        op.f("ck_evaluation_score_override_reason"), "evaluation_score", "source <> 'override' or reason is not null"
    )

    # The annual clearing's line shows the points coefficient it applied (when the policy sets bands).
    op.add_column(
        "settlement_line", sa.Column("evaluation_coefficient", sa.Numeric(precision=8, scale=4), nullable=True)
    )

    app = context.config.attributes["app_role"]
    statements = [
        # A hospital sees its own results and scores; the peers' percentiles (no hospital column) and
        # the runs are the region's, readable by each of its hospitals.
        *rls.protect("evaluation_run"),
        *rls.protect("evaluation_result", "hospital_id"),
        *rls.protect("evaluation_dimension_score", "hospital_id"),
        *rls.protect("evaluation_indicator_score", "hospital_id"),
        *rls.protect("evaluation_peer_stat"),
        # A published run is frozen (retiring it is the one change allowed), its rows with it.
        *rls.guard_versioned("evaluation_run"),
        *(stmt for table in ROWS for stmt in rls.guard_rows(table, "evaluation_run", "run_id")),
        rls.grant("evaluation_run", app, "select, insert, update"),
        *(rls.grant(table, app, "select, insert") for table in ROWS),
    ]
    for stmt in statements:
        op.execute(stmt)


def downgrade() -> None:
    op.drop_column("settlement_line", "evaluation_coefficient")
    op.drop_constraint(op.f("ck_evaluation_score_override_reason"), "evaluation_score", type_="check")
    op.execute("update evaluation_score set source = 'entered' where source = 'override'")
    op.drop_column("evaluation_score", "reason")
    for table in reversed(ROWS):
        op.drop_table(table)
    op.drop_index("uq_evaluation_run_published", table_name="evaluation_run")
    op.drop_table("evaluation_run")
