"""The points run (SPEC section 6): every current case's points for a region's year up to a month
(job POINTS), stored with their inputs; it is never changed. The points are the engine's
(arithmetic/year.py), the same arithmetic as the simulation."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.db.copy import copy_text, stage
from dianshu.db.partitions import ensure_year_partition
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.settlement.arithmetic.year import SettlementInputError, case_results
from dianshu.settlement.models import PointsRun
from dianshu.settlement.runs.inputs import check_period, city_of, load_points_inputs
from dianshu.settlement.runs.versions import lock, next_version

POINTS = "settlement.points"
POINT_STAGE = (
    ("case_id", "bigint"),
    ("hospital_id", "text"),
    ("list_id", "text"),
    ("ledger", "text"),
    ("month", "smallint"),
    ("drg", "text"),
    ("type", "text"),
    ("points", "numeric"),
    ("original", "numeric"),
    ("addon", "numeric"),
    ("deduction", "numeric"),
    ("self_pay", "numeric"),
    ("fund_pay", "numeric"),
    ("reason", "text"),
)
POINT_COLUMNS = tuple(n for n, _ in POINT_STAGE)


async def compute_points(ctx: JobContext, year: int, through_month: int) -> PointsRun:
    """Compute and store a points run (a new version) for the tenant's year up to `through_month`."""
    s = ctx.session
    # The year's partition of case_point, in a short transaction of its own before this one touches
    # case_point: creating it (once a year) locks the parent, which must not last the whole run.
    async with ctx.db.session(ctx.scope) as ps, ps.begin():
        await ensure_year_partition(ps, "case_point", year)
    await ctx.progress(0, None, "reading cases")
    inp = await load_points_inputs(s, ctx.tenant_id, year, through_month)
    total = len(inp.cases)
    await ctx.progress(0, total, f"{total:,} cases")
    by_ledger: dict[str, list[int]] = defaultdict(list)
    for cid, lc in inp.cases.items():
        by_ledger[inp.policies.ledger_of(lc.case.fund_type)].append(cid)
    # COPY cannot write through row-level security: stage in a temporary table, then insert.
    staged = await stage(s, "points_stage", POINT_STAGE)
    types: Counter[str] = Counter()
    points_by_ledger: dict[str, Decimal] = defaultdict(Decimal)
    done = 0
    for ledger, ids in sorted(by_ledger.items()):
        try:
            results = case_results(
                (inp.cases[i].case for i in ids),
                inp.groups,
                inp.standard.avg_cost_all,
                inp.hospitals,
                inp.policies.policy(ledger),
            )
        except SettlementInputError as e:
            raise JobRejected(str(e), field=e.where) from e
        lines = []
        for cid in ids:
            r = results[str(cid)]
            lc = inp.cases[cid]
            types[r.type] += 1
            points_by_ledger[ledger] += r.points - r.deduction
            # Codes, numbers and the ledger need no COPY escaping; the list id and the reason might.
            lines.append(
                f"{cid}\t{r.hospital}\t{copy_text(lc.list_id)}\t{ledger}\t{r.month}\t{lc.drg}\t{r.type}\t"
                f"{r.points}\t{r.original}\t{r.addon}\t{r.deduction}\t{r.self_pay}\t{r.fund_pay}\t"
                f"{copy_text(r.reason)}\n"
            )
        await staged.copy_lines(lines)
        done += len(ids)
        await ctx.progress(done, total, f"{done:,} case points")
    summary = {
        "cases": total,
        "types": dict(sorted(types.items())),
        "points": {k: str(v) for k, v in points_by_ledger.items()},
    }
    await lock(s, f"points:{ctx.tenant_id}:{year}:{through_month}")
    version = await next_version(
        s,
        PointsRun,
        PointsRun.tenant_id == ctx.tenant_id,
        PointsRun.year == year,
        PointsRun.through_month == through_month,
    )
    run = PointsRun(
        tenant_id=ctx.tenant_id,
        id=uuid.uuid4(),
        year=year,
        through_month=through_month,
        version=version,
        standard_id=inp.standard.id,
        scheme_version_id=inp.standard.scheme_version_id,
        inputs={
            "standard": {"id": str(inp.standard.id), "label": inp.standard.label},
            "avg_cost_all": str(inp.standard.avg_cost_all),
            "policy": inp.policies.snapshot(),
            "hospitals": {h.code: {"coefficient": str(h.coefficient), "type": h.type} for h in inp.hospitals.values()},
            **inp.fingerprints,
        },
        summary=summary,
        job_id=ctx.job_id,
        created_by=ctx.scope.actor,
    )
    s.add(run)
    await s.flush()

    cols = ", ".join(POINT_COLUMNS)
    await s.execute(
        text(
            f"insert into case_point (tenant_id, run_id, year, {cols}) "
            f"select cast(:t as varchar), cast(:r as uuid), cast(:y as smallint), {cols} from points_stage"
        ),
        {"t": ctx.tenant_id, "r": run.id, "y": year},
    )
    await s.execute(
        text("""
        insert into points_month (tenant_id, run_id, hospital_id, ledger, month, cases, points, original,
                                  deductions, self_pay, fund_pay)
        select cast(:t as varchar), cast(:r as uuid), hospital_id, ledger, month, count(*), sum(points),
               sum(original), sum(deduction), sum(self_pay), sum(fund_pay)
        from points_stage group by hospital_id, ledger, month"""),
        {"t": ctx.tenant_id, "r": run.id},
    )
    await audit.record(
        s,
        ctx.scope,
        ctx.tenant_id,
        "settlement.points",
        f"points_run:{run.id}",
        year=year,
        month=through_month,
        **summary,
    )
    return run


async def check_points(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    check_period(p.get("year"), p.get("month", 12))
    await city_of(session, tenant)


@job_kind(POINTS, roles={"city_admin", "region_admin"}, check=check_points)
async def points_job(ctx: JobContext) -> dict[str, Any]:
    year, month = check_period(ctx.params.get("year"), ctx.params.get("month", 12))
    run = await compute_points(ctx, year, month)
    return {"points_run": str(run.id), "version": run.version, **run.summary}
