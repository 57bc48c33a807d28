"""The analytics summary tables.

analytics_cell: one row per region, year, hospital, discharge month, discharge department and DRG
with additive figures only (counts and sums), so that every view (a hospital by department, by DRG,
by month; a region's hospitals; a city's regions; a year against the year before) sums cells and
forms its ratios from the sums (views.py), never from averages of averages. Hospital-scoped under
row-level security: a hospital sees its own cells only.

analytics_refresh: what one region's year was last computed from (the points run, the standard and
its scheme version, the point value of each ledger and where it came from, the time index's peers) with a digest of the
cells, so a refresh that would change nothing writes nothing (but stamps refreshed_at: checked).
Tenant-scoped: a hospital's user reads the row, but the status shows it its own counts only."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, Numeric, SmallInteger, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base

MONEY = Numeric(16, 2)
POINTS = Numeric(16, 4)
WEIGHT = Numeric(18, 6)


class AnalyticsCell(Base):
    __tablename__ = "analytics_cell"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # The discharge department (出院科别) as the settlement list gives it; '' when it gives none.
    department: Mapped[str] = mapped_column(String(50), primary_key=True)
    # The DRG under the payment standard in force at the year's end ('0000' ungroupable, xQY
    # ambiguous); '' for a case not grouped under that standard's scheme version.
    drg: Mapped[str] = mapped_column(String(8), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    grouped: Mapped[int] = mapped_column(Integer)  # grouped into a DRG (neither 0000 nor xQY)
    weighed: Mapped[int] = mapped_column(Integer)  # grouped, and the standard has the DRG's RW
    rw_sum: Mapped[Decimal] = mapped_column(WEIGHT)  # Σ RW: the total weight
    weighed_cost: Mapped[Decimal] = mapped_column(MONEY)  # Σ cost of the weighed cases
    expected_cost: Mapped[Decimal] = mapped_column(MONEY)  # Σ the DRG's average cost over them
    days: Mapped[int] = mapped_column(Integer)  # Σ LOS of every case
    peer_days: Mapped[int] = mapped_column(Integer)  # Σ LOS of the grouped cases
    expected_days: Mapped[Decimal] = mapped_column(WEIGHT)  # Σ their DRG's peer average LOS
    cost: Mapped[Decimal] = mapped_column(MONEY)  # Σ total cost (actual cost)
    drugs: Mapped[Decimal] = mapped_column(MONEY)
    materials: Mapped[Decimal] = mapped_column(MONEY)
    own_pay: Mapped[Decimal] = mapped_column(MONEY)
    run_cases: Mapped[int] = mapped_column(Integer)  # cases in the points run
    points: Mapped[Decimal] = mapped_column(POINTS)  # Σ paid points (settlement's paid_points)
    high_outliers: Mapped[int] = mapped_column(Integer)
    low_outliers: Mapped[int] = mapped_column(Integer)
    priced_cases: Mapped[int] = mapped_column(Integer)  # run cases whose ledger has a point value
    priced_cost: Mapped[Decimal] = mapped_column(MONEY)
    # Σ points × the ledger's point value, exact (unrounded): rounded to the fen once, when shown.
    payment: Mapped[Decimal] = mapped_column(Numeric)
    over_cases: Mapped[int] = mapped_column(Integer)  # weighed cases costing more than the DRG's average
    over_amount: Mapped[Decimal] = mapped_column(MONEY)  # Σ (cost − average) over them
    severe_cases: Mapped[int] = mapped_column(Integer)
    severe_cost: Mapped[Decimal] = mapped_column(MONEY)


class AnalyticsMonth(Base):
    """The cells summed over their DRGs (per hospital, month and department): the views that do not
    group or filter by DRG read these, a hundredth of the rows. Written with the cells."""

    __tablename__ = "analytics_month"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hospital_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    department: Mapped[str] = mapped_column(String(50), primary_key=True)


for _c in AnalyticsCell.__table__.columns:
    if _c.name not in AnalyticsMonth.__table__.columns:
        AnalyticsMonth.__table__.append_column(_c._copy())


class AnalyticsRefresh(Base):
    __tablename__ = "analytics_refresh"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    points_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    standard_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scheme_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # ledger -> {"value": exact point value or null, "basis": cleared | provisional | none, "source": ...}
    point_values: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The time index's peer pool (the regions whose cases were the peers, refresh.peer_regions);
    # null on a row written before it was kept (migration 0021): the status says so.
    peers: Mapped[list[str] | None] = mapped_column(JSONB)
    digest: Mapped[str] = mapped_column(String(64))
    cells: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    refreshed_by: Mapped[str] = mapped_column(String(200))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
