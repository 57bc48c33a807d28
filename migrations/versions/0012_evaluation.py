"""evaluation: the indicator catalogue's versions (city-wide, immutable once published) and the
indicator values a bureau enters per hospital and year (row-level security, a hospital sees its own)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from dianshu.db import rls

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_catalogue_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("effective_from", sa.SmallInteger(), nullable=True),
        sa.Column("effective_to", sa.SmallInteger(), nullable=True),
        sa.Column("indicator_count", sa.SmallInteger(), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('draft', 'published', 'retired')", name=op.f("ck_evaluation_catalogue_version_status")
        ),
        sa.CheckConstraint(
            "effective_to is null or effective_to > effective_from", name=op.f("ck_evaluation_catalogue_version_period")
        ),
        sa.CheckConstraint(
            "effective_from is null or effective_from between 2000 and 2100",
            name=op.f("ck_evaluation_catalogue_version_years"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_catalogue_version")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_evaluation_catalogue_version_content_hash")),
        sa.UniqueConstraint("label", name=op.f("uq_evaluation_catalogue_version_label")),
    )
    op.create_table(
        "evaluation_dimension",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("weight", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["evaluation_catalogue_version.id"],
            name=op.f("fk_evaluation_dimension_version_id_evaluation_catalogue_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "code", name=op.f("pk_evaluation_dimension")),
    )
    op.create_table(
        "evaluation_indicator",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("computation", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("weight", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("formula_zh", sa.Text(), nullable=False),
        sa.Column("formula_en", sa.Text(), nullable=False),
        sa.CheckConstraint("direction in ('higher', 'lower')", name=op.f("ck_evaluation_indicator_direction")),
        sa.CheckConstraint("status in ('active', 'monitor')", name=op.f("ck_evaluation_indicator_status")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["evaluation_catalogue_version.id"],
            name=op.f("fk_evaluation_indicator_version_id_evaluation_catalogue_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "code", name=op.f("pk_evaluation_indicator")),
        sa.UniqueConstraint("version_id", "computation", name=op.f("uq_evaluation_indicator_version_id_computation")),
    )
    op.create_table(
        "evaluation_entry",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(length=200), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_evaluation_entry_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "hospital_id", "year", "code", name=op.f("pk_evaluation_entry")),
    )

    app = context.config.attributes["app_role"]
    statements = [
        # Published (and retired) versions and their rows are frozen (the standards' guard functions).
        *rls.guard_versioned("evaluation_catalogue_version"),
        *rls.guard_rows("evaluation_dimension", "evaluation_catalogue_version", "version_id"),
        *rls.guard_rows("evaluation_indicator", "evaluation_catalogue_version", "version_id"),
        # Loading (a city admin loads the built-in catalogue as a draft) and publishing go through the
        # API as the runtime role; the role may not delete a version.
        rls.grant("evaluation_catalogue_version", app, "select, insert, update"),
        rls.grant("evaluation_dimension", app, "select, insert"),
        rls.grant("evaluation_indicator", app, "select, insert"),
        # Entered values: the hospital sees its own, the region its hospitals', the city all.
        *rls.protect("evaluation_entry", "hospital_id"),
        rls.grant("evaluation_entry", app, "select, insert, update"),
    ]
    for stmt in statements:
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("evaluation_entry")
    op.drop_table("evaluation_indicator")
    op.drop_table("evaluation_dimension")
    op.drop_table("evaluation_catalogue_version")
