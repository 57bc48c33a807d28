"""The year's latest points run of a region: the highest through_month, then the highest version.
One home for the rule (the evaluation's point indicators and the analytics summaries read it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.settlement.models import PointsRun

# As SQL, for statements that pick it per tenant and year (distinct on ... order by ...).
LATEST_FIRST = "through_month desc, version desc"


async def latest_points_run(session: AsyncSession, tenant: str, year: int) -> PointsRun | None:
    R = PointsRun
    return (
        await session.execute(
            select(R)
            .where(R.tenant_id == tenant, R.year == year)
            .order_by(R.through_month.desc(), R.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
