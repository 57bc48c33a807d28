"""The job analytics.refresh: a region's year of summary cells (models.AnalyticsCell), computed from
the year's cases in one set-wise statement into a temporary table, then written only when they
differ from what is stored (a digest of the cells and of what they were computed from), so a
refresh that changes nothing writes nothing, audit included. A city's refresh does each of its
regions.

What a cell counts (per hospital, discharge month, discharge department and DRG):
- The year's cases: the current, active version of each stay (cases/current.py) discharged in the
  year (discharge_month).
- Grouping: case_grouping under the scheme version of the payment standard in force on the year's
  last day in the region's city (as the evaluation's indicators read it, and the annual clearing).
  The cell's DRG is that grouping's code ('0000' and xQY included as their own DRGs; '' for a case
  not grouped under that version). Grouped = neither ungroupable nor ambiguous
  (grouping/drg_codes.py); RW, cost and time indices, drug and consumables shares: the evaluation
  indicators' definitions (evaluation/indicators/: rw_sql, drugs_sql, materials_sql; the formulas
  of formulas.FORMULAS are applied to the summed cells by views.py).
- Time index peers: as the evaluation's A06 (evaluation/indicators: peer_pool, peer_avg_los_sql):
  the hospitals of the same level in the region, or in every region of the city when the region's
  policy sets evaluation_peer_scope city; a DRG's peer average LOS is Σ LOS ÷ cases over the pool's
  grouped cases of that level and DRG in the year. City peers outside the caller's scope (a region
  administrator's refresh, or the one that follows its points run) are read in a session of their
  own over the peer regions, for those averages only (refresh_region).
- Points: the region's latest points run of the year (settlement/latest.py), joined by case
  id: a case in that run has its paid points, as settlement pays them
  (settlement.arithmetic.year.paid_points: the case's points × the evaluation's points coefficient
  of its hospital in the cleared run, 1 otherwise, less its deduction), and its type (high_outlier,
  low_outlier). A case not in the run (arrived or corrected after it) counts in cases, not points.
- Expected payment = paid points × the point value of the case's ledger: the year's published annual
  clearing (PV_exact, basis `cleared`, with the clearing's coefficients) when there is one, else the
  provisional point value of monthly pre-settlement (settlement/runs/settle.provisional_point_value:
  last year's clearing or the policy's fixed value; basis `provisional`). Kept exact in the cell;
  rounded half-up to the fen once, when a view shows a sum (so a cleared hospital's Σ equals its
  clearing line's due + self-pay). A ledger with no point value (none positive) prices nothing:
  its cases count in points, not in `priced_cases`. Profit or loss = expected payment − the actual
  cost (total cost) of the priced cases.
- Overspend: the weighed cases costing more than their DRG's average cost (the standard's), and
  Σ (cost − average) over them.
- Severe cases (SPEC section 10): grouped cases whose cost exceeds 3 × the DRG's average cost when
  that average is under 10,000 yuan, 2 × when it is 10,000 or more.

Concurrency: a transaction-level advisory lock per (region, year) (lock_region_year): a second
refresh waits, then finds the first's digest and writes nothing.

A refresh that changes nothing writes no cell and no audit entry; it stamps the refresh row's
refreshed_at (the year was checked then), so staleness compares later changes with the check.

Triggers: the kind follows settlement.points and grouping.group_cases (JobKind.follows): when one
succeeds, a refresh of each year it touched is submitted in its own transaction, so the summaries
follow it. It follows two events too (jobs.service.follow_event), submitted in their transaction
through the same outbox, keyed by what changed (the same change submits nothing twice): an annual
clearing published (settlement.runs.publish: its year's expected payment is then priced at the
cleared point value, and the next year's provisional one may be that clearing's), and a new policy
version (settlement.runs.policies: the provisional point value, the evaluation peer scope) of its
year (a city's defaults: each of its regions). A monthly run published changes no input of the
cells: nothing follows it. Publishing a standard is not followed; `analyticsStatus` reports it
(views.status: the stored inputs against inputs_of now, and the year's cases and groupings changed after refreshed_at).

A year with no case and no summary yet (the year after a clearing, say) is skipped: nothing is
written until it has cases to summarise."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.analytics.models import AnalyticsRefresh
from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.db.planner import HASH_JOINS, planner_settings
from dianshu.evaluation.indicators.queries import drugs_sql, materials_sql, peer_avg_los_sql, peer_pool, rw_sql
from dianshu.grouping.drg_codes import no_group_sql
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.year import paid_points_sql
from dianshu.settlement.events import POLICY_CHANGED, PUBLISHED
from dianshu.settlement.latest import latest_points_run
from dianshu.settlement.runs.inputs import policy_set, require_standard_in_force
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.policies import effective_policy
from dianshu.settlement.runs.settle import latest_published, provisional_point_value
from dianshu.tenancy.models import Tenant

REFRESH = "analytics.refresh"
STAGE = "analytics_stage"

# SPEC section 10: a severe case costs more than 3 × its DRG's average when the average is under
# 10,000 yuan, 2 × when it is 10,000 yuan or more.
SEVERE_AVERAGE_LINE = Decimal(10000)
SEVERE_MULTIPLE_BELOW = 3
SEVERE_MULTIPLE_ABOVE = 2

# The cells' columns and their SQL types (the temporary table's; analytics_cell's in migration 0017).
CELL_TYPES = (
    ("hospital_id", "varchar(20)"),
    ("month", "smallint"),
    ("department", "varchar(50)"),
    ("drg", "varchar(8)"),
    ("cases", "int"),
    ("grouped", "int"),
    ("weighed", "int"),
    ("rw_sum", "numeric(18, 6)"),
    ("weighed_cost", "numeric(16, 2)"),
    ("expected_cost", "numeric(16, 2)"),
    ("days", "int"),
    ("peer_days", "int"),
    ("expected_days", "numeric(18, 6)"),
    ("cost", "numeric(16, 2)"),
    ("drugs", "numeric(16, 2)"),
    ("materials", "numeric(16, 2)"),
    ("own_pay", "numeric(16, 2)"),
    ("run_cases", "int"),
    ("points", "numeric(16, 4)"),
    ("high_outliers", "int"),
    ("low_outliers", "int"),
    ("priced_cases", "int"),
    ("priced_cost", "numeric(16, 2)"),
    ("payment", "numeric"),
    ("over_cases", "int"),
    ("over_amount", "numeric(16, 2)"),
    ("severe_cases", "int"),
    ("severe_cost", "numeric(16, 2)"),
)
CELL_COLUMNS = tuple(n for n, _ in CELL_TYPES)

CELLS_SQL = f"""
insert into {STAGE} ({", ".join(CELL_COLUMNS)})
with pv as (
    select * from unnest(cast(:pv_ledgers as text[]), cast(:pv_values as numeric[])) as pv(ledger, value)
), coef as (
    select * from unnest(cast(:coef_ledgers as text[]), cast(:coef_hospitals as text[]),
                         cast(:coef_values as numeric[])) as k(ledger, hospital_id, value)
), pool as materialized (
    select c.tenant_id, c.id, c.hospital_id, c.discharge_month, c.discharge_dept, c.los_days, c.total_cost,
           c.charges, c.own_pay, g.drg, h.level,
           (g.drg is not null and not {no_group_sql("g.drg")}) as grouped
    from case_record c
    join hospital h on h.tenant_id = c.tenant_id and h.id = c.hospital_id
    left join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = :version
    where c.tenant_id = :t and {current_cases("c")}
      and c.discharge_month between :start and :end
), base as (
    select c.hospital_id, cast(extract(month from c.discharge_month) as smallint) as month,
           coalesce(c.discharge_dept, '') as department, coalesce(c.drg, '') as drg, c.level, c.grouped,
           {rw_sql("d")} as rw, d.avg_cost,
           c.los_days as los, c.total_cost as cost, {drugs_sql("c")} as drugs, {materials_sql("c")} as materials,
           c.own_pay, p.case_id is not null as in_run, p.type, pv.value as pv,
           {paid_points_sql("p.points", "p.deduction", "coalesce(k.value, 1)")} as points
    from pool c
    left join payment_standard_drg d on d.standard_id = :standard and d.drg = c.drg
    left join case_point p on p.tenant_id = c.tenant_id and p.run_id = cast(:run as uuid) and p.case_id = c.id
    left join pv on pv.ledger = p.ledger
    left join coef k on k.ledger = p.ledger and k.hospital_id = c.hospital_id
), peer as (
    select * from unnest(cast(:peer_levels as smallint[]), cast(:peer_drgs as text[]),
                         cast(:peer_avg_los as numeric[])) as e(level, drg, avg_los)
), cases as (
    select b.*, e.avg_los,
           b.grouped and b.rw is not null as weighed,
           b.grouped and b.avg_cost is not null
             and b.cost > b.avg_cost * case when b.avg_cost < {SEVERE_AVERAGE_LINE} then {SEVERE_MULTIPLE_BELOW}
                                            else {SEVERE_MULTIPLE_ABOVE} end as severe
    from base b left join peer e on b.grouped and e.level = b.level and e.drg = b.drg
)
select hospital_id, month, department, drg,
       cast(count(*) as int) as cases,
       cast(count(*) filter (where grouped) as int) as grouped,
       cast(count(*) filter (where weighed) as int) as weighed,
       coalesce(sum(rw) filter (where grouped), 0) as rw_sum,
       coalesce(sum(cost) filter (where weighed), 0) as weighed_cost,
       coalesce(sum(avg_cost) filter (where weighed), 0) as expected_cost,
       cast(sum(los) as int) as days,
       cast(coalesce(sum(los) filter (where grouped), 0) as int) as peer_days,
       cast(coalesce(sum(avg_los) filter (where grouped), 0) as numeric(18, 6)) as expected_days,
       sum(cost) as cost, sum(drugs) as drugs, sum(materials) as materials, sum(own_pay) as own_pay,
       cast(count(*) filter (where in_run) as int) as run_cases,
       coalesce(sum(points), 0) as points,
       cast(count(*) filter (where type = 'high_outlier') as int) as high_outliers,
       cast(count(*) filter (where type = 'low_outlier') as int) as low_outliers,
       cast(count(*) filter (where pv is not null) as int) as priced_cases,
       coalesce(sum(cost) filter (where pv is not null), 0) as priced_cost,
       coalesce(sum(points * pv), 0) as payment,
       cast(count(*) filter (where weighed and cost > avg_cost) as int) as over_cases,
       coalesce(sum(cost - avg_cost) filter (where weighed and cost > avg_cost), 0) as over_amount,
       cast(count(*) filter (where severe) as int) as severe_cases,
       coalesce(sum(cost) filter (where severe), 0) as severe_cost
from cases
group by hospital_id, month, department, drg
"""

# The time index's peer averages: a DRG's average stay over the pool's grouped stays of each
# hospital level (the evaluation's A06, peer_avg_los_sql), read apart from the cells so that a
# region's refresh can read city peers (refresh_region) without its own scope widening.
_PEER_STAYS = f"""(
    select h.level, g.drg, 1 as n, c.los_days as los
    from case_record c
    join hospital h on h.tenant_id = c.tenant_id and h.id = c.hospital_id
    join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = :version
    where c.tenant_id = any(cast(:peers as text[])) and {current_cases("c")}
      and c.discharge_month between :start and :end and not {no_group_sql("g.drg")}
) x"""
PEER_LOS_SQL = peer_avg_los_sql(_PEER_STAYS)

DIGEST_SQL = f"""
select count(*) as cells, coalesce(sum(cases), 0) as cases,
       md5(coalesce(string_agg(cast(s as text), '|' order by hospital_id, month, department, drg), '')) as digest
from {STAGE} s
"""


NO_CASE = "no case of the year"
ANY_CASE_SQL = """
select exists (select 1 from case_record
               where tenant_id = :t and discharge_month between make_date(:y, 1, 1) and make_date(:y, 12, 1))
"""


def check_year(value: Any) -> int:
    if (reason := bounds.year_reason(value)) is not None:
        raise JobRejected(f"year: {reason}", field="year")
    return int(value)


def check_parameters(p: dict[str, Any]) -> int:
    if unknown := sorted(set(p) - {"year"}):
        raise JobRejected(f"{unknown[0]}: unknown parameter (allowed: year)", field=unknown[0])
    if "year" not in p:
        raise JobRejected("year: required", field="year")
    return check_year(p["year"])


async def _tenant(session: AsyncSession, tenant: str) -> Tenant:
    t = (await session.execute(select(Tenant).where(Tenant.code == tenant))).scalar_one_or_none()
    if t is None:
        raise JobRejected(f"tenant: no tenant {tenant}", field="tenant")
    return t


async def check_refresh(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    check_parameters(p)
    await _tenant(session, tenant)


async def regions_of(session: AsyncSession, tenant: str) -> tuple[str, tuple[str, ...]]:
    """(city, regions): a region's own, or every region of a city."""
    t = await _tenant(session, tenant)
    if t.kind == "region":
        return str(t.parent_code), (tenant,)
    regions = (await session.execute(select(Tenant.code).where(Tenant.parent_code == tenant))).scalars()
    return tenant, tuple(sorted(regions))


async def point_values(session: AsyncSession, city: str, tenant: str, year: int) -> dict[str, dict[str, Any]]:
    """ledger -> {"value": the exact point value as text or None, "basis": cleared | provisional |
    none, "source": where it comes from}; a cleared ledger whose clearing applied the evaluation's
    points coefficients has them too ("coefficients": hospital -> coefficient as text)."""
    policies = await policy_set(session, city, tenant, year)
    out: dict[str, dict[str, Any]] = {}
    for ledger, p in sorted(policies.by_ledger.items()):
        cleared = await latest_published(session, tenant, "annual", year, ledger)
        if cleared is not None:
            out[ledger] = {
                "value": str(cleared.figures["PV_exact"]),
                "basis": "cleared",
                "source": f"annual run {cleared.id}",
            }
            if coefs := (cleared.inputs or {}).get("evaluation_coefficients"):
                out[ledger]["coefficients"] = {h: str(c) for h, c in sorted(coefs.items())}
            continue
        pv, source = await provisional_point_value(session, tenant, year, ledger, p.policy)
        if pv > 0:
            out[ledger] = {"value": str(pv), "basis": "provisional", "source": source}
        else:
            out[ledger] = {"value": None, "basis": "none", "source": source}
    return out


@dataclass(frozen=True)
class Inputs:
    """What a region's year of cells is computed from: the standard in force at the year's end, the
    latest points run, the point value (and coefficients) of each ledger, and the time index's peer
    pool (the regions whose cases are the peers). Read by the refresh and, to compare with the
    stored ones, by views.status."""

    standard: Any
    points_run: Any
    point_values: dict[str, dict[str, Any]]
    peers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "points_run": str(self.points_run.id) if self.points_run is not None else None,
            "standard": str(self.standard.id),
            "scheme_version": str(self.standard.scheme_version_id),
            "point_values": self.point_values,
            "peers": list(self.peers),
        }


async def peer_regions(session: AsyncSession, city: str, tenant: str, year: int) -> tuple[str, ...]:
    """The time index's peer pool, as the evaluation's (evaluation_peer_scope): the region itself,
    or every region of the city."""
    policy = (await effective_policy(session, city, tenant, year, "all")).policy
    if peer_pool(policy.evaluation_peer_scope, tenant) != "city":
        return (tenant,)
    rows = await session.execute(select(Tenant.code).where(Tenant.parent_code == city).order_by(Tenant.code))
    return tuple(rows.scalars())


async def inputs_of(session: AsyncSession, city: str, tenant: str, year: int) -> Inputs:
    """The inputs a refresh of `tenant`'s year would read now (JobRejected: no standard in force)."""
    std = await require_standard_in_force(session, city, datetime.date(year, 12, 31))
    run = await latest_points_run(session, tenant, year)
    pvs = await point_values(session, city, tenant, year)
    return Inputs(std, run, pvs, await peer_regions(session, city, tenant, year))


async def lock_region_year(session: AsyncSession, tenant: str, year: int) -> None:
    """One refresh of a region's year at a time (a transaction-level advisory lock, as the national
    export's): a second waits, then finds the cells the first wrote (its digest) and writes nothing."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"analytics:{tenant}:{year}", 0))))


async def peer_averages(
    session: AsyncSession, peers: Sequence[str], version: Any, year: int
) -> tuple[list[int], list[str], list[Decimal]]:
    """The time index's peer averages (PEER_LOS_SQL) as the cells statement takes them: levels,
    DRGs and average stays, in three arrays."""
    rows = (
        await session.execute(
            text(PEER_LOS_SQL),
            {
                "peers": list(peers),
                "version": version,
                "start": datetime.date(year, 1, 1),
                "end": datetime.date(year, 12, 1),
            },
        )
    ).all()
    return [r.level for r in rows], [r.drg for r in rows], [r.avg_los for r in rows]


async def refresh_region(
    session: AsyncSession,
    ctx_scope: Any,
    job_id: Any,
    city: str,
    tenant: str,
    year: int,
    *,
    db: Any = None,
) -> dict[str, Any]:
    """Compute one region's year; write it when it differs from what is stored. Returns what it did.

    City peers (evaluation_peer_scope city) outside the caller's scope (a region administrator's
    refresh, or the one that follows its points run) are read by the platform in a session of
    their own over the peer regions (`db`), for their per-level, per-DRG average stays only: no
    case, hospital or figure of another region reaches the region's cells, and the caller's scope
    does not widen (unlike the evaluation run, which scores the other regions' hospitals and so is
    the city administrator's)."""
    await lock_region_year(session, tenant, year)
    try:
        inp = await inputs_of(session, city, tenant, year)
    except JobRejected as e:
        # Nothing to summarise yet (a grouping before the first standard is published, say): the
        # refresh writes nothing and says why; the points run that follows a standard refreshes.
        return {"tenant": tenant, "year": year, "cells": 0, "cases": 0, "changed": False, "skipped": str(e)}
    R = AnalyticsRefresh
    stored = (await session.execute(select(R).where(R.tenant_id == tenant, R.year == year))).scalar_one_or_none()
    # A year with no summary and no case (the year after a clearing, say): skipped before the cells
    # are computed (an index look-up); one whose cases are all superseded or recalled, after.
    if stored is None and not (await session.execute(text(ANY_CASE_SQL), {"t": tenant, "y": year})).scalar_one():
        return {"tenant": tenant, "year": year, "cells": 0, "cases": 0, "changed": False, "skipped": NO_CASE}
    std, run, pvs = inp.standard, inp.points_run, inp.point_values
    priced = [(ledger, Decimal(v["value"])) for ledger, v in pvs.items() if v["value"] is not None]
    coefs = [
        (ledger, h, Decimal(c))
        for ledger, v in pvs.items()
        if v["value"] is not None
        for h, c in (v.get("coefficients") or {}).items()
    ]
    version = std.scheme_version_id
    if set(inp.peers) <= set(ctx_scope.tenant_ids):
        levels, drgs, averages = await peer_averages(session, inp.peers, version, year)
    else:
        if db is None:
            raise RuntimeError("refresh_region: city peers outside the caller's scope need `db` to be read")
        peers_scope = Scope.system(inp.peers, actor=f"job:{job_id} time index peers")
        async with db.session(peers_scope) as ps, ps.begin():
            levels, drgs, averages = await peer_averages(ps, inp.peers, version, year)
    await session.execute(text(f"drop table if exists {STAGE}"))
    cols = ", ".join(f"{n} {t}" for n, t in CELL_TYPES)
    await session.execute(text(f"create temporary table {STAGE} ({cols}) on commit drop"))
    # Hash joins for the cells: this refresh follows a points run at once, before autovacuum has
    # analysed the million case points it wrote, and row-level security hides the region's share of
    # the cases; on those estimates a 200,000-case region's cells ran for over 13 minutes (4 s for
    # a 50,000-case region with statistics). Hash joins do not depend on the estimates.
    async with planner_settings(session, HASH_JOINS):
        await session.execute(
            text(CELLS_SQL),
            {
                "t": tenant,
                "peer_levels": levels,
                "peer_drgs": drgs,
                "peer_avg_los": averages,
                "start": datetime.date(year, 1, 1),
                "end": datetime.date(year, 12, 1),
                "version": std.scheme_version_id,
                "standard": std.id,
                "run": run.id if run is not None else None,
                "pv_ledgers": [x[0] for x in priced],
                "pv_values": [x[1] for x in priced],
                "coef_ledgers": [x[0] for x in coefs],
                "coef_hospitals": [x[1] for x in coefs],
                "coef_values": [x[2] for x in coefs],
            },
        )
    d = (await session.execute(text(DIGEST_SQL))).one()
    inputs = inp.as_dict()
    digest = hashlib.sha256(
        (json.dumps(inputs, sort_keys=True, separators=(",", ":")) + ":" + d.digest).encode()
    ).hexdigest()
    summary = {"tenant": tenant, "year": year, "cells": int(d.cells), "cases": int(d.cases), **inputs}
    if stored is None and int(d.cases) == 0:
        return {
            "tenant": tenant,
            "year": year,
            "cells": 0,
            "cases": 0,
            "changed": False,
            "skipped": NO_CASE,
        }
    if stored is not None and stored.digest == digest:
        # Nothing changed: no cell is written and nothing audited; the refresh row records that the
        # year was checked now (its timestamp only), so the status compares later changes with it.
        # A row from before the peers were kept (null) gets them: the status compares them from now on.
        await session.execute(
            update(R)
            .where(R.tenant_id == tenant, R.year == year)
            .values(refreshed_at=func.now(), peers=list(inp.peers))
        )
        return {**summary, "changed": False}
    for table in ("analytics_cell", "analytics_month"):
        await session.execute(text(f"delete from {table} where tenant_id = :t and year = :y"), {"t": tenant, "y": year})
    cols = ", ".join(CELL_COLUMNS)
    await session.execute(
        text(
            f"insert into analytics_cell (tenant_id, year, {cols}) "
            f"select cast(:t as varchar), cast(:y as smallint), {cols} from {STAGE}"
        ),
        {"t": tenant, "y": year},
    )
    keys = ("hospital_id", "month", "department")
    sums = ", ".join(f"sum({c})" for c in CELL_COLUMNS if c not in (*keys, "drg"))
    month_cols = ", ".join(c for c in CELL_COLUMNS if c != "drg")
    await session.execute(
        text(
            f"insert into analytics_month (tenant_id, year, {month_cols}) "
            f"select cast(:t as varchar), cast(:y as smallint), {', '.join(keys)}, {sums} from {STAGE} "
            f"group by {', '.join(keys)}"
        ),
        {"t": tenant, "y": year},
    )
    values = {
        "points_run_id": run.id if run is not None else None,
        "standard_id": std.id,
        "scheme_version_id": std.scheme_version_id,
        "point_values": pvs,
        "peers": list(inp.peers),
        "digest": digest,
        "cells": int(d.cells),
        "cases": int(d.cases),
        "job_id": job_id,
        "refreshed_by": ctx_scope.actor,
    }
    await session.execute(
        insert(AnalyticsRefresh)
        .values(tenant_id=tenant, year=year, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "year"], set_={**values, "refreshed_at": text("now()")})
    )
    await audit.record(session, ctx_scope, tenant, "analytics.refresh", f"analytics:{tenant}:{year}", **summary)
    return {**summary, "changed": True}


def follow(kind: str, params: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """The years a finished points run or grouping job, a published clearing or a policy change
    touched: a refresh of each follows it."""
    if kind == POINTS:
        years = [params.get("year")]
    elif kind == PUBLISHED:
        # A clearing prices its year (basis cleared) and is the next year's provisional point value
        # (rule last_year_final); a monthly run is an input of neither.
        years = [params["year"], params["year"] + 1] if params.get("kind") == "annual" else []
    elif kind == POLICY_CHANGED:
        years = [params.get("year")]
    else:  # GROUP_CASES: its period
        try:
            years = list(range(int(str(result["from"])[:4]), int(str(result["to"])[:4]) + 1))
        except (KeyError, ValueError):
            years = []
    return [{"year": y} for y in years if bounds.year_reason(y) is None]


@job_kind(
    REFRESH,
    roles={"city_admin", "region_admin"},
    check=check_refresh,
    follows={POINTS, GROUP_CASES, PUBLISHED, POLICY_CHANGED},
    follow=follow,
)
async def refresh_job(ctx: JobContext) -> dict[str, Any]:
    year = check_parameters(ctx.params)
    if not ctx.scope.all_hospitals:
        raise JobRejected("scope: analytics are refreshed for a whole region (every hospital)", field="tenant")
    city, regions = await regions_of(ctx.session, ctx.tenant_id)
    done = []
    for i, region in enumerate(regions):
        await ctx.progress(i, len(regions), f"analytics {region} {year}")
        done.append(await refresh_region(ctx.session, ctx.scope, ctx.job_id, city, region, year, db=ctx.db))
    return {
        "year": year,
        "regions": len(regions),
        "changed": sum(1 for r in done if r["changed"]),
        "cells": sum(r["cells"] for r in done),
        "cases": sum(r["cases"] for r in done),
        "skipped": [f"{r['tenant']}: {r['skipped']}" for r in done if r.get("skipped")],
    }
