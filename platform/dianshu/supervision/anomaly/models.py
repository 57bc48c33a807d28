"""Anomaly runs, case scores and hospital scores. Like signals runs, a city's run writes one run row
per region (one id) and its case and hospital rows under their own region; runs are never changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
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

FEATURE_VALUE = Numeric(14, 4)


class AnomalyRun(Base):
    __tablename__ = "anomaly_run"
    __table_args__ = (Index("ix_anomaly_run_year", "tenant_id", "year", "created_at"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    requested_tenant: Mapped[str] = mapped_column(String(12))
    standard_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scheme_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seed: Mapped[int] = mapped_column(BigInteger)
    n_cases: Mapped[int] = mapped_column(Integer)  # cases the model was fitted on and scored (all tenants)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the model's parameters and features
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseAnomaly(Base):
    """A case's anomaly score (0-100, 2 places: 100 × the forest's anomaly score), its rank in the run
    (1 the most unusual) and the three features that drove it, each with the case's value and its
    DRG's median."""

    __tablename__ = "case_anomaly"
    # No foreign key to anomaly_run (like case_point): a run inserts a million rows at once. One index
    # beside the key: by rank (a hospital's page reads the rank order and filters).
    __table_args__ = (Index("ix_case_anomaly_rank", "tenant_id", "run_id", "rank"),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20))
    list_id: Mapped[str] = mapped_column(String(50))
    drg: Mapped[str] = mapped_column(String(8))
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    rank: Mapped[int] = mapped_column(Integer)
    driver_1: Mapped[str] = mapped_column(String(24))
    driver_1_value: Mapped[Decimal] = mapped_column(FEATURE_VALUE)
    driver_1_median: Mapped[Decimal] = mapped_column(FEATURE_VALUE)
    driver_2: Mapped[str] = mapped_column(String(24))
    driver_2_value: Mapped[Decimal] = mapped_column(FEATURE_VALUE)
    driver_2_median: Mapped[Decimal] = mapped_column(FEATURE_VALUE)
    driver_3: Mapped[str] = mapped_column(String(24))
    driver_3_value: Mapped[Decimal] = mapped_column(FEATURE_VALUE)
    driver_3_median: Mapped[Decimal] = mapped_column(FEATURE_VALUE)


class HospitalAnomaly(Base):
    """A hospital's cases in a run: their mean score, the share of them in the run's top decile, and
    the hospital's rank by mean score (1 the most unusual)."""

    __tablename__ = "hospital_anomaly"
    __table_args__ = (ForeignKeyConstraint(["tenant_id", "run_id"], ["anomaly_run.tenant_id", "anomaly_run.id"]),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    mean_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    top_decile_cases: Mapped[int] = mapped_column(Integer)
    top_decile_share: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    rank: Mapped[int] = mapped_column(Integer)
