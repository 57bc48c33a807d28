"""Grouping results: one row per case version and scheme version (regrouping replaces it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base


class CaseGrouping(Base):
    """Partitioned by its case's discharge year (db/partitions.py, migration 0023); `year` is last
    in the key so that lookups by (tenant, case, version) keep their index prefix. Each partition
    keeps half of each page free: a regroup updates its rows in place (migration 0011)."""

    __tablename__ = "case_grouping"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "case_id"], ["case_record.tenant_id", "case_record.id"]),
        Index("ix_case_grouping_drg", "tenant_id", "version_id", "drg"),
        {"postgresql_partition_by": "LIST (year)"},
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # drg_scheme_version.id
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # the case's discharge year
    hospital_id: Mapped[str] = mapped_column(String(20))
    mdc: Mapped[str | None] = mapped_column(String(8))
    adrg: Mapped[str | None] = mapped_column(String(8))
    drg: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    mcc: Mapped[list[str]] = mapped_column(ARRAY(Text))
    cc: Mapped[list[str]] = mapped_column(ARRAY(Text))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    grouped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupingComparison(Base):
    """Transition counts between two schemes for one comparison job (level adrg or drg)."""

    __tablename__ = "grouping_comparison"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    level: Mapped[str] = mapped_column(String(4), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    from_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    to_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    cases: Mapped[int] = mapped_column(BigInteger)
