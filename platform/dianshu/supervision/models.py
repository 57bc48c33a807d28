"""Supervision findings: one row per finding (a rule's hit on a hospital: its cases, or its year for
a hospital-level signal) and its cases. Tenant- and hospital-scoped under row-level security.

A finding is identified by its fingerprint (rule + hospital + the sorted list ids of its cases, or
the year for a hospital-level rule), unique per tenant: re-running the rules finds the same findings
and never duplicates them. A decided finding keeps its state; a finding whose cases no longer match
on a later run is not deleted or closed but flagged `stale` (and unflagged if it matches again)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

FIGURE = Numeric(18, 4)
STATES = ("open", "confirmed", "dismissed")
SEVERITIES = ("low", "medium", "high")


class SupervisionFinding(Base):
    __tablename__ = "supervision_finding"
    __table_args__ = (
        UniqueConstraint("tenant_id", "fingerprint"),
        ForeignKeyConstraint(["tenant_id", "hospital_id"], ["hospital.tenant_id", "hospital.id"]),
        CheckConstraint("state in ('open', 'confirmed', 'dismissed')", name="state"),
        CheckConstraint("severity in ('low', 'medium', 'high')", name="severity"),
        CheckConstraint("level in ('case', 'hospital')", name="level"),
        Index("ix_supervision_finding_year", "tenant_id", "year", "rule", "state"),
        Index("ix_supervision_finding_hospital", "tenant_id", "hospital_id", "year"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int | None] = mapped_column(SmallInteger)  # a case-level finding's latest discharge month
    fingerprint: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10), default="open")
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    # Evidence: the figure found, the threshold it crossed, the peers' value it was compared with.
    figure: Mapped[Decimal | None] = mapped_column(FIGURE)
    threshold: Mapped[Decimal | None] = mapped_column(FIGURE)
    peer_value: Mapped[Decimal | None] = mapped_column(FIGURE)
    unit: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_run: Mapped[uuid.UUID] = mapped_column(Uuid)  # the supervision.run job that last found it
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    serious: Mapped[bool | None] = mapped_column(Boolean)
    # The audit queue's order (the anomaly score, written by the anomaly ranking; null until then).
    priority: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))


class SupervisionFindingCase(Base):
    """A case behind a finding; `subject` cases are the ones a confirmation marks as violations (the
    readmission of a split admission, not its first stay)."""

    __tablename__ = "supervision_finding_case"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "finding_id"],
            ["supervision_finding.tenant_id", "supervision_finding.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    finding_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[bool] = mapped_column(Boolean)
