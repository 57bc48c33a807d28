"""The evaluation's tables: catalogue versions (city-wide reference data, no tenant_id, like the
standards: draft -> published -> retired, published and retired versions and their rows immutable by
database triggers) and the indicator values a bureau enters per hospital and year (a tenant table
under row-level security, a hospital sees its own)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
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
