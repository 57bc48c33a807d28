"""The training tables, all in a region's tenant (where its hospitals are) under forced row-level
security: courses and sessions by tenant (every user of the region sees its catalogue of
sessions), people and attendance by tenant and hospital (a hospital sees its own people only;
bureau staff, who belong to no hospital, only the bureau). Natural keys throughout: a course's
code, a session's code, a person's pseudonymised id, each unique in its region."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

TOPICS = ("policy", "coding", "settlement_list", "tool_use")
LEVELS = ("city", "region", "hospital")
ROLES = ("coder", "physician", "bureau_staff")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class TrainingCourse(Base):
    """A course (课程): DRG policy, coding, settlement-list filling or tool use."""

    __tablename__ = "training_course"
    __table_args__ = (CheckConstraint(_in("topic", TOPICS), name="topic"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    topic: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TrainingSession(Base):
    """A session (培训场次) of a course: its date, trainer, hours and level (organised by the city,
    the region or a hospital: `host_hospital_id` names the hospital of a hospital-level session)."""

    __tablename__ = "training_session"
    __table_args__ = (
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint("hours > 0 and hours <= 24", name="hours"),
        CheckConstraint("(level = 'hospital') = (host_hospital_id is not null)", name="host"),
        ForeignKeyConstraint(["tenant_id", "course_code"], ["training_course.tenant_id", "training_course.code"]),
        ForeignKeyConstraint(["tenant_id", "host_hospital_id"], ["hospital.tenant_id", "hospital.id"]),
        Index("ix_training_session_held", "tenant_id", "held_on"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    course_code: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[date] = mapped_column(Date)
    trainer: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    level: Mapped[str] = mapped_column(String(8))
    host_hospital_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TrainingPerson(Base):
    """A person trained (学员), by a pseudonymised id only: a coder or physician of a hospital, or
    bureau staff (no hospital). On the roster from `active_from` to `left_on` (null: still there): the
    roster of a year is who was on it at any time in the year (training/coverage.py)."""

    __tablename__ = "training_person"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("(role = 'bureau_staff') = (hospital_id is null)", name="hospital"),
        CheckConstraint("left_on is null or left_on >= active_from", name="period"),
        ForeignKeyConstraint(["tenant_id", "hospital_id"], ["hospital.tenant_id", "hospital.id"]),
        Index("ix_training_person_hospital", "tenant_id", "hospital_id"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hospital_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    active_from: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def active(self) -> bool:
        """Still on the roster today (not left, or leaving after today)."""
        return self.left_on is None or self.left_on > date.today()


class TrainingAttendance(Base):
    """A person's attendance of a session (签到), with the assessment score (考核成绩, 0–100) when
    assessed. `hospital_id` is the person's (fixed: a person never changes hospital). A row recorded
    by mistake is withdrawn (`withdrawn_at`, `_by`, `_reason`), never deleted: coverage, queries and
    downloads ignore it."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        CheckConstraint("score is null or (score >= 0 and score <= 100)", name="score"),
        CheckConstraint(
            "(withdrawn_at is null) = (withdrawn_by is null) and (withdrawn_at is null) = (withdrawn_reason is null)",
            name="withdrawn",
        ),
        ForeignKeyConstraint(["tenant_id", "session_code"], ["training_session.tenant_id", "training_session.code"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["training_person.tenant_id", "training_person.person_id"]),
        Index("ix_training_attendance_person", "tenant_id", "person_id"),
        Index("ix_training_attendance_hospital", "tenant_id", "hospital_id"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    session_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hospital_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
