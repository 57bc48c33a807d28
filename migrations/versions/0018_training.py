"""training records: courses, sessions, people and attendance (培训)

training_course and training_session: a region's catalogue of courses and their sessions (tenant
scoped); training_person (pseudonymised ids) and training_attendance: tenant and hospital scoped,
so a hospital sees its own people only. Every table under forced RLS; the runtime role selects,
inserts and updates (nothing is deleted: a person who leaves gets `left_on`, an attendance recorded
by mistake is withdrawn: `withdrawn_at`, `withdrawn_by`, `withdrawn_reason`). A person's period on the
roster: `active_from` to `left_on` (null: still there).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from dianshu.db import rls

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("training_course", "training_session", "training_person", "training_attendance")


def _saved(prefix: str = "saved") -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_by", sa.String(length=200), nullable=False),
        sa.Column(f"{prefix}_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenant.code"], name=op.f(f"fk_{table}_tenant_id_tenant"))


def upgrade() -> None:
    op.create_table(
        "training_course",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        *_saved(),
        sa.CheckConstraint(
            "topic in ('policy', 'coding', 'settlement_list', 'tool_use')", name=op.f("ck_training_course_topic")
        ),
        _tenant_fk("training_course"),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_training_course")),
    )
    op.create_table(
        "training_session",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("course_code", sa.String(length=30), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("trainer", sa.String(length=100), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("host_hospital_id", sa.String(length=20), nullable=True),
        *_saved(),
        sa.CheckConstraint("level in ('city', 'region', 'hospital')", name=op.f("ck_training_session_level")),
        sa.CheckConstraint("hours > 0 and hours <= 24", name=op.f("ck_training_session_hours")),
        sa.CheckConstraint(
            "(level = 'hospital') = (host_hospital_id is not null)", name=op.f("ck_training_session_host")
        ),
        _tenant_fk("training_session"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "course_code"],
            ["training_course.tenant_id", "training_course.code"],
            name=op.f("fk_training_session_tenant_id_training_course"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "host_hospital_id"],
            ["hospital.tenant_id", "hospital.id"],
            name=op.f("fk_training_session_tenant_id_hospital"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_training_session")),
    )
    op.create_index("ix_training_session_held", "training_session", ["tenant_id", "held_on"])
    op.create_table(
        "training_person",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        *_saved(),
        sa.CheckConstraint("role in ('coder', 'physician', 'bureau_staff')", name=op.f("ck_training_person_role")),
        sa.CheckConstraint("left_on is null or left_on >= active_from", name=op.f("ck_training_person_period")),
        sa.CheckConstraint("(role = 'bureau_staff') = (hospital_id is null)", name=op.f("ck_training_person_hospital")),
        _tenant_fk("training_person"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "hospital_id"],
            ["hospital.tenant_id", "hospital.id"],
            name=op.f("fk_training_person_tenant_id_hospital"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "person_id", name=op.f("pk_training_person")),
    )
    op.create_index("ix_training_person_hospital", "training_person", ["tenant_id", "hospital_id"])
    op.create_table(
        "training_attendance",
        sa.Column("tenant_id", sa.String(length=12), nullable=False),
        sa.Column("session_code", sa.String(length=30), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=20), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=True),
        *_saved("recorded"),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(withdrawn_at is null) = (withdrawn_by is null) and (withdrawn_at is null) = (withdrawn_reason is null)",
            name=op.f("ck_training_attendance_withdrawn"),
        ),
        sa.CheckConstraint("score is null or (score >= 0 and score <= 100)", name=op.f("ck_training_attendance_score")),
        _tenant_fk("training_attendance"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_code"],
            ["training_session.tenant_id", "training_session.code"],
            name=op.f("fk_training_attendance_tenant_id_training_session"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["training_person.tenant_id", "training_person.person_id"],
            name=op.f("fk_training_attendance_tenant_id_training_person"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "session_code", "person_id", name=op.f("pk_training_attendance")),
    )
    op.create_index("ix_training_attendance_person", "training_attendance", ["tenant_id", "person_id"])
    op.create_index("ix_training_attendance_hospital", "training_attendance", ["tenant_id", "hospital_id"])

    app = context.config.attributes["app_role"]
    statements = [
        *rls.protect("training_course"),
        *rls.protect("training_session"),
        *rls.protect("training_person", "hospital_id"),
        *rls.protect("training_attendance", "hospital_id"),
        *(rls.grant(t, app, "select, insert, update") for t in TABLES),
    ]
    for stmt in statements:
        op.execute(stmt)


def downgrade() -> None:
    op.drop_index("ix_training_attendance_hospital", table_name="training_attendance")
    op.drop_index("ix_training_attendance_person", table_name="training_attendance")
    op.drop_table("training_attendance")
    op.drop_index("ix_training_person_hospital", table_name="training_person")
    op.drop_table("training_person")
    op.drop_index("ix_training_session_held", table_name="training_session")
    op.drop_table("training_session")
    op.drop_table("training_course")
