"""The export log (national_export: one row per file produced) and what each file carried
(national_export_item: one row per settlement list, the case version exported and its flag).

An export file holds every hospital of a region: its row has no hospital (hospital_id is always
null), so under row-level security only a scope over all the region's hospitals sees it. The items
are hospital-scoped: a hospital sees which of its own lists were uploaded, and nothing of another's."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base


class NationalExport(Base):
    __tablename__ = "national_export"
    __table_args__ = (
        UniqueConstraint("tenant_id", "month", "seq"),
        ForeignKeyConstraint(["tenant_id"], ["tenant.code"]),
        CheckConstraint("hospital_id is null", name="region_file"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hospital_id: Mapped[str | None] = mapped_column(String(20))  # always null: a file of the whole region
    month: Mapped[date] = mapped_column(Date)  # the discharge month, first day
    seq: Mapped[int] = mapped_column(Integer)  # 1: the month's first upload; 2, 3 …: re-exports that differ
    file_name: Mapped[str] = mapped_column(String(100))
    lists: Mapped[int] = mapped_column(Integer)  # lines of the file (settlement lists)
    first_upload: Mapped[int] = mapped_column(Integer)  # upld_flag 0
    corrected: Mapped[int] = mapped_column(Integer)  # upld_flag 1
    withdrawn: Mapped[int] = mapped_column(Integer)  # upld_flag 2
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded for the download only
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NationalExportItem(Base):
    __tablename__ = "national_export_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "export_id"], ["national_export.tenant_id", "national_export.id"], ondelete="CASCADE"
        ),
        CheckConstraint("flag in (0, 1, 2)", name="flag"),
        Index("ix_national_export_item_month", "tenant_id", "month", "hospital_id"),
    )

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    export_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the export's (a hospital does not see the export row)
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(BigInteger)  # the case_record version the line was written from
    flag: Mapped[int] = mapped_column(SmallInteger)  # upld_flag
