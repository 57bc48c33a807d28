"""Settlement in the database: policy parameters: a city's defaults (city-wide, readable by its regions) and each
region's own overrides, per year and ledger; every change is a new version, never an edit."""

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
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
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

LEDGERS = "ledger in ('employee', 'resident', 'all')"


class PolicyDefault(Base):
    """The city's default parameters for a year and ledger (city-wide reference data)."""

    __tablename__ = "policy_default"
    __table_args__ = (
        UniqueConstraint("city_code", "year", "ledger", "version"),
        CheckConstraint(LEDGERS, name="ledger"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    city_code: Mapped[str] = mapped_column(ForeignKey("tenant.code"))
    year: Mapped[int] = mapped_column(SmallInteger)
    ledger: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PolicyVersion(Base):
    """A region's own parameters for a year and ledger, over the city's defaults."""

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "ledger", "version"),
        CheckConstraint(LEDGERS, name="ledger"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger)
    ledger: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


POINTS = Numeric(16, 4)
MONEY = Numeric(16, 2)
RATIO = Numeric(8, 6)


class Budget(Base):
    """A region's budget for a year and ledger (SPEC section 6): T = last year's spending × (1 + g)
    − carve-outs, R = T × reserve ratio, B = T − R. Each change is a new version."""

    __tablename__ = "budget"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "ledger", "version"),
        CheckConstraint(LEDGERS, name="ledger"),
        CheckConstraint("total = reserve + points_budget", name="parts"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger)
    ledger: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    last_year_spending: Mapped[Decimal] = mapped_column(MONEY)
    spending_source: Mapped[str] = mapped_column(String(10))  # cases | entered
    growth_rate: Mapped[Decimal] = mapped_column(RATIO)
    carve_outs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    reserve_ratio: Mapped[Decimal] = mapped_column(RATIO)
    total: Mapped[Decimal] = mapped_column(MONEY)  # T
    reserve: Mapped[Decimal] = mapped_column(MONEY)  # R
    points_budget: Mapped[Decimal] = mapped_column(MONEY)  # B
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Alliance(Base):
    """A medical alliance (医联体/医共体) settled as one budget holder with its lead hospital; its
    surplus is shared among members by `shares` (hospital → ratio, summing to 1)."""

    __tablename__ = "alliance"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_hospital: Mapped[str] = mapped_column(String(20))
    settle_as_one: Mapped[bool] = mapped_column(Boolean, default=True)
    shares: Mapped[dict[str, str]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseViolation(Base):
    """A confirmed violation on a case (SPEC section 5): the case's points are not counted and, when
    serious, multiple × b is deducted from the hospital. Keyed by the list id so it follows
    corrections of the case."""

    __tablename__ = "case_violation"
    __table_args__ = (UniqueConstraint("tenant_id", "hospital_id", "list_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str] = mapped_column(String(20))
    list_id: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    serious: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    confirmed_by: Mapped[str] = mapped_column(String(200))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PointsRun(Base):
    """One computation of a region's case points for a year up to a month, with its inputs. Never
    changed (a re-run is a new version), except `pruned_at` when its case points are dropped."""

    __tablename__ = "points_run"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "through_month", "version"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger)
    through_month: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer)
    standard_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scheme_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)  # policy, case set, reviews, violations
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When `dianshu db prune-runs` deleted its case points (superseded: settlement/runs/prune.py);
    # its summary and its hospitals' monthly totals (points_month) stay.
    pruned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CasePoint(Base):
    """A case's points in one points run: type, reason, add-on and deduction. Partitioned by the
    run's year (db/partitions.py, migration 0020); `year` is last in the key so that lookups by
    (tenant, run, case) keep their index prefix."""

    __tablename__ = "case_point"
    __table_args__ = (
        Index("ix_case_point_hospital", "tenant_id", "run_id", "hospital_id"),
        {"postgresql_partition_by": "LIST (year)"},
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # the points run's year
    hospital_id: Mapped[str] = mapped_column(String(20))
    list_id: Mapped[str] = mapped_column(String(50))
    ledger: Mapped[str] = mapped_column(String(10))
    month: Mapped[int] = mapped_column(SmallInteger)
    drg: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    points: Mapped[Decimal] = mapped_column(POINTS)
    original: Mapped[Decimal] = mapped_column(POINTS)
    addon: Mapped[Decimal] = mapped_column(POINTS)
    deduction: Mapped[Decimal] = mapped_column(POINTS)
    self_pay: Mapped[Decimal] = mapped_column(MONEY)
    fund_pay: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text)


class PointsMonth(Base):
    """A hospital's totals in one points run, ledger and discharge month."""

    __tablename__ = "points_month"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    ledger: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    points: Mapped[Decimal] = mapped_column(POINTS)
    original: Mapped[Decimal] = mapped_column(POINTS)
    deductions: Mapped[Decimal] = mapped_column(POINTS)
    self_pay: Mapped[Decimal] = mapped_column(MONEY)
    fund_pay: Mapped[Decimal] = mapped_column(MONEY)


class SettlementRun(Base):
    """A monthly pre-settlement or an annual clearing of one ledger: draft, then published (frozen).
    `inputs` names everything it used so a published figure can be reproduced."""

    __tablename__ = "settlement_run"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "year", "month", "ledger", "version"),
        CheckConstraint("kind in ('monthly', 'annual')", name="kind"),
        CheckConstraint("status in ('draft', 'published')", name="status"),
        CheckConstraint(LEDGERS, name="ledger"),
        ForeignKeyConstraint(["tenant_id", "points_run_id"], ["points_run.tenant_id", "points_run.id"]),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    ledger: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    points_run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    budget_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SettlementLine(Base):
    """One hospital's figures in a settlement run."""

    __tablename__ = "settlement_line"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    alliance_id: Mapped[str | None] = mapped_column(String(20))
    cases: Mapped[int] = mapped_column(Integer)
    points: Mapped[Decimal] = mapped_column(POINTS)  # after deductions
    deductions: Mapped[Decimal] = mapped_column(POINTS)
    self_pay: Mapped[Decimal] = mapped_column(MONEY)
    fund_pay: Mapped[Decimal] = mapped_column(MONEY)
    due: Mapped[Decimal] = mapped_column(MONEY)
    # Monthly: payable = due × r, holdback = due − payable, payment = payable − paid before.
    # Annual: prepaid, score, balance, withheld.
    payable: Mapped[Decimal | None] = mapped_column(MONEY)
    holdback: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_before: Mapped[Decimal | None] = mapped_column(MONEY)
    payment: Mapped[Decimal | None] = mapped_column(MONEY)
    prepaid: Mapped[Decimal | None] = mapped_column(MONEY)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    # Annual, when the policy sets coefficient bands: the evaluation's points coefficient (奖惩系数)
    # that multiplied the hospital's points.
    evaluation_coefficient: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    balance: Mapped[Decimal | None] = mapped_column(MONEY)
    withheld: Mapped[Decimal | None] = mapped_column(MONEY)
    audit_deductions: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))  # year to date


class EvaluationScore(Base):
    """A hospital's evaluation score for a year (0–100) set by the region as an explicit override of
    the published evaluation run, with a reason; releases the quality holdback at clearing."""

    __tablename__ = "evaluation_score"
    __table_args__ = (CheckConstraint("source <> 'override' or reason is not null", name="override_reason"),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    # override: the region's explicit score with its reason; it beats the published evaluation run
    # (settlement/runs/inputs.py). Rows entered before overrides existed became overrides.
    source: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditDeduction(Base):
    """Money an audit deducts from a hospital (审核扣款) in a month and ledger: it comes off that
    month's year-to-date due and stays off at the year's clearing. `reference` (the audit's own
    number) makes recording it safe to retry."""

    __tablename__ = "audit_deduction"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        CheckConstraint(LEDGERS, name="ledger"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("month between 1 and 12", name="month"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    ledger: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
