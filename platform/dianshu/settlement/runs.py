"""Settlement runs in the database (SPEC section 6).

- A **points run** computes every current case's points for a region's year up to a month (job
  POINTS) and stores them with their inputs; it is never changed.
- A **settlement run** is a monthly pre-settlement or an annual clearing of one ledger from a
  points run (job SETTLE): draft when computed, frozen when published; a re-run is a new version.
Both go through the engine (engine.py), the same arithmetic as the simulation."""

from __future__ import annotations

import datetime
import io
import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.ingest import copy_text
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.registry import job_kind
from dianshu.scope import Scope
from dianshu.settlement.budgets import latest_budget
from dianshu.settlement.clearing import budget as budget_figures
from dianshu.settlement.clearing import pv_shown
from dianshu.settlement.engine import (
    LedgerBudget,
    PointsTotals,
    SettlementInputError,
    case_results,
    check_alliances,
    clear_ledger,
)
from dianshu.settlement.inputs import (
    alliances_of,
    check_period,
    city_of,
    hospitals_of,
    load_points_inputs,
    policy_set,
)
from dianshu.settlement.models import PointsRun, SettlementLine, SettlementRun
from dianshu.settlement.monthly import HospitalYtd, monthly_settlement

POINTS = "settlement.points"
SETTLE = "settlement.settle"
POINT_COLUMNS = (
    "case_id",
    "hospital_id",
    "list_id",
    "ledger",
    "month",
    "drg",
    "type",
    "points",
    "original",
    "addon",
    "deduction",
    "self_pay",
    "fund_pay",
    "reason",
)


class RunRefused(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


async def _next_version(session: AsyncSession, model: Any, *where: Any) -> int:
    """The next version number of a run (callers hold the period's advisory lock)."""
    return (await session.execute(select(func.coalesce(func.max(model.version), 0)).where(*where))).scalar_one() + 1


async def _lock(session: AsyncSession, key: str) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def compute_points(ctx: JobContext, year: int, through_month: int) -> PointsRun:
    """Compute and store a points run (a new version) for the tenant's year up to `through_month`."""
    s = ctx.session
    await ctx.progress(0, None, "reading cases")
    inp = await load_points_inputs(s, ctx.tenant_id, year, through_month)
    total = len(inp.cases)
    await ctx.progress(0, total, f"{total:,} cases")
    by_ledger: dict[str, list[int]] = defaultdict(list)
    for cid, lc in inp.cases.items():
        by_ledger[inp.policies.ledger_of(lc.case.fund_type)].append(cid)
    # COPY cannot write through row-level security: stage in a temporary table, then insert.
    await s.execute(
        text(
            "create temporary table points_stage (case_id bigint, hospital_id text, list_id text, ledger text, "
            "month smallint, drg text, type text, points numeric, original numeric, addon numeric, "
            "deduction numeric, self_pay numeric, fund_pay numeric, reason text) on commit drop"
        )
    )
    raw = await (await s.connection()).get_raw_connection()
    pg = raw.driver_connection
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
        await pg.copy_to_table(
            "points_stage", source=io.BytesIO("".join(lines).encode("utf-8")), columns=POINT_COLUMNS, format="text"
        )
        done += len(ids)
        await ctx.progress(done, total, f"{done:,} case points")
    summary = {
        "cases": total,
        "types": dict(sorted(types.items())),
        "points": {k: str(v) for k, v in points_by_ledger.items()},
    }
    await _lock(s, f"points:{ctx.tenant_id}:{year}:{through_month}")
    version = await _next_version(
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
            f"insert into case_point (tenant_id, run_id, {cols}) "
            f"select cast(:t as varchar), cast(:r as uuid), {cols} from points_stage"
        ),
        {"t": ctx.tenant_id, "r": run.id},
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


# ---- settlement runs ------------------------------------------------------------------------------


async def latest_published(
    session: AsyncSession, tenant: str, kind: str, year: int, ledger: str, before_month: int | None = None
) -> SettlementRun | None:
    q = select(SettlementRun).where(
        SettlementRun.tenant_id == tenant,
        SettlementRun.kind == kind,
        SettlementRun.year == year,
        SettlementRun.ledger == ledger,
        SettlementRun.status == "published",
    )
    if before_month is not None:
        q = q.where(SettlementRun.month < before_month)
    q = q.order_by(SettlementRun.month.desc(), SettlementRun.published_at.desc()).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def _line_values(
    session: AsyncSession, tenant: str, run: SettlementRun | None, column: str
) -> dict[str, Decimal]:
    if run is None:
        return {}
    rows = await session.execute(
        select(SettlementLine.hospital_id, getattr(SettlementLine, column)).where(
            SettlementLine.tenant_id == tenant, SettlementLine.run_id == run.id
        )
    )
    return {h: v or Decimal("0.00") for h, v in rows}


async def _deductions(session: AsyncSession, tenant: str, year: int, month: int, ledger: str) -> dict[str, Decimal]:
    """Audit deductions per hospital, year to date through `month` (a merged ledger takes both)."""
    rows = await session.execute(
        text(
            "select hospital_id, sum(amount) from audit_deduction where tenant_id = :t and year = :y "
            "and month <= :m and (ledger = :l or :l = 'all') group by hospital_id"
        ),
        {"t": tenant, "y": year, "m": month, "l": ledger},
    )
    return {h: v for h, v in rows}


async def _totals(session: AsyncSession, tenant: str, points_run: uuid.UUID, ledger: str) -> dict[str, PointsTotals]:
    rows = await session.execute(
        text(
            "select hospital_id, sum(cases) as cases, sum(points) as points, sum(original) as original, "
            "sum(deductions) as deductions, sum(self_pay) as self_pay, sum(fund_pay) as fund_pay "
            "from points_month where tenant_id = :t and run_id = :r and ledger = :l group by hospital_id"
        ),
        {"t": tenant, "r": points_run, "l": ledger},
    )
    return {
        r.hospital_id: PointsTotals(int(r.cases), r.points, r.original, r.deductions, r.self_pay, r.fund_pay)
        for r in rows
    }


def settle_period(p: dict[str, Any]) -> tuple[str, int, int]:
    kind = p.get("kind")
    if kind not in ("monthly", "annual"):
        raise JobRejected(f"kind: must be monthly or annual (got {str(kind)[:20]!r})", field="kind")
    year, month = check_period(p.get("year"), p.get("month", 12) if kind == "monthly" else 12)
    return kind, year, month


async def given_points_run(session: AsyncSession, tenant: str, p: dict[str, Any], year: int, month: int) -> PointsRun:
    """The points run named in a settlement's parameters: the tenant's own, of the same period."""
    try:
        pr_id = uuid.UUID(str(p["points_run"]))
    except ValueError:
        raise JobRejected(f"points_run: {str(p['points_run'])[:40]!r} is not an id", field="points_run") from None
    points_run = (
        await session.execute(select(PointsRun).where(PointsRun.tenant_id == tenant, PointsRun.id == pr_id))
    ).scalar_one_or_none()
    if points_run is None:
        raise JobRejected(f"points_run: no points run {pr_id} in {tenant}", field="points_run")
    if (points_run.year, points_run.through_month) != (year, month):
        raise JobRejected(
            f"points_run: it covers {points_run.year} through month {points_run.through_month}, "
            f"not {year} through {month}",
            field="points_run",
        )
    return points_run


async def check_settle(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    _, year, month = settle_period(p)
    await city_of(session, tenant)
    if p.get("points_run"):
        await given_points_run(session, tenant, p, year, month)


@job_kind(SETTLE, roles={"city_admin", "region_admin"}, check=check_settle)
async def settle(ctx: JobContext) -> dict[str, Any]:
    """Monthly pre-settlement (kind monthly, year to date through `month`) or annual clearing (kind
    annual) of each ledger, from a given points run or from a fresh one."""
    p = ctx.params
    kind, year, month = settle_period(p)
    s = ctx.session
    if p.get("points_run"):
        points_run = await given_points_run(s, ctx.tenant_id, p, year, month)
    else:
        points_run = await compute_points(ctx, year, month)
    city = await city_of(s, ctx.tenant_id)
    policies = await policy_set(s, city, ctx.tenant_id, year)
    ledgers = p.get("ledgers") or sorted(policies.by_ledger)
    runs = []
    for ledger in ledgers:
        if ledger not in policies.by_ledger:
            raise JobRejected(f"ledgers: {ledger} is not a ledger of {ctx.tenant_id} in {year}", field="ledgers")
        totals = await _totals(s, ctx.tenant_id, points_run.id, ledger)
        if not totals:
            continue
        if kind == "monthly":
            run = await _monthly(ctx, year, month, ledger, policies, points_run, totals)
        else:
            run = await _annual(ctx, year, ledger, policies, points_run, totals)
        runs.append({"id": str(run.id), "ledger": ledger, "version": run.version, **run.figures})
    return {"kind": kind, "year": year, "month": month, "points_run": str(points_run.id), "runs": runs}


async def _new_run(
    ctx: JobContext,
    kind: str,
    year: int,
    month: int,
    ledger: str,
    points_run: PointsRun,
    inputs: dict[str, Any],
    figures: dict[str, Any],
    budget_id: uuid.UUID | None = None,
) -> SettlementRun:
    s = ctx.session
    await _lock(s, f"run:{ctx.tenant_id}:{kind}:{year}:{month}:{ledger}")
    version = await _next_version(
        s,
        SettlementRun,
        SettlementRun.tenant_id == ctx.tenant_id,
        SettlementRun.kind == kind,
        SettlementRun.year == year,
        SettlementRun.month == month,
        SettlementRun.ledger == ledger,
    )
    run = SettlementRun(
        tenant_id=ctx.tenant_id,
        id=uuid.uuid4(),
        kind=kind,
        year=year,
        month=month,
        ledger=ledger,
        version=version,
        status="draft",
        points_run_id=points_run.id,
        budget_id=budget_id,
        inputs={"points_run": str(points_run.id), "points_run_version": points_run.version, **inputs},
        figures=figures,
        job_id=ctx.job_id,
        created_by=ctx.scope.actor,
    )
    s.add(run)
    await s.flush()
    await audit.record(
        s, ctx.scope, ctx.tenant_id, f"settlement.{kind}", f"settlement_run:{run.id}", ledger=ledger, **figures
    )
    return run


async def _monthly(
    ctx: JobContext,
    year: int,
    month: int,
    ledger: str,
    policies: Any,
    points_run: PointsRun,
    totals: dict[str, PointsTotals],
) -> SettlementRun:
    s = ctx.session
    policy = policies.policy(ledger)
    pv_source = "fixed"
    pv = policy.provisional_point_value
    if policy.provisional_pv_rule == "last_year_final":
        last = await latest_published(s, ctx.tenant_id, "annual", year - 1, ledger)
        if last is not None:
            pv, pv_source = Decimal(last.figures["PV_exact"]), f"annual run {last.id} of {year - 1}"
    if pv <= 0:
        raise JobRejected(
            f"no provisional point value for {ledger} {year}: publish {year - 1}'s annual clearing or set the "
            "policy parameter provisional_point_value",
            field="provisional_point_value",
        )
    before = await latest_published(s, ctx.tenant_id, "monthly", year, ledger, before_month=month)
    paid_before = await _line_values(s, ctx.tenant_id, before, "payable")
    deducted = await _deductions(s, ctx.tenant_id, year, month, ledger)
    for h in (*paid_before, *deducted):  # paid before or deducted, but no case left: still a line
        if h not in totals:
            totals[h] = PointsTotals()
    zero = Decimal("0.00")
    ytd = {
        h: HospitalYtd(t.points - t.deductions, t.self_pay, deducted.get(h, zero), paid_before.get(h, zero))
        for h, t in totals.items()
    }
    lines = monthly_settlement(ytd, pv, policy)
    figures = {
        "PV_provisional": str(pv_shown(pv)),
        "PV_exact": str(pv),
        "P": str(sum((y.points for y in ytd.values()), Decimal(0))),
        "S": str(sum((y.self_pay for y in ytd.values()), Decimal(0))),
        "due": str(sum((x.due for x in lines.values()), Decimal(0))),
        "payable": str(sum((x.payable for x in lines.values()), Decimal(0))),
        "holdback": str(sum((x.holdback for x in lines.values()), Decimal(0))),
        "payment": str(sum((x.payment for x in lines.values()), Decimal(0))),
        "hospitals": len(lines),
    }
    run = await _new_run(
        ctx,
        "monthly",
        year,
        month,
        ledger,
        points_run,
        {
            "policy": policies.snapshot()[ledger],
            "provisional_pv_source": pv_source,
            "paid_before_run": str(before.id) if before else None,
            "audit_deductions": {h: str(v) for h, v in sorted(deducted.items())},
        },
        figures,
    )
    s.add_all(
        SettlementLine(
            tenant_id=ctx.tenant_id,
            run_id=run.id,
            hospital_id=h,
            cases=totals[h].cases,
            points=ytd[h].points,
            deductions=totals[h].deductions,
            self_pay=totals[h].self_pay,
            fund_pay=totals[h].fund_pay,
            due=x.due,
            payable=x.payable,
            holdback=x.holdback,
            paid_before=ytd[h].paid_before,
            payment=x.payment,
            audit_deductions=ytd[h].audit_deductions,
        )
        for h, x in lines.items()
    )
    await s.flush()
    return run


async def _annual(
    ctx: JobContext, year: int, ledger: str, policies: Any, points_run: PointsRun, totals: dict[str, PointsTotals]
) -> SettlementRun:
    s = ctx.session
    policy = policies.policy(ledger)
    b = await latest_budget(s, ctx.tenant_id, year, ledger)
    if b is None:
        raise JobRejected(f"no budget for {ledger} {year}: set the region's budget first", field="budget")
    hospitals = await hospitals_of(s, ctx.tenant_id, year)
    alliances = await alliances_of(s, ctx.tenant_id)
    prepaid_run = await latest_published(s, ctx.tenant_id, "monthly", year, ledger)
    prepaid = await _line_values(s, ctx.tenant_id, prepaid_run, "payable")
    deducted = await _deductions(s, ctx.tenant_id, year, 12, ledger)
    zero = Decimal("0.00")
    hospitals = {
        h: replace(x, prepaid={ledger: prepaid.get(h, zero)}, audit_deductions={ledger: deducted.get(h, zero)})
        for h, x in hospitals.items()
    }
    for h in (*prepaid, *deducted):  # prepaid or deducted but no case left: the balance settles it
        if h not in totals and (prepaid.get(h) or deducted.get(h)):
            totals[h] = PointsTotals()
    e = sum((t.fund_pay for t in totals.values()), Decimal(0))
    try:
        check_alliances(alliances, hospitals)
        led = clear_ledger(
            ledger,
            totals,
            # The stored R and B are rounded for display: F needs the exact ones, from T and the ratio.
            LedgerBudget(budget_figures(b.total, policy, b.reserve_ratio), e),
            hospitals,
            alliances,
            policy,
        )
    except (SettlementInputError, ValueError) as err:
        raise JobRejected(str(err), field="settlement") from err
    figures = {
        **led.figures(),
        "PV_exact": str(led.PV),
        "due": str(sum((x.due for x in led.hospitals.values()), Decimal(0))),
        "balance": str(sum((x.balance for x in led.hospitals.values()), Decimal(0))),
        "withheld": str(sum((x.withheld for x in led.hospitals.values()), Decimal(0))),
        "hospitals": len(led.hospitals),
        "alliances": {
            a.alliance: {"lead": a.lead, "points": str(a.points), "due": str(a.due), "surplus": str(a.surplus)}
            for a in led.alliances.values()
        },
    }
    run = await _new_run(
        ctx,
        "annual",
        year,
        12,
        ledger,
        points_run,
        {
            "policy": policies.snapshot()[ledger],
            "budget": {"id": str(b.id), "version": b.version},
            "prepaid_run": str(prepaid_run.id) if prepaid_run else None,
            "audit_deductions": {h: str(v) for h, v in sorted(deducted.items())},
            "scores": {h: str(x.score) for h, x in hospitals.items() if x.score is not None},
            "alliances": {
                a.id: {"lead": a.lead, "shares": {m: str(r) for m, r in a.shares.items()}} for a in alliances
            },
        },
        figures,
        budget_id=b.id,
    )
    s.add_all(
        SettlementLine(
            tenant_id=ctx.tenant_id,
            run_id=run.id,
            hospital_id=h,
            alliance_id=x.alliance,
            cases=x.cases,
            points=x.points,
            deductions=x.deductions,
            self_pay=x.self_pay,
            fund_pay=x.fund_pay,
            due=x.due,
            prepaid=x.prepaid,
            score=x.score,
            balance=x.balance,
            withheld=x.withheld,
            audit_deductions=x.audit_deductions,
        )
        for h, x in led.hospitals.items()
    )
    await s.flush()
    return run


async def publish_run(session: AsyncSession, scope: Scope, tenant: str, run_id: uuid.UUID) -> SettlementRun:
    """Publish a draft run: it is then frozen (a database trigger refuses any change). Publishing a
    published run again is a no-op; only the newest version of a period may be published, and a
    period is published once."""
    run = (
        await session.execute(
            select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id).with_for_update()
        )
    ).scalar_one_or_none()
    if run is None:
        raise RunRefused("run", f"no settlement run {run_id} in {tenant}")
    if run.status == "published":
        return run
    newest = (
        await session.execute(
            select(func.max(SettlementRun.version)).where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.kind == run.kind,
                SettlementRun.year == run.year,
                SettlementRun.month == run.month,
                SettlementRun.ledger == run.ledger,
            )
        )
    ).scalar_one()
    if run.version != newest:
        raise RunRefused("run", f"version {run.version} is not the newest ({newest}): publish the newest re-run")
    published = (
        await session.execute(
            select(SettlementRun.id).where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.kind == run.kind,
                SettlementRun.year == run.year,
                SettlementRun.month == run.month,
                SettlementRun.ledger == run.ledger,
                SettlementRun.status == "published",
            )
        )
    ).first()
    if published is not None:
        # A published period's money is final: corrections flow into the next month's year-to-date
        # run (and the year's clearing); publishing a second version would pay the month twice.
        what = f"the {run.year} clearing" if run.kind == "annual" else f"{run.year}-{run.month:02d}"
        raise RunRefused("run", f"{what} of {run.ledger} is already published ({published[0]})")
    await session.execute(
        update(SettlementRun)
        .where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id)
        .values(status="published", published_by=scope.actor, published_at=func.now())
    )
    await audit.record(
        session, scope, tenant, "settlement.published", f"settlement_run:{run_id}", kind=run.kind, version=run.version
    )
    await session.refresh(run)
    return run


async def month_settled(session: AsyncSession, tenant: str, month: datetime.date) -> SettlementRun | None:
    """The published run that settled `month` (a monthly run of that month or later in the year,
    or the year's clearing), if any: cases of a settled month cannot be recalled."""
    return (
        await session.execute(
            select(SettlementRun)
            .where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.status == "published",
                SettlementRun.year == month.year,
                SettlementRun.month >= month.month,
            )
            .limit(1)
        )
    ).scalar_one_or_none()


async def statement_data(session: AsyncSession, tenant: str, run_id: uuid.UUID, hospital: str) -> dict[str, Any] | None:
    """A hospital's statement for a run (None when the run or the hospital's line is not visible)."""
    from dianshu.settlement.statements import statement

    run = (
        await session.execute(
            select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id)
        )
    ).scalar_one_or_none()
    if run is None:
        return None
    line = (
        await session.execute(
            select(SettlementLine).where(
                SettlementLine.tenant_id == tenant,
                SettlementLine.run_id == run_id,
                SettlementLine.hospital_id == hospital,
            )
        )
    ).scalar_one_or_none()
    if line is None:
        return None
    by_month = {
        r.month: r
        for r in await session.execute(
            text(
                "select month, sum(cases) as cases, sum(points - deductions) as points, sum(self_pay) as self_pay "
                "from points_month where tenant_id = :t and run_id = :r and hospital_id = :h and ledger = :l "
                "group by month"
            ),
            {"t": tenant, "r": run.points_run_id, "h": hospital, "l": run.ledger},
        )
    }
    payments = {
        r.month: r.payment
        for r in await session.execute(
            text(
                "select distinct on (r.month) r.month, l.payment from settlement_run r "
                "join settlement_line l on l.tenant_id = r.tenant_id and l.run_id = r.id and l.hospital_id = :h "
                "where r.tenant_id = :t and r.kind = 'monthly' and r.status = 'published' and r.year = :y "
                "and r.ledger = :l order by r.month, r.published_at desc"
            ),
            {"t": tenant, "h": hospital, "y": run.year, "l": run.ledger},
        )
    }
    months = [
        {
            "month": f"{run.year}-{m:02d}",
            "cases": by_month[m].cases if m in by_month else 0,
            "points": by_month[m].points if m in by_month else Decimal("0.0000"),
            "self_pay": by_month[m].self_pay if m in by_month else Decimal("0.00"),
            "payment": payments.get(m, Decimal("0.00")),
        }
        for m in range(1, run.month + 1)
    ]
    name = (
        await session.execute(
            text("select name from hospital where tenant_id = :t and id = :h"), {"t": tenant, "h": hospital}
        )
    ).scalar_one_or_none()
    return statement(run, line, months, name or hospital)


async def city_overview(session: AsyncSession, city: str, year: int) -> list[dict[str, Any]]:
    """Each region's clearing of `year` side by side, per ledger: the published run, else the newest
    draft (row-level security leaves a region only its own)."""
    rows = await session.execute(
        text("""
        select distinct on (r.tenant_id, r.ledger) r.tenant_id, t.name, r.ledger, r.id, r.version, r.status,
               r.figures
        from settlement_run r join tenant t on t.code = r.tenant_id
        where t.parent_code = :c and r.kind = 'annual' and r.year = :y
        order by r.tenant_id, r.ledger, (r.status = 'published') desc, r.version desc"""),
        {"c": city, "y": year},
    )
    return [
        {
            "region": r.tenant_id,
            "name": r.name,
            "ledger": r.ledger,
            "run": str(r.id),
            "version": r.version,
            "status": r.status,
            **{k: r.figures.get(k) for k in ("T", "R", "B", "E", "F", "P", "S", "PV", "hospitals")},
        }
        for r in rows
    ]
