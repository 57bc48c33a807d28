"""The year's latest points run: one rule, one home. A region's points are computed year to date
and re-run (new versions); what counts as a case's points of the year is its row in the tenant's
latest points run of that year: the highest through_month, then the highest version. Every query
that means it writes latest_points_runs()."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.settlement.models import PointsRun

# The order that puts a tenant's year's latest run first, as SQL (distinct on ... order by ...).
LATEST_FIRST = "through_month desc, version desc"


async def latest_points_run(session: AsyncSession, tenant: str, year: int) -> PointsRun | None:
    """The run itself, for one tenant and year (None before the first)."""
    R = PointsRun
    return (
        await session.execute(
            select(R)
            .where(R.tenant_id == tenant, R.year == year)
            .order_by(R.through_month.desc(), R.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def latest_points_runs(condition: str) -> str:
    """The rule as a SQL query (tenant_id, id, year: one row per tenant and year) over the points
    runs that match `condition` (on points_run's own columns, unqualified)."""
    return f"""select distinct on (tenant_id, year) tenant_id, id, year
    from points_run
    where {condition}
    order by tenant_id, year, {LATEST_FIRST}"""


# A case's points of its year: its row in the latest points run of its tenant and year (a case is
# counted only in runs of its discharge year). Keys are (tenant, case id) pairs, read set-wise.
SQL_CASE_POINTS = f"""
with k as (
    select * from unnest(cast(:tenants as text[]), cast(:ids as bigint[])) as k(tenant_id, case_id)
), run as (
    {latest_points_runs("tenant_id = any(cast(:tenants as text[]))")}
)
select p.*, run.year
from k
join case_point p on p.tenant_id = k.tenant_id and p.case_id = k.case_id
join run on run.tenant_id = p.tenant_id and run.id = p.run_id"""


def case_type_condition(param: str) -> str:
    """A condition on case_record (unaliased): the case's points in its year's latest run are of
    one of the types in the bound array `param`."""
    return f"""exists (
    select 1 from case_point p
    join ({latest_points_runs("true")}) lr on lr.tenant_id = p.tenant_id and lr.id = p.run_id
    where p.tenant_id = case_record.tenant_id and p.case_id = case_record.id
      and p.type = any(cast(:{param} as text[])))"""


OUTLIER_TYPES = ("high_outlier", "low_outlier")


async def latest_case_points(session: AsyncSession, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """(tenant, case id) -> the case's case_point row (with the run's year) in its year's latest
    points run; a key without one (no run yet, or a version the run did not count) is left out."""
    if not keys:
        return {}
    params = {"tenants": [t for t, _ in keys], "ids": [i for _, i in keys]}
    rows = (await session.execute(text(SQL_CASE_POINTS), params)).all()
    return {(r.tenant_id, r.case_id): r for r in rows}
