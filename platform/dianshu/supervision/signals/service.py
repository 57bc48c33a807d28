"""PEPPER-style hospital signals (job signals.run): per hospital, target area and year, over the run's
year and the `signal_years − 1` years before it, in one set-wise SQL statement.

Target areas (value = numerator / denominator, 4 places, half-up):
  one_day_stay       stays with LOS ≤ signal_short_stay_max_los / all stays
  readmission_short  stays that readmit: admitted within signal_readmission_short_days calendar days of
                     the same patient's previous discharge from the same hospital, not planned
                     (31-day planned flag), / all stays (a previous stay before the window counts)
  readmission_long   the same within signal_readmission_long_days
  mcc_cc             cases in a DRG ending in 1 (with MCC) or 3 (with CC) / cases in split ADRGs (ADRGs
                     with more than one DRG in the scheme version)
  error_prone        cases in signal_error_prone_drgs / cases in those DRGs' ADRGs
  own_pay            own-pay (自费) / total cost, in yuan; its `cases` are the stays with any own-pay
The grouping areas read the grouping under the scheme version of the payment standard in force at the
year's end; a case not grouped under it leaves those areas only. Stays are the current, active cases,
by discharge month.

Percentile: among the peers (hospitals of the same level with a value for the area and year, in the
region, or in the city for a city's run), percentile = (rank − 1) / (peers − 1) × 100 with rank the
hospital's place by value ascending (ties share the lowest place), 2 places: 0 the lowest, 100 the
highest (null when it has no peer). Flag: `high` at or above signal_high_percentile, `low` at or below
signal_low_percentile, only with at least signal_min_peers peers. Trend: the value less the value of the
hospital's first year in the window (null in that first year). Audit queue: the flagged rows of the
run's year by priority = |percentile − 50| / 50 × cases (how unusual, 0 to 1, times how many cases),
4 places; the distance from the median percentile rather than a z-score because it is what PEPPER shows
and needs no assumption on the shape of the peers' spread."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.db.copy import stage
from dianshu.grouping.drg_codes import with_complication_sql
from dianshu.jobs.context import JobContext
from dianshu.jobs.kinds import job_kind
from dianshu.supervision.signals.coverage import Coverage, check_params, check_year, coverage
from dianshu.supervision.signals.models import HospitalSignal, SignalRun

SIGNALS = "signals.run"

STAGE = "signal_stage"

STAGE_COLUMNS = (
    ("tenant_id", "text"),
    ("hospital_id", "text"),
    ("year", "int"),
    ("area", "text"),
    ("level", "smallint"),
    ("value", "numeric"),
    ("numerator", "numeric"),
    ("denominator", "numeric"),
    ("cases", "bigint"),
    ("peers", "bigint"),
    ("percentile", "numeric"),
    ("flag", "text"),
    ("trend", "numeric"),
    ("priority", "numeric"),
)

SIGNALS_SQL = f"""
insert into {STAGE} ({", ".join(n for n, _ in STAGE_COLUMNS)})
with base as (
  select c.tenant_id, c.id, c.hospital_id, c.patient_id, c.admit_time, c.discharge_time, c.discharge_month,
         c.los_days, c.readmit_planned, c.own_pay, c.total_cost,
         lag(c.discharge_time) over (
           partition by c.tenant_id, c.hospital_id, c.patient_id order by c.admit_time, c.id) as previous_discharge
  from case_record c
  where c.tenant_id = any(cast(:tenants as text[])) and {current_cases("c")}
    and c.discharge_month between cast(:lookback as date) and cast(:last as date)
),
stays as (
  select b.*, extract(year from b.discharge_month)::int as year,
         case when not b.readmit_planned and b.previous_discharge is not null
              then b.admit_time::date - b.previous_discharge::date end as gap
  from base b where b.discharge_month >= cast(:first as date)
),
grouped as (
  select s.tenant_id, s.hospital_id, s.year, g.drg, g.adrg
  from stays s join case_grouping g on g.tenant_id = s.tenant_id and g.case_id = s.id and g.version_id = :version
),
split_adrg as (
  select adrg from drg_group where version_id = :version and adrg is not null group by adrg having count(*) > 1
),
prone as (select drg, adrg from drg_group where version_id = :version and drg = any(cast(:prone as text[]))),
measures as (
  select s.tenant_id, s.hospital_id, s.year, a.area, a.num, a.den, a.cases
  from (
    select tenant_id, hospital_id, year,
           count(*) filter (where los_days <= :short_los) as short_stays,
           count(*) filter (where gap between 0 and :r_short) as readmit_short,
           count(*) filter (where gap between 0 and :r_long) as readmit_long,
           count(*) as stays,
           sum(own_pay) as own_pay, sum(total_cost) as total_cost, count(*) filter (where own_pay > 0) as own_pay_stays
    from stays group by tenant_id, hospital_id, year
  ) s
  cross join lateral (values
    ('one_day_stay', s.short_stays::numeric, s.stays::numeric, s.short_stays),
    ('readmission_short', s.readmit_short::numeric, s.stays::numeric, s.readmit_short),
    ('readmission_long', s.readmit_long::numeric, s.stays::numeric, s.readmit_long),
    ('own_pay', s.own_pay, s.total_cost, s.own_pay_stays)
  ) as a(area, num, den, cases)
  union all
  select tenant_id, hospital_id, year, 'mcc_cc', count(*) filter (where {with_complication_sql("drg")}), count(*),
         count(*) filter (where {with_complication_sql("drg")})
  from grouped where adrg in (select adrg from split_adrg) group by tenant_id, hospital_id, year
  union all
  select tenant_id, hospital_id, year, 'error_prone', count(*) filter (where drg in (select drg from prone)),
         count(*), count(*) filter (where drg in (select drg from prone))
  from grouped where adrg in (select adrg from prone) group by tenant_id, hospital_id, year
),
valued as (
  select m.tenant_id, m.hospital_id, m.year, m.area, m.num, m.den, m.cases, h.level,
         round(m.num / m.den, 4) as value
  from measures m join hospital h on h.tenant_id = m.tenant_id and h.id = m.hospital_id
  where m.den > 0
),
ranked as (
  select v.*,
         count(*) over peer as peers,
         round((rank() over (peer order by v.value) - 1)::numeric * 100 / nullif(count(*) over peer - 1, 0), 2)
           as percentile,
         first_value(v.value) over own as first_value,
         min(v.year) over own as first_year
  from valued v
  window peer as (partition by v.year, v.area, v.level),
         own as (partition by v.tenant_id, v.hospital_id, v.area order by v.year)
),
flagged as (
  select r.*,
         case when r.peers >= :min_peers and r.percentile >= :high then 'high'
              when r.peers >= :min_peers and r.percentile <= :low then 'low' end as flag
  from ranked r
)
select tenant_id, hospital_id, year, area, level, value, num as numerator, den as denominator, cases, peers,
       percentile, flag,
       case when year > first_year then value - first_value end as trend,
       case when flag is not null then round(abs(percentile - 50) / 50 * cases, 4) end as priority
from flagged
"""

COLUMNS = (
    "hospital_id, year, area, level, value, numerator, denominator, cases, peers, percentile, flag, trend, priority"
)


def parameters_of(cov: Coverage) -> dict[str, Any]:
    p = cov.policy
    return {
        "signal_high_percentile": str(p.signal_high_percentile),
        "signal_low_percentile": str(p.signal_low_percentile),
        "signal_min_peers": p.signal_min_peers,
        "signal_years": p.signal_years,
        "signal_short_stay_max_los": p.signal_short_stay_max_los,
        "signal_readmission_short_days": p.signal_readmission_short_days,
        "signal_readmission_long_days": p.signal_readmission_long_days,
        "signal_error_prone_drgs": list(p.signal_error_prone_drgs),
    }


async def compute_signals(ctx: JobContext, year: int) -> tuple[uuid.UUID, dict[str, Any]]:
    s = ctx.session
    cov = await coverage(s, ctx.tenant_id, year)
    p = cov.policy
    first = year - p.signal_years + 1
    await ctx.progress(0, None, f"signals {first}-{year} of {len(cov.regions)} region(s)")
    await stage(s, STAGE, STAGE_COLUMNS)
    lookback_days = max(p.signal_readmission_short_days, p.signal_readmission_long_days) + 31
    await s.execute(
        text(SIGNALS_SQL),
        {
            "tenants": list(cov.regions),
            "first": datetime.date(first, 1, 1),
            "lookback": datetime.date(first, 1, 1) - datetime.timedelta(days=lookback_days),
            "last": datetime.date(year, 12, 1),
            "version": cov.standard.scheme_version_id,
            "prone": list(p.signal_error_prone_drgs),
            "short_los": p.signal_short_stay_max_los,
            "r_short": p.signal_readmission_short_days,
            "r_long": p.signal_readmission_long_days,
            "min_peers": p.signal_min_peers,
            "high": p.signal_high_percentile,
            "low": p.signal_low_percentile,
        },
    )
    counts = {
        r.tenant_id: (r.hospitals, r.rows, r.flagged)
        for r in await s.execute(
            text(
                f"select tenant_id, count(distinct hospital_id) as hospitals, count(*) as rows, "
                f"count(*) filter (where flag is not null and year = :y) as flagged from {STAGE} group by tenant_id"
            ),
            {"y": year},
        )
    }
    run_id = uuid.uuid4()
    parameters = parameters_of(cov)
    for region in cov.regions:
        s.add(
            SignalRun(
                tenant_id=region,
                id=run_id,
                year=year,
                first_year=first,
                peers=cov.peers,
                requested_tenant=cov.requested,
                standard_id=cov.standard.id,
                scheme_version_id=cov.standard.scheme_version_id,
                parameters=parameters,
                hospitals=counts.get(region, (0, 0, 0))[0],
                job_id=ctx.job_id,
                created_by=ctx.scope.actor,
            )
        )
    await s.flush()
    await s.execute(
        text(
            f"insert into hospital_signal (tenant_id, run_id, {COLUMNS}) "
            f"select tenant_id, cast(:r as uuid), {COLUMNS} from {STAGE}"
        ),
        {"r": run_id},
    )
    summary = {
        "signal_run": str(run_id),
        "year": year,
        "first_year": first,
        "peers": cov.peers,
        "regions": len(cov.regions),
        "hospitals": sum(c[0] for c in counts.values()),
        "rows": sum(c[1] for c in counts.values()),
        "flagged": sum(c[2] for c in counts.values()),
    }
    await audit.record(s, ctx.scope, ctx.tenant_id, "supervision.signals", f"signal_run:{run_id}", **summary)
    return run_id, summary


@job_kind(SIGNALS, roles={"city_admin", "region_admin"}, check=check_params)
async def signals_job(ctx: JobContext) -> dict[str, Any]:
    _, summary = await compute_signals(ctx, check_year(ctx.params.get("year")))
    return summary


# ---- reads (under the caller's scope: a hospital sees its own rows only) ----------------------------


async def latest_run(session: AsyncSession, tenant: str, year: int) -> SignalRun | None:
    R = SignalRun
    return (
        await session.execute(
            select(R).where(R.tenant_id == tenant, R.year == year).order_by(R.created_at.desc(), R.id).limit(1)
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Signal:
    row: HospitalSignal
    history: list[HospitalSignal]  # the run's years for the hospital and area, oldest first (this one last)


async def signals(
    session: AsyncSession,
    run: SignalRun,
    *,
    hospital: str | None = None,
    flagged_only: bool = False,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[Signal]:
    """The run's rows of its year, by hospital and area, each with its history."""
    H = HospitalSignal
    q = select(H).where(H.tenant_id == run.tenant_id, H.run_id == run.id, H.year == run.year)
    if hospital is not None:
        q = q.where(H.hospital_id == hospital)
    if flagged_only:
        q = q.where(H.flag.is_not(None))
    if after is not None:
        q = q.where((H.hospital_id > after[0]) | ((H.hospital_id == after[0]) & (H.area > after[1])))
    q = q.order_by(H.hospital_id, H.area)
    if limit is not None:
        q = q.limit(limit)
    rows = list((await session.execute(q)).scalars())
    return await _with_history(session, run, rows)


async def _with_history(session: AsyncSession, run: SignalRun, rows: list[HospitalSignal]) -> list[Signal]:
    if not rows:
        return []
    H = HospitalSignal
    hospitals = sorted({r.hospital_id for r in rows})
    earlier: dict[tuple[str, str], list[HospitalSignal]] = {}
    for h in (
        await session.execute(
            select(H)
            .where(H.tenant_id == run.tenant_id, H.run_id == run.id, H.year < run.year, H.hospital_id.in_(hospitals))
            .order_by(H.year)
        )
    ).scalars():
        earlier.setdefault((h.hospital_id, h.area), []).append(h)
    return [Signal(r, [*earlier.get((r.hospital_id, r.area), []), r]) for r in rows]


async def queue(
    session: AsyncSession, run: SignalRun, *, after: tuple[Any, str, str] | None = None, limit: int | None = None
) -> list[Signal]:
    """The audit queue: the run's flagged rows of its year by priority (highest first), then hospital
    and area."""
    H = HospitalSignal
    q = select(H).where(H.tenant_id == run.tenant_id, H.run_id == run.id, H.year == run.year, H.flag.is_not(None))
    if after is not None:
        pr, h, a = after
        q = q.where(
            (H.priority < pr) | ((H.priority == pr) & ((H.hospital_id > h) | ((H.hospital_id == h) & (H.area > a))))
        )
    q = q.order_by(H.priority.desc(), H.hospital_id, H.area)
    if limit is not None:
        q = q.limit(limit)
    return await _with_history(session, run, list((await session.execute(q)).scalars()))
