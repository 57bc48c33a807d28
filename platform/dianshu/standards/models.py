"""Standards in the database (city-wide reference data, no tenant_id): grouping schemes and their
versions with every definition table, and cities' payment standards built on a scheme version.

A version is draft -> published -> retired; published and retired versions are immutable (database
triggers refuse changes to them and to their rows). The definition tables mirror the file layout
of standards/data so a version rebuilds exactly the scheme it was loaded from."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
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

STATUSES = "status in ('draft', 'published', 'retired')"


class DrgScheme(Base):
    __tablename__ = "drg_scheme"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DrgSchemeVersion(Base):
    __tablename__ = "drg_scheme_version"
    __table_args__ = (
        # The same tables declared in other code editions are another version.
        UniqueConstraint("scheme_code", "content_hash", "editions_hash"),
        UniqueConstraint("scheme_code", "label"),
        CheckConstraint(STATUSES, name="status"),
        CheckConstraint("effective_to is null or effective_to > effective_from", name="period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    scheme_code: Mapped[str] = mapped_column(ForeignKey("drg_scheme.code"))
    label: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    # sha256 of the code_editions.csv rows (null: stored before declarations, migration 0010)
    editions_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    # Grouper options of this version (ICU rule, HIV entry, xQY...): see grouping/engine.py.
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    mdc_count: Mapped[int] = mapped_column(Integer)
    adrg_count: Mapped[int] = mapped_column(Integer)
    drg_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    loaded_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _version_fk() -> Any:
    return mapped_column(ForeignKey("drg_scheme_version.id", ondelete="CASCADE"), primary_key=True)


class DrgMdc(Base):
    __tablename__ = "drg_mdc"

    version_id: Mapped[uuid.UUID] = _version_fk()
    mdc: Mapped[str] = mapped_column(String(8), primary_key=True)
    eval_order: Mapped[int] = mapped_column(Integer)
    entry_condition: Mapped[str] = mapped_column(Text)
    special: Mapped[str] = mapped_column(Text, default="")
    adrg_eval_order: Mapped[str] = mapped_column(Text)


class DrgMdcDx(Base):
    __tablename__ = "drg_mdc_dx"

    version_id: Mapped[uuid.UUID] = _version_fk()
    mdc: Mapped[str] = mapped_column(String(8), primary_key=True)
    dx_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    trauma_body_region: Mapped[str] = mapped_column(String(40), default="")


class DrgAdrg(Base):
    __tablename__ = "drg_adrg"

    version_id: Mapped[uuid.UUID] = _version_fk()
    adrg: Mapped[str] = mapped_column(String(8), primary_key=True)
    mdc: Mapped[str] = mapped_column(String(8))
    eval_order_in_mdc: Mapped[int] = mapped_column(Integer)
    entry_condition: Mapped[str] = mapped_column(Text)
    drg_eval_order: Mapped[str] = mapped_column(Text)


class DrgAdrgCode(Base):
    __tablename__ = "drg_adrg_code"

    version_id: Mapped[uuid.UUID] = _version_fk()
    adrg: Mapped[str] = mapped_column(String(8), primary_key=True)
    list: Mapped[str] = mapped_column(String(12), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    proc_tag: Mapped[str] = mapped_column(String(8), primary_key=True, default="")


class DrgGroup(Base):
    """One DRG: its name (drg_groups) and its split rule (drg_split_rules)."""

    __tablename__ = "drg_group"

    version_id: Mapped[uuid.UUID] = _version_fk()
    drg: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    adrg: Mapped[str | None] = mapped_column(String(8))
    rule_function: Mapped[str | None] = mapped_column(String(16))
    condition: Mapped[str | None] = mapped_column(Text)


class DrgComplication(Base):
    """mcc_list, cc_list (kind mcc / cc) and cc_exclusion_by_pdx (kind pdx)."""

    __tablename__ = "drg_complication"
    __table_args__ = (CheckConstraint("kind in ('mcc', 'cc', 'pdx')", name="kind"),)

    version_id: Mapped[uuid.UUID] = _version_fk()
    kind: Mapped[str] = mapped_column(String(4), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    exclusion_table: Mapped[str] = mapped_column(String(12))


class DrgOrProcedure(Base):
    __tablename__ = "drg_or_procedure"

    version_id: Mapped[uuid.UUID] = _version_fk()
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class DrgCodeEdition(Base):
    """code_editions.csv: the code edition(s) each table of a version is written in."""

    __tablename__ = "drg_code_edition"
    __table_args__ = (CheckConstraint("edition in ('yibao', 'guolin')", name="edition"),)

    version_id: Mapped[uuid.UUID] = _version_fk()
    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    codes: Mapped[str] = mapped_column(String(12), primary_key=True)
    edition: Mapped[str] = mapped_column(String(8), primary_key=True)


class PaymentStandard(Base):
    """A city's payment standard: one scheme version + per-DRG parameters (SPEC section 2)."""

    __tablename__ = "payment_standard"
    __table_args__ = (
        UniqueConstraint("city_code", "label"),
        CheckConstraint(STATUSES, name="status"),
        CheckConstraint("avg_cost_all > 0", name="avg_cost_all_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    city_code: Mapped[str] = mapped_column(ForeignKey("tenant.code"))
    scheme_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drg_scheme_version.id"))
    label: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    # 住院均次费用 of all cases: the denominator of every base point.
    avg_cost_all: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    source: Mapped[str] = mapped_column(String(40))  # calibration | import
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PaymentStandardDrg(Base):
    __tablename__ = "payment_standard_drg"

    standard_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_standard.id", ondelete="CASCADE"), primary_key=True
    )
    drg: Mapped[str] = mapped_column(String(8), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    avg_cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    base_points: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    avg_los: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    cv: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    stable: Mapped[bool] = mapped_column(Boolean, default=True)
    base_group: Mapped[bool] = mapped_column(Boolean, default=False)
    bed_day: Mapped[bool] = mapped_column(Boolean, default=False)
    avg_daily_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    base_points_per_day: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    tcm: Mapped[bool] = mapped_column(Boolean, default=False)


class NewTechnology(Base):
    """A new medical technology admitted by the city for add-on points (SPEC section 5): cases with
    its procedure code get taper[year − first_year] × cost / avg_cost_all × 100 points on top."""

    __tablename__ = "new_technology"
    __table_args__ = (UniqueConstraint("city_code", "procedure_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    city_code: Mapped[str] = mapped_column(ForeignKey("tenant.code"))
    procedure_code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    first_year: Mapped[int] = mapped_column(SmallInteger)
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
