"""Special-review applications, expert assignments and the trail of every step."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

STATES = ("submitted", "prechecked", "in_review", "decided", "appealed", "final", "rejected")
OUTCOMES = ("keep", "add_points", "pay_by_item", "refuse")


class SpecialReview(Base):
    __tablename__ = "special_review"
    __table_args__ = (
        UniqueConstraint("tenant_id", "hospital_id", "list_id"),
        CheckConstraint("state in ('" + "', '".join(STATES) + "')", name="state"),
        CheckConstraint("outcome is null or outcome in ('" + "', '".join(OUTCOMES) + "')", name="outcome"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str] = mapped_column(String(20))
    list_id: Mapped[str] = mapped_column(String(50))
    case_id: Mapped[int] = mapped_column(BigInteger)  # the case version applied for
    year: Mapped[int] = mapped_column(SmallInteger)
    grounds: Mapped[list[str]] = mapped_column(ARRAY(Text))  # why it is eligible
    request: Mapped[str] = mapped_column(Text)  # the hospital's reasons
    # What an expert sees: the case without the hospital's name (blind to who applied).
    case_summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(12))
    round: Mapped[int] = mapped_column(SmallInteger, default=0)  # 1 = first review, 2 = appeal
    outcome: Mapped[str | None] = mapped_column(String(12))
    decided_points: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    decided_month: Mapped[date | None] = mapped_column(Date)  # the month the decision lands in
    appealed: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReviewAssignment(Base):
    """One expert's blind opinion in one round of a review."""

    __tablename__ = "review_assignment"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    expert: Mapped[str] = mapped_column(String(200), primary_key=True)  # the expert's account subject
    hospital_id: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str | None] = mapped_column(String(12))
    points: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    comment: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewEvent(Base):
    """Every step of a review: who, when, from which state to which, and why."""

    __tablename__ = "review_event"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    review_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ExpertPool(Base):
    """The region's review experts (account subjects), from which reviewers are drawn at random."""

    __tablename__ = "expert_pool"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    expert: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str | None] = mapped_column(String(100))
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
