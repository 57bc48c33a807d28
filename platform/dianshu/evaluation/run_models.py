"""Evaluation runs in the database: a draft run per region and year scores every hospital against its
peers (scoring.py); publishing it freezes it (a database trigger) and retires the one in force before.
Hospital rows (results, dimension and indicator scores) are under the hospital's row-level security;
the peers' percentiles (evaluation_peer_stat) carry no hospital, so every hospital of the region may
read them without seeing another hospital's figures."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

RUN_FK = (["tenant_id", "run_id"], ["evaluation_run.tenant_id", "evaluation_run.id"])


class EvaluationRun(Base):
    """One scoring of a region's hospitals for a year: draft, published (in force; frozen) or retired
    (a newer version was published). `inputs` holds everything it used, so it can be reproduced. A
    city-wide run (peer scope city) writes one run per region, sharing `group_id`."""

    __tablename__ = "evaluation_run"
    __table_args__ = (
        UniqueConstraint("tenant_id", "year", "version"),
        CheckConstraint("status in ('draft', 'published', 'retired')", name="status"),
        CheckConstraint("peer_scope in ('region', 'city')", name="peer_scope"),
        # One run in force per region and year.
        Index(
            "uq_evaluation_run_published",
            "tenant_id",
            "year",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    group_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    year: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    catalogue_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    catalogue_label: Mapped[str] = mapped_column(String(200))
    peer_scope: Mapped[str] = mapped_column(String(10))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EvaluationResult(Base):
    """A hospital's total in a run: rounded, capped under proven fraud, its band and coefficient."""

    __tablename__ = "evaluation_result"
    __table_args__ = (ForeignKeyConstraint(*RUN_FK),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    exact_total: Mapped[Decimal] = mapped_column(Numeric)  # unrounded, before the cap
    capped: Mapped[bool] = mapped_column(Boolean)
    rank_band: Mapped[str] = mapped_column(String(2))
    peers: Mapped[int] = mapped_column(Integer)  # hospitals in its peer group
    coefficient: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    left_out: Mapped[list[str]] = mapped_column(ARRAY(Text))  # dimensions with nothing scored
    notes: Mapped[list[str]] = mapped_column(ARRAY(Text))


class EvaluationDimensionScore(Base):
    __tablename__ = "evaluation_dimension_score"
    __table_args__ = (ForeignKeyConstraint(*RUN_FK),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # null: nothing scored, left out
    indicators_scored: Mapped[int] = mapped_column(Integer)


class EvaluationIndicatorScore(Base):
    __tablename__ = "evaluation_indicator_score"
    __table_args__ = (
        ForeignKeyConstraint(*RUN_FK),
        CheckConstraint("status in ('value', 'not_applicable', 'missing')", name="status"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))
    active: Mapped[bool] = mapped_column(Boolean)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # null: monitor-only or not applicable


class EvaluationPeerStat(Base):
    """The peers' percentiles of one level and indicator in a run: no hospital's figure."""

    __tablename__ = "evaluation_peer_stat"
    __table_args__ = (ForeignKeyConstraint(*RUN_FK),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    p25: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))
    p75: Mapped[Decimal | None] = mapped_column(Numeric(24, 4))
