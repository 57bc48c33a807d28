from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base


class Tenant(Base):
    """A city or one of its pooling regions (统筹区), keyed by its administrative division code.

    City-wide reference data: no tenant_id, no row-level security; the API shows each caller only
    the tenants in its scope."""

    __tablename__ = "tenant"
    __table_args__ = (
        CheckConstraint("kind in ('city', 'region')", name="kind"),
        CheckConstraint("code ~ '^[0-9A-Za-z_-]{2,12}$'", name="code_format"),
        CheckConstraint("(kind = 'city') = (parent_code is null)", name="region_has_city"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("tenant.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


HOSPITAL_LEVELS = (1, 2, 3)  # 一级 / 二级 / 三级
HOSPITAL_TYPES = ("general", "tcm", "specialist")


class Hospital(Base):
    """A designated hospital (定点医疗机构) of one region. `id` is its national institution code."""

    __tablename__ = "hospital"
    __table_args__ = (
        CheckConstraint("level in (1, 2, 3)", name="level"),
        CheckConstraint("type in ('general', 'tcm', 'specialist')", name="type"),
        CheckConstraint("coefficient > 0", name="coefficient_positive"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(SmallInteger)
    type: Mapped[str] = mapped_column(String(12))
    # 差异系数 (differential coefficient); settlement versions it per year, this is the current one.
    coefficient: Mapped[Decimal] = mapped_column(Numeric(8, 4), default=Decimal("1.0000"))
    # Medical alliance (医联体/医共体) code within the region, if a member.
    alliance_id: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
