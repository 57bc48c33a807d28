"""Settlement runs (SPEC section 6): a monthly pre-settlement or an annual clearing of one ledger from
a points run (job SETTLE): draft when computed, frozen when published (publish.py); a re-run is a
new version. The money is the engine's (arithmetic/), the same arithmetic as the simulation."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.evaluation.scoring import coefficient
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.settlement.arithmetic.clearing import budget as budget_figures
from dianshu.settlement.arithmetic.clearing import pv_shown
from dianshu.settlement.arithmetic.monthly import HospitalYtd, monthly_settlement
from dianshu.settlement.arithmetic.year import (
    LedgerBudget,
    PointsTotals,
    SettlementInputError,
    check_alliances,
    clear_ledger,
    paid_points,
)
from dianshu.settlement.models import PointsRun, SettlementLine, SettlementRun
from dianshu.settlement.runs.budgets import latest_budget
from dianshu.settlement.runs.inputs import (
    alliances_of,
    check_period,
    city_of,
    evaluation_scores,
    hospitals_of,
    policy_set,
)
from dianshu.settlement.runs.points import compute_points
from dianshu.settlement.runs.versions import lock, next_version

SETTLE = "settlement.settle"


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


async def provisional_point_value(
    session: AsyncSession, tenant: str, year: int, ledger: str, policy: Any
) -> tuple[Decimal, str]:
    """The provisional point value of a ledger's year and where it comes from: one rule, one home
    (monthly pre-settlement and the workstation check). Rule `last_year_final`: the published annual
    clearing of the year before (its exact PV), else the policy's `provisional_point_value`; rule
    `fixed`: that parameter. Not positive: there is none (the caller refuses or says so)."""
    if policy.provisional_pv_rule == "last_year_final":
        last = await latest_published(session, tenant, "annual", year - 1, ledger)
        if last is not None:
            return Decimal(last.figures["PV_exact"]), f"annual run {last.id} of {year - 1}"
    return policy.provisional_point_value, "fixed"


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
    _refuse_pruned(pr_id, points_run.pruned_at)
    if (points_run.year, points_run.through_month) != (year, month):
        raise JobRejected(
            f"points_run: it covers {points_run.year} through month {points_run.through_month}, "
            f"not {year} through {month}",
            field="points_run",
        )
    return points_run


def _refuse_pruned(run_id: uuid.UUID, pruned_at: Any) -> None:
    if pruned_at is not None:
        raise JobRejected(
            f"points_run: {run_id} was superseded and its case points pruned on {pruned_at:%Y-%m-%d}; "
            "settle from the year's latest run or a new one",
            field="points_run",
        )


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
    await lock(s, f"run:{ctx.tenant_id}:{kind}:{year}:{month}:{ledger}")
    version = await next_version(
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
    # Read again now that the foreign key check holds the points run (FOR KEY SHARE): a prune locks
    # it FOR UPDATE, so either it committed before (and is seen here: no draft of a pruned run is
    # made) or it waits for this commit; a draft does not keep its run from being pruned, but then
    # it can no longer be published (runs/publish.py, runs/prune.py).
    pruned_at = (
        await s.execute(
            select(PointsRun.pruned_at).where(PointsRun.tenant_id == ctx.tenant_id, PointsRun.id == points_run.id)
        )
    ).scalar_one()
    _refuse_pruned(points_run.id, pruned_at)
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
    pv, pv_source = await provisional_point_value(s, ctx.tenant_id, year, ledger, policy)
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
        h: HospitalYtd(paid_points(t.points, t.deductions), t.self_pay, deducted.get(h, zero), paid_before.get(h, zero))
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
    floors, coefs = policy.evaluation_coefficient_floors, policy.evaluation_coefficients
    hospitals = {
        h: replace(
            x,
            prepaid={ledger: prepaid.get(h, zero)},
            audit_deductions={ledger: deducted.get(h, zero)},
            # The points coefficient of the score's band (an override's or the published run's).
            evaluation_coefficient=coefficient(x.score, floors, coefs),
        )
        for h, x in hospitals.items()
    }
    evaluation = await evaluation_scores(s, ctx.tenant_id, year)
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
            **evaluation.snapshot(),
            "evaluation_coefficients": {
                h: str(x.evaluation_coefficient) for h, x in sorted(hospitals.items()) if floors
            },
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
            evaluation_coefficient=x.evaluation_coefficient if floors else None,
            balance=x.balance,
            withheld=x.withheld,
            audit_deductions=x.audit_deductions,
        )
        for h, x in led.hospitals.items()
    )
    await s.flush()
    return run
