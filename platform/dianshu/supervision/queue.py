"""The audit queue's order (issue 12, item 6): each open finding's priority is the anomaly score of
its cases in the latest anomaly run of its tenant and year (the highest of them), or, for a
hospital-level finding (whose cases are evidence of a signal, not its subject), the hospital's mean
case score in that run. Both are on the
model's 0–100 scale, so the queue (findings by priority, then severity) puts the most unusual
first. Recomputed when either side changes: at the end of an anomaly run and of a supervision run;
a decided finding keeps the priority it was decided with."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.db.planner import HASH_JOINS, planner_settings

HAS_RUN = "select 1 from anomaly_run where tenant_id = any(cast(:tenants as text[])) and year = :year limit 1"

# Findings of the year whose priority differs from their cases' (or hospital's) score in the latest
# anomaly run; only those rows are written (a re-run that changes nothing writes nothing).
PRIORITISE = """
with run as (
    select distinct on (tenant_id) tenant_id, id from anomaly_run
    where tenant_id = any(cast(:tenants as text[])) and year = :year
    order by tenant_id, created_at desc, id
), open_cases as materialized (
    select fc.tenant_id, fc.finding_id, fc.hospital_id, fc.list_id
    from supervision_finding f
    join supervision_finding_case fc on fc.tenant_id = f.tenant_id and fc.finding_id = f.id
    where f.tenant_id = any(cast(:tenants as text[])) and f.year = :year and f.state = 'open'
      and f.level = 'case'
), run_scores as materialized (
    select a.tenant_id, a.hospital_id, a.list_id, a.score
    from run r join case_anomaly a on a.tenant_id = r.tenant_id and a.run_id = r.id
), by_case as (
    select o.tenant_id, o.finding_id, max(s.score) as score
    from open_cases o
    join run_scores s on s.tenant_id = o.tenant_id and s.hospital_id = o.hospital_id and s.list_id = o.list_id
    group by o.tenant_id, o.finding_id
), by_hospital as (
    select f.tenant_id, f.id as finding_id, ha.mean_score as score
    from supervision_finding f
    join run r on r.tenant_id = f.tenant_id
    join hospital_anomaly ha on ha.tenant_id = f.tenant_id and ha.run_id = r.id and ha.hospital_id = f.hospital_id
    where f.tenant_id = any(cast(:tenants as text[])) and f.year = :year and f.state = 'open'
      and f.level = 'hospital'
), scores as (
    select * from by_case union all select * from by_hospital
)
update supervision_finding f set priority = s.score
from scores s
where f.tenant_id = s.tenant_id and f.id = s.finding_id and f.priority is distinct from s.score
"""


async def prioritise(session: AsyncSession, tenants: Sequence[str], year: int) -> int:
    """Set the open findings' priorities of `tenants` and `year` from the latest anomaly runs; the
    number of findings whose priority changed."""
    binds = {"tenants": list(tenants), "year": year}
    if (await session.execute(text(HAS_RUN), binds)).first() is None:
        return 0  # no anomaly run yet: nothing to order by
    # Hash joins on whole keys: the run's scores were written in this transaction (no statistics
    # yet: estimated at one row) and row-level security hides the rest from the planner, which once
    # chose nested loops that rescanned the findings, and once merged the findings with the scores
    # on the tenant alone (82 million rows, 190 s for one region). The two sides are materialised
    # apart, so nothing but the case's key can join them, and only hash joins are allowed.
    async with planner_settings(session, HASH_JOINS):
        result = await session.execute(text(PRIORITISE), binds)
    return result.rowcount or 0
