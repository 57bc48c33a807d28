"""Cases (one row per version of a stay) and their ingestion: uploads, batches, refused rows.

Tenant- and hospital-scoped under row-level security. Codes are arrays on the case row so a city
year (1,000,000 stays) loads and reads fast. A correction adds a version and keeps the earlier one;
a recall marks the current version recalled and keeps it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

MONEY = Numeric(12, 2)


class Upload(Base):
    __tablename__ = "upload"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenant.code"]),)

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str | None] = mapped_column(String(20))  # the sender's hospital, if a hospital
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))  # csv | jsonl
    compressed: Mapped[bool] = mapped_column(Boolean)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UploadChunk(Base):
    __tablename__ = "upload_chunk"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "upload_id"], ["upload.tenant_id", "upload.id"], ondelete="CASCADE"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    upload_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_id: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IngestionBatch(Base):
    __tablename__ = "ingestion_batch"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        ForeignKeyConstraint(["tenant_id", "upload_id"], ["upload.tenant_id", "upload.id"]),
        CheckConstraint("mode in ('partial', 'all_or_nothing')", name="mode"),
        # failed: the job failed for a system reason (the batch may be sent again to retry).
        CheckConstraint("status in ('pending', 'done', 'refused', 'failed')", name="status"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str | None] = mapped_column(String(20))
    upload_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    control_rows: Mapped[int | None] = mapped_column(Integer)
    control_total: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_corrected: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_refused: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IngestionError(Base):
    __tablename__ = "ingestion_error"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "batch_id"], ["ingestion_batch.tenant_id", "ingestion_batch.id"], ondelete="CASCADE"
        ),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hospital_id: Mapped[str | None] = mapped_column(String(20))  # the batch sender's hospital (scope)
    list_id: Mapped[str | None] = mapped_column(String(50))
    row_hospital: Mapped[str | None] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)


class CaseRecord(Base):
    """One version of one inpatient stay (医保结算清单)."""

    __tablename__ = "case_record"
    __table_args__ = (
        UniqueConstraint("tenant_id", "hospital_id", "list_id", "version"),
        ForeignKeyConstraint(["tenant_id", "hospital_id"], ["hospital.tenant_id", "hospital.id"]),
        CheckConstraint("status in ('active', 'recalled', 'superseded')", name="status"),
        CheckConstraint("sex in (1, 2)", name="sex"),
        CheckConstraint("fund_pay + self_pay + own_pay = total_cost", name="payments_sum"),
        Index(
            "uq_case_record_current",
            "tenant_id",
            "hospital_id",
            "list_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("ix_case_record_month", "tenant_id", "discharge_month", "hospital_id"),
        # A patient's stays by discharge (the workstation check's last discharge; migration 0015).
        Index("ix_case_record_patient", "tenant_id", "patient_id", "discharge_time"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20))
    list_id: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(SmallInteger)
    is_current: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    row_no: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(32))
    mrn: Mapped[str] = mapped_column(String(50))
    patient_id: Mapped[str] = mapped_column(String(64))
    sex: Mapped[int] = mapped_column(SmallInteger)
    birth_date: Mapped[date | None] = mapped_column(Date)
    age_years: Mapped[int] = mapped_column(SmallInteger)
    age_days: Mapped[int | None] = mapped_column(SmallInteger)
    birth_weight_g: Mapped[int | None] = mapped_column(Integer)
    admit_weight_g: Mapped[int | None] = mapped_column(Integer)
    fund_type: Mapped[str] = mapped_column(String(10))
    insured_place: Mapped[int] = mapped_column(SmallInteger)
    admission_route: Mapped[int | None] = mapped_column(SmallInteger)
    admit_time: Mapped[datetime] = mapped_column(DateTime)
    discharge_time: Mapped[datetime] = mapped_column(DateTime)
    admit_dept: Mapped[str | None] = mapped_column(String(50))
    discharge_dept: Mapped[str | None] = mapped_column(String(50))
    # 主诊医师代码 (chfpdr_code), optional (migration 0016).
    doctor_code: Mapped[str | None] = mapped_column(String(30))
    los_days: Mapped[int] = mapped_column(Integer)
    discharge_way: Mapped[int] = mapped_column(SmallInteger)
    readmit_planned: Mapped[bool] = mapped_column(Boolean)
    coding: Mapped[str] = mapped_column(String(8))
    diagnoses: Mapped[list[str]] = mapped_column(ARRAY(Text))
    dx_admit_cond: Mapped[list[int] | None] = mapped_column(ARRAY(SmallInteger))
    procedures: Mapped[list[str]] = mapped_column(ARRAY(Text))
    proc_dates: Mapped[list[date] | None] = mapped_column(ARRAY(Date))
    proc_levels: Mapped[list[int] | None] = mapped_column(ARRAY(SmallInteger))
    vent_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    icu_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    charges: Mapped[list[Decimal]] = mapped_column(ARRAY(MONEY))
    total_cost: Mapped[Decimal] = mapped_column(MONEY)
    fund_pay: Mapped[Decimal] = mapped_column(MONEY)
    self_pay: Mapped[Decimal] = mapped_column(MONEY)
    own_pay: Mapped[Decimal] = mapped_column(MONEY)
    discharge_month: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recall_reason: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
