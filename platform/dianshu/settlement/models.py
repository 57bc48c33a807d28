"""Policy parameters in the database: a city's defaults (city-wide, readable by its regions) and each
region's own overrides, per year and ledger; every change is a new version, never an edit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
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
