"""Budgets (SPEC section 6): per region, ledger and year,
T = last year's actual inpatient fund spending in the region × (1 + g) − carve-outs,
R = T × reserve ratio (the region's policy, default 5%), B = T − R.

Last year's spending is the fund payments of the region's current, active cases discharged that
year (in-province out-of-area patients treated in the region included), unless the region enters
it (a first year on the platform). Carve-outs are items paid outside the points: named amounts, and
last year's cross-province cases when the policy carves them out (`carve_out_cross_province`, which
also keeps this year's out of the points runs). Each change is a new version, audited; setting
the same figures again adds nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.errors import Refused
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.clearing import budget as budget_figures
from dianshu.settlement.arithmetic.rounding import money
from dianshu.settlement.arithmetic.values import parse_decimal
from dianshu.settlement.models import Budget
from dianshu.settlement.runs.policies import LEDGERS, effective_policy


class BudgetRefused(Refused):
    """A budget refused (record: "budget <year>/<ledger>"; message: field and reason)."""


def _dec(value: Any, record: str, field: str) -> Decimal:
    try:
        return parse_decimal(value)
    except ValueError as e:
        raise BudgetRefused(record, field, str(e)) from None


async def spending(
    session: AsyncSession, tenant: str, year: int, ledger: str, insured_place: int | None = None
) -> Decimal:
    q = (
        f"select coalesce(sum(fund_pay), 0) from case_record where tenant_id = :t and {current_cases()} "
        "and discharge_month between :a and :b"
    )
    params: dict[str, Any] = {"t": tenant, "a": datetime.date(year, 1, 1), "b": datetime.date(year, 12, 1)}
    if ledger != "all":
        q += " and fund_type = :f"
        params["f"] = ledger
    if insured_place is not None:
        q += " and insured_place = :p"
        params["p"] = insured_place
    return (await session.execute(text(q), params)).scalar_one()


async def latest_budget(session: AsyncSession, tenant: str, year: int, ledger: str) -> Budget | None:
    return (
        await session.execute(
            select(Budget)
            .where(Budget.tenant_id == tenant, Budget.year == year, Budget.ledger == ledger)
            .order_by(Budget.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def set_budget(
    session: AsyncSession,
    scope: Scope,
    city: str,
    tenant: str,
    year: int,
    ledger: str,
    *,
    growth_rate: Any,
    reason: str,
    last_year_spending: Any = None,
    carve_outs: list[dict[str, Any]] | None = None,
) -> Budget:
    record = f"budget {year}/{ledger}"
    if ledger not in LEDGERS:
        raise BudgetRefused(record, "ledger", f"must be one of {', '.join(LEDGERS)} (got {ledger!r})")
    if not 2000 <= year <= 2100:
        raise BudgetRefused(record, "year", f"must be a year (got {year})")
    if not reason.strip():
        raise BudgetRefused(record, "reason", "required: say why the budget is set")
    policy = (await effective_policy(session, city, tenant, year, ledger)).policy
    g = _dec(growth_rate, record, "growth_rate")
    if not Decimal("-0.5") <= g <= Decimal("0.5"):
        raise BudgetRefused(record, "growth_rate", f"must be between -0.5 and 0.5 (got {g})")
    items: list[dict[str, str]] = []
    if carve_outs is not None and not isinstance(carve_outs, list):
        raise BudgetRefused(record, "carve_outs", 'must be a list of {"item": ..., "amount": ...}')
    for i, c in enumerate(carve_outs or []):
        if not isinstance(c, dict) or not str(c.get("item") or "").strip():
            raise BudgetRefused(record, f"carve_outs[{i}].item", "required: name what is paid outside the points")
        amount = _dec(c.get("amount"), record, f"carve_outs[{i}].amount")
        if amount < 0:
            raise BudgetRefused(record, f"carve_outs[{i}].amount", f"must not be negative (got {amount})")
        items.append({"item": str(c["item"]).strip(), "amount": str(money(amount, policy))})
    if last_year_spending is None:
        spent, source = await spending(session, tenant, year - 1, ledger), "cases"
        if spent <= 0:
            raise BudgetRefused(
                record,
                "last_year_spending",
                f"no {ledger} cases of {year - 1} in {tenant}: enter last year's spending",
            )
    else:
        spent, source = _dec(last_year_spending, record, "last_year_spending"), "entered"
        if spent <= 0:
            raise BudgetRefused(record, "last_year_spending", f"must be positive (got {spent})")
    if policy.carve_out_cross_province:
        items.append(
            {
                "item": f"cross-province cases of {year - 1}",
                "amount": str(money(await spending(session, tenant, year - 1, ledger, insured_place=3), policy)),
            }
        )
    total = money(spent * (1 + g), policy) - sum((Decimal(c["amount"]) for c in items), Decimal(0))
    if total <= 0:
        raise BudgetRefused(record, "carve_outs", f"the carve-outs leave no budget (T = {total})")
    figures = budget_figures(total, policy)
    shown = figures.shown(policy)

    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"budget:{tenant}:{year}:{ledger}", 0)))
    )
    latest = await latest_budget(session, tenant, year, ledger)
    same = latest is not None and (
        latest.last_year_spending,
        latest.growth_rate,
        latest.carve_outs,
        latest.reserve_ratio,
        latest.total,
    ) == (money(spent, policy), g, items, policy.reserve_ratio, figures.T)
    if same:
        return latest  # a retried request
    row = Budget(
        tenant_id=tenant,
        year=year,
        ledger=ledger,
        version=(latest.version + 1) if latest else 1,
        last_year_spending=money(spent, policy),
        spending_source=source,
        growth_rate=g,
        carve_outs=items,
        reserve_ratio=policy.reserve_ratio,
        total=figures.T,
        # Shown to the fen; clearing recomputes the exact R and B from T and the ratio (clearing.budget).
        reserve=shown.R,
        points_budget=shown.B,
        reason=reason.strip()[:1000],
        created_by=scope.actor,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        scope,
        tenant,
        "budget.set",
        f"budget:{year}/{ledger}",
        version=row.version,
        T=str(figures.T),
        R=str(shown.R),
        B=str(shown.B),
        growth_rate=str(g),
        last_year_spending=str(money(spent, policy)),
        spending_source=source,
        carve_outs=items,
        reason=reason.strip()[:1000],
    )
    return row
