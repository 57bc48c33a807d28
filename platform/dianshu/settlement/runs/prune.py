"""Superseded points runs, and dropping their case points (`dianshu db prune-runs`).

A points run is superseded when it is not its tenant's year's latest run (settlement/latest.py, the
one rule) and no published settlement run was computed from it. Pruning one deletes its rows from
case_point (from its year's partition alone: db/partitions.py) and sets its `pruned_at`; the run
itself, its summary and inputs, and its hospitals' monthly totals (points_month) stay, so what was
computed stays on record. A pruned run can then be neither settled (runs/settle.py) nor have a
draft settled from it published (runs/publish.py): a published run's case points are never gone.

Runs as the owner role (the runtime role may not delete case points), under a system scope of the
tenants named, so row-level security still bounds what it touches (and every statement names the
tenants too). Each pruned run is audited in its tenant; a second prune finds nothing and writes
nothing. Deleted rows are dead space until vacuumed: `vacuum_statements` (run after the commit,
outside a transaction) makes it reusable by the next runs at once instead of at autovacuum's pace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.db.partitions import partition_name
from dianshu.scope import Scope
from dianshu.settlement.latest import latest_points_runs

AUDIT_ACTION = "settlement.points_pruned"


@dataclass(frozen=True)
class Superseded:
    tenant_id: str
    id: uuid.UUID
    year: int
    through_month: int
    version: int
    case_points: int = 0  # rows deleted (0 in a dry run)


def _superseded_sql(lock: bool) -> str:
    return f"""
with latest as (
    {latest_points_runs("tenant_id = any(cast(:tenants as text[]))")}
)
select r.tenant_id, r.id, r.year, r.through_month, r.version
from points_run r
where r.tenant_id = any(cast(:tenants as text[]))
  and (cast(:year as int) is null or r.year = cast(:year as int))
  and r.pruned_at is null
  and not exists (select 1 from latest l where l.tenant_id = r.tenant_id and l.id = r.id)
  and not exists (select 1 from settlement_run s
                  where s.tenant_id = r.tenant_id and s.points_run_id = r.id and s.status = 'published')
order by r.tenant_id, r.year, r.through_month, r.version
{"for update of r" if lock else ""}"""


async def superseded_runs(session: AsyncSession, tenants: Sequence[str], year: int | None = None) -> list[Superseded]:
    """The superseded, not yet pruned, points runs of `tenants` (of `year`, or of every year)."""
    rows = await session.execute(text(_superseded_sql(False)), {"tenants": list(tenants), "year": year})
    return [Superseded(r.tenant_id, r.id, r.year, r.through_month, r.version) for r in rows]


async def prune_runs(
    session: AsyncSession, scope: Scope, tenants: Sequence[str], year: int | None = None
) -> list[Superseded]:
    """Delete the case points of the superseded runs (in the session's transaction) and audit each.

    Locks first, then the list read again (a new statement sees what committed meanwhile): the
    runs FOR UPDATE, which a new settlement's foreign key check (FOR KEY SHARE) waits for or makes
    this wait for, and the settlement runs made from them FOR UPDATE, as publishing locks its run;
    so a run published in between is kept, and a settlement or a publication that comes after the
    prune sees the run pruned and is refused."""
    params = {"tenants": list(tenants), "year": year}
    await session.execute(text(_superseded_sql(True)), params)
    await session.execute(
        text(f"""
        select 1 from settlement_run s
        where (s.tenant_id, s.points_run_id) in (select tenant_id, id from ({_superseded_sql(False)}) r)
        for update of s"""),
        params,
    )
    done = []
    for r in await superseded_runs(session, tenants, year):
        deleted = (
            await session.execute(
                text("delete from case_point where tenant_id = :t and year = :y and run_id = :r"),
                {"t": r.tenant_id, "y": r.year, "r": r.id},
            )
        ).rowcount
        await session.execute(
            text("update points_run set pruned_at = now() where tenant_id = :t and id = :r"),
            {"t": r.tenant_id, "r": r.id},
        )
        await audit.record(
            session,
            scope,
            r.tenant_id,
            AUDIT_ACTION,
            f"points_run:{r.id}",
            year=r.year,
            month=r.through_month,
            version=r.version,
            case_points=deleted,
        )
        done.append(Superseded(r.tenant_id, r.id, r.year, r.through_month, r.version, deleted))
    return done


def vacuum_statements(pruned: Sequence[Superseded]) -> list[str]:
    """VACUUM (ANALYZE) of each year partition the prune deleted from (not FULL: no exclusive lock)."""
    return [f"vacuum (analyze) {partition_name('case_point', y)}" for y in sorted({r.year for r in pruned})]
