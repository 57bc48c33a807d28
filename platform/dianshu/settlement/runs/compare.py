"""A region's real year simulated on changed parameters (growth rate, policy thresholds and sharing
ratios, hospital coefficients) and set side by side with a published clearing, for budget
negotiation (预算协商谈判). Nothing is stored: the same engine as the runs, on the year's cases as
they stand now."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.errors import Refused
from dianshu.evaluation.scoring import coefficient
from dianshu.jobs.errors import JobRejected
from dianshu.settlement.arithmetic.clearing import budget
from dianshu.settlement.arithmetic.policy import overrides_model
from dianshu.settlement.arithmetic.rounding import money
from dianshu.settlement.arithmetic.values import parse_decimal
from dianshu.settlement.arithmetic.year import (
    LedgerBudget,
    SettlementInputError,
    case_results,
    check_alliances,
    clear_ledger,
    totals_by_hospital,
)
from dianshu.settlement.models import Budget, SettlementLine, SettlementRun
from dianshu.settlement.runs.inputs import alliances_of, load_points_inputs
from dianshu.strict import Invalid, parse


class CompareRefused(Refused):
    """A comparison refused (record: "run <id>"; message: field and reason)."""


def _dec(value: Any, record: str, field: str) -> Decimal:
    try:
        return parse_decimal(value)
    except ValueError as e:
        raise CompareRefused(record, field, str(e)) from None


async def simulate_against_run(
    session: AsyncSession,
    tenant: str,
    run_id: uuid.UUID,
    *,
    parameters: dict[str, Any] | None = None,
    coefficients: dict[str, Any] | None = None,
    growth_rate: Any = None,
) -> dict[str, Any]:
    record = f"run {run_id}"
    # The arguments' shapes first, before anything is read (their bounds need the region's policy).
    if coefficients is not None and not isinstance(coefficients, dict):
        raise CompareRefused(record, "coefficients", "must be a JSON object of hospital code -> coefficient")
    if parameters is not None:
        try:
            parse(overrides_model(), parameters, prefix="parameters", whole="parameters")
        except Invalid as e:
            raise CompareRefused(record, e.issues[0].path, e.issues[0].reason) from None
    run = (
        await session.execute(
            select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id)
        )
    ).scalar_one_or_none()
    if run is None or run.kind != "annual":
        raise CompareRefused(record, "run", f"no annual clearing run {run_id} in {tenant}")
    b = (
        await session.execute(select(Budget).where(Budget.tenant_id == tenant, Budget.id == run.budget_id))
    ).scalar_one()
    try:
        inp = await load_points_inputs(session, tenant, run.year, 12)
    except JobRejected as e:
        raise CompareRefused(record, e.details.get("field", "run"), str(e)) from e
    ledger = run.ledger
    if ledger not in inp.policies.by_ledger:
        raise CompareRefused(record, "run", f"no policy for the run's ledger {ledger}")
    try:
        policy = inp.policies.policy(ledger).with_overrides(parameters)
    except Invalid as e:  # the first refused parameter, by its argument's path
        first = e.issues[0]
        raise CompareRefused(record, first.path.replace("policy", "parameters", 1), first.reason) from None
    hospitals = dict(inp.hospitals)
    for code, c in (coefficients or {}).items():
        if code not in hospitals:
            raise CompareRefused(record, f"coefficients.{code}", f"not a hospital of {tenant}")
        coef = _dec(c, record, f"coefficients.{code}")
        if coef <= 0:
            raise CompareRefused(record, f"coefficients.{code}", f"must be positive (got {coef})")
        hospitals[code] = replace(hospitals[code], coefficient=coef)
    lines = {
        x.hospital_id: x
        for x in (
            await session.execute(
                select(SettlementLine).where(SettlementLine.tenant_id == tenant, SettlementLine.run_id == run.id)
            )
        ).scalars()
    }
    hospitals = {
        h: replace(
            x,
            prepaid={ledger: lines[h].prepaid if h in lines and lines[h].prepaid else Decimal(0)},
            audit_deductions={ledger: lines[h].audit_deductions if h in lines else Decimal(0)},
            # The evaluation's points coefficient by the (simulated) policy's bands, as the clearing applies it.
            evaluation_coefficient=coefficient(
                x.score, policy.evaluation_coefficient_floors, policy.evaluation_coefficients
            ),
        )
        for h, x in hospitals.items()
    }
    g = b.growth_rate if growth_rate is None else _dec(growth_rate, record, "growth_rate")
    carved = sum((Decimal(c["amount"]) for c in b.carve_outs), Decimal(0))
    figures = budget(money(b.last_year_spending * (1 + g), policy) - carved, policy)
    cases = [lc.case for lc in inp.cases.values() if inp.policies.ledger_of(lc.case.fund_type) == ledger]
    alliances = await alliances_of(session, tenant)

    def compute() -> Any:
        # Pure and CPU-bound (a region's whole year): run in a worker thread, after the reads.
        check_alliances(alliances, hospitals)
        results = case_results(cases, inp.groups, inp.standard.avg_cost_all, hospitals, policy)
        totals = totals_by_hospital(results.values()).get(ledger, {})
        e = sum((t.fund_pay for t in totals.values()), Decimal(0))
        return clear_ledger(ledger, totals, LedgerBudget(figures, e), hospitals, alliances, policy)

    try:
        sim = await anyio.to_thread.run_sync(compute)
    except (SettlementInputError, ValueError) as err:
        raise CompareRefused(record, "settlement", str(err)) from err
    except ArithmeticError as err:
        raise CompareRefused(record, "settlement", "the changed figures are too large to compute to the fen") from err
    published = run.figures
    simulated = sim.figures()
    rows = []
    for h in sorted(set(lines) | set(sim.hospitals)):
        old, new = lines.get(h), sim.hospitals.get(h)
        old_due = old.due if old else Decimal("0.00")
        new_due = new.due if new else Decimal("0.00")
        rows.append(
            {
                "hospital": h,
                "published_points": str(old.points) if old else "0",
                "simulated_points": str(new.points) if new else "0",
                "published_due": str(old_due),
                "simulated_due": str(new_due),
                "difference": str(new_due - old_due),
                "published_balance": str(old.balance) if old and old.balance is not None else None,
                "simulated_balance": str(new.balance) if new else None,
            }
        )
    return {
        "run": str(run.id),
        "status": run.status,
        "ledger": ledger,
        "year": run.year,
        "changes": {
            "parameters": parameters or {},
            "coefficients": {k: str(v) for k, v in (coefficients or {}).items()},
            "growth_rate": str(g),
        },
        "figures": {k: {"published": published.get(k), "simulated": v} for k, v in simulated.items()},
        "hospitals": rows,
    }
