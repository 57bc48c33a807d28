"""Signals runs and their per-hospital rows. A run covers one region (peers: the region's hospitals
of the same level) or a city (peers: the city's); its rows are stored under each hospital's own
region so that row-level security shows a hospital its own rows only. A run of a city writes one
run row per region, all with the same id. Runs are never changed: a re-run is a new run."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

AREAS = ("one_day_stay", "readmission_short", "readmission_long", "mcc_cc", "error_prone", "own_pay")


class SignalRun(Base):
    __tablename__ = "signal_run"
    __table_args__ = (
        CheckConstraint("peers in ('region', 'city')", name="peers"),
        Index("ix_signal_run_year", "tenant_id", "year", "created_at"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    first_year: Mapped[int] = mapped_column(SmallInteger)
    peers: Mapped[str] = mapped_column(String(8))  # region | city
    requested_tenant: Mapped[str] = mapped_column(String(12))  # the job's tenant (the region, or the city)
    standard_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scheme_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    hospitals: Mapped[int] = mapped_column(Integer)  # hospitals with rows, of this region
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HospitalSignal(Base):
    """One hospital's share in one target area and year of a run: value = numerator / denominator
    (4 places), its percentile among the peers with a value (0 the lowest, 100 the highest), a flag,
    the trend since the run's first year, and its audit-queue priority when flagged."""

    __tablename__ = "hospital_signal"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "run_id"], ["signal_run.tenant_id", "signal_run.id"]),
        CheckConstraint("flag in ('high', 'low')", name="flag"),
        Index("ix_hospital_signal_hospital", "tenant_id", "hospital_id", "year"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    area: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    numerator: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    denominator: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    cases: Mapped[int] = mapped_column(Integer)  # the cases behind the numerator
    peers: Mapped[int] = mapped_column(Integer)  # hospitals of the level with a value (itself included)
    percentile: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    flag: Mapped[str | None] = mapped_column(String(4))
    trend: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    priority: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
