"""The evaluation's tables.

Catalogue versions are city-wide reference data (no tenant_id, like the standards: draft ->
published -> retired, published and retired versions and their rows immutable by database
triggers); the indicator values a bureau enters per hospital and year are a tenant table under
row-level security (a hospital sees its own).

Evaluation runs: a draft run per region and year scores every hospital against its peers
(scoring.py); publishing it freezes it (a database trigger) and retires the one in force before.
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

STATUSES = "status in ('draft', 'published', 'retired')"


class EvaluationCatalogueVersion(Base):
    """One version of the indicator catalogue. In force for the years [effective_from, effective_to)
    once published (effective_to null: open-ended); of several, the one that took effect last."""

    __tablename__ = "evaluation_catalogue_version"
    __table_args__ = (
        UniqueConstraint("label"),
        UniqueConstraint("content_hash"),
        CheckConstraint(STATUSES, name="status"),
        CheckConstraint("effective_to is null or effective_to > effective_from", name="period"),
        CheckConstraint("effective_from is null or effective_from between 2000 and 2100", name="years"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(60))
    # sha256 of the catalogue's canonical content (catalogue_hash): the same content is the same version.
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    effective_from: Mapped[int | None] = mapped_column(SmallInteger)  # the first year in force
    effective_to: Mapped[int | None] = mapped_column(SmallInteger)  # the first year no longer in force
    indicator_count: Mapped[int] = mapped_column(SmallInteger)
    loaded_by: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _version_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("evaluation_catalogue_version.id", ondelete="CASCADE"), primary_key=True)


class EvaluationDimension(Base):
    __tablename__ = "evaluation_dimension"

    version_id: Mapped[uuid.UUID] = _version_fk()
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)  # the order of the catalogue file
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    weight: Mapped[Decimal] = mapped_column(Numeric(7, 4))


class EvaluationIndicator(Base):
    __tablename__ = "evaluation_indicator"
    __table_args__ = (
        UniqueConstraint("version_id", "computation"),
        CheckConstraint("direction in ('higher', 'lower')", name="direction"),
        CheckConstraint("status in ('active', 'monitor')", name="status"),
    )

    version_id: Mapped[uuid.UUID] = _version_fk()
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)  # the order of the catalogue file
    dimension: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    computation: Mapped[str] = mapped_column(String(60))
    direction: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(12))
    unit: Mapped[str] = mapped_column(String(12))
    weight: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    status: Mapped[str] = mapped_column(String(8))
    formula_zh: Mapped[str] = mapped_column(Text)
    formula_en: Mapped[str] = mapped_column(Text)


class EvaluationEntry(Base):
    """An indicator value entered for a hospital and year (survey scores, complaints, audit samples,
    clinical-pathway rates, training coverage), with who entered it. E02's value is the year's count
    of complaints: the per-1000 figure is computed at scoring from the hospital's cases."""

    __tablename__ = "evaluation_entry"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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
