"""A run's figures as the reports read them: a hospital's statement (the run, its line, its points
and money by month) and the city's overview (every region's clearing side by side). JSON-ready
data; reports/ formats it as CSV or HTML."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.settlement.models import SettlementLine, SettlementRun

LINE_FIELDS = (
    "cases",
    "points",
    "deductions",
    "self_pay",
    "fund_pay",
    "due",
    "payable",
    "holdback",
    "paid_before",
    "payment",
    "prepaid",
    "score",
    "balance",
    "withheld",
    "audit_deductions",
)


def statement(
    run: Any,
    line: Any,
    months: list[dict[str, Any]],
    hospital_name: str,
    region_name: str | None = None,
    city_name: str | None = None,
) -> dict[str, Any]:
    """`months`: one dict a month: month, cases, points, self_pay, payment and pv (the provisional
    point value; payment and pv from the month's published monthly run, pv None without one)."""
    return {
        "tenant": run.tenant_id,
        "region_name": region_name,
        "city_name": city_name,
        "hospital": line.hospital_id,
        "hospital_name": hospital_name,
        "run": {
            "id": str(run.id),
            "kind": run.kind,
            "year": run.year,
            "month": run.month,
            "ledger": run.ledger,
            "version": run.version,
            "status": run.status,
            "published_at": run.published_at.isoformat() if run.published_at else None,
        },
        "figures": {k: v for k, v in run.figures.items() if k != "alliances"},
        "alliance": line.alliance_id,
        "line": {f: (str(getattr(line, f)) if getattr(line, f) is not None else None) for f in LINE_FIELDS},
        "months": [{k: None if v is None else str(v) for k, v in m.items()} for m in months],
    }


async def statement_data(session: AsyncSession, tenant: str, run_id: uuid.UUID, hospital: str) -> dict[str, Any] | None:
    """A hospital's statement for a run (None when the run or the hospital's line is not visible)."""
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
    published = {
        r.month: r
        for r in await session.execute(
            text(
                "select distinct on (r.month) r.month, l.payment, r.figures ->> 'PV_provisional' as pv "
                "from settlement_run r "
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
            "payment": published[m].payment if m in published else Decimal("0.00"),
            "pv": published[m].pv if m in published else None,
        }
        for m in range(1, run.month + 1)
    ]
    name = (
        await session.execute(
            text("select name from hospital where tenant_id = :t and id = :h"), {"t": tenant, "h": hospital}
        )
    ).scalar_one_or_none()
    names = (
        await session.execute(
            text(
                "select t.name, c.name as city from tenant t left join tenant c on c.code = t.parent_code "
                "where t.code = :t"
            ),
            {"t": tenant},
        )
    ).one_or_none()
    return statement(run, line, months, name or hospital, names.name if names else None, names.city if names else None)


async def tenant_name(session: AsyncSession, code: str) -> str | None:
    return (await session.execute(text("select name from tenant where code = :c"), {"c": code})).scalar_one_or_none()


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
