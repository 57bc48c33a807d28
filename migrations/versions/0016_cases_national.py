"""cases whole in the API, and the national monthly upload

case_record.doctor_code: the settlement list's 主诊医师代码 (chfpdr_code), optional. national_export:
the export log, one row per file (a region's month in the national layout, with its SHA-256 and the
file itself); national_export_item: what each file carried, one row per settlement list (the case
version and its upload flag). Both tenant-scoped under forced RLS; an export file has no hospital
(hospital_id is always null), so only a scope over all of the region's hospitals sees it, while the
items are hospital-scoped. Both written once (select, insert only).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from dianshu.db import rls

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_record", sa.Column("doctor_code", sa.String(length=30), nullable=True))
    op.create_table(
        "national_export",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("lists", sa.Integer(), nullable=False),
        sa.Column("first_upload", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("hospital_id is null", name=op.f("ck_national_export_region_file")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f("fk_national_export_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_national_export")),
        sa.UniqueConstraint("tenant_id", "month", "seq", name=op.f("uq_national_export_tenant_id_month_seq")),
    )
    op.create_table(
        "national_export_item",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("export_id", sa.Uuid(), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=False),
        sa.Column("list_id", sa.String(length=50), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("flag", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("flag in (0, 1, 2)", name=op.f("ck_national_export_item_flag")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "export_id"],
            ["national_export.tenant_id", "national_export.id"],
            name=op.f("fk_national_export_item_tenant_id_export_id_national_export"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "export_id", "hospital_id", "list_id", name=op.f("pk_national_export_item")
        ),
    )
    op.create_index(
        "ix_national_export_item_month", "national_export_item", ["tenant_id", "month", "hospital_id"], unique=False
    )
    app = context.config.attributes["app_role"]
    statements = [
        *rls.protect("national_export", "hospital_id"),
        *rls.protect("national_export_item", "hospital_id"),
        rls.grant("national_export", app, "select, insert"),
        rls.grant("national_export_item", app, "select, insert"),
    ]
    for stmt in statements:
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("national_export_item")
    op.drop_table("national_export")
    op.drop_column("case_record", "doctor_code")
