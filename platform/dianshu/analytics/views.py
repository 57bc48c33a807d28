"""The analytics views: sums of summary cells (models.AnalyticsCell) grouped by the dimensions a
view asks for, and the figures formed from the sums. Never a raw case: every statement reads
analytics_cell (and analytics_refresh) under the caller's scope, so a hospital sums its own cells
only (row-level security) and a region or the city sums what its scope sees.

Figures (`Summary`) from a group's sums, each formed once from exact sums:
- cases; CMI = Σ RW ÷ weighed cases; total weight = Σ RW; cost index = Σ cost ÷ Σ DRG average cost
  (weighed cases); time index = Σ LOS ÷ Σ peer average LOS (grouped cases); high/low outlier share
  = outliers ÷ the points run's cases × 100; drug, consumables and own-pay share = Σ ÷ Σ cost × 100;
  average LOS. These are the evaluation indicators' formulas (evaluation/indicators/formulas.py),
  applied to the group's sums: 4 places, half-up, None when the denominator is 0.
- points (Σ case points of the latest points run); expected payment = Σ points × point value of the
  priced cases, rounded half-up to the fen once (settlement/arithmetic/rounding.fen); profit or
  loss = expected payment − the actual cost of those cases (negative: a loss); None when no case
  is priced.
- overspend: cases costing more than their DRG's average and Σ (cost − average) over them;
  severe cases and their cost (refresh.py defines both).
Year over year: the same group's figures a year earlier, and growth = (this ÷ last − 1) × 100
(formulas.growth), the CMI's change as a difference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.analytics.models import AnalyticsRefresh
from dianshu.analytics.refresh import CELL_COLUMNS
from dianshu.db.session import Fetch
from dianshu.errors import Refused
from dianshu.evaluation.indicators.formulas import FORMULAS, Figures, Measure, growth, growth_per_case, q4
from dianshu.grouping.service import GROUP_CASES
from dianshu.settlement.arithmetic.rounding import fen
from dianshu.settlement.latest import latest_points_run
from dianshu.settlement.runs.points import POINTS

# A dimension's name -> its cell column.
DIMENSIONS: dict[str, str] = {
    "region": "tenant_id",
    "hospital": "hospital_id",
    "department": "department",
    "drg": "drg",
    "month": "month",
}
KEY_COLUMNS = ("hospital_id", "month", "department", "drg")
SUMMED = tuple(c for c in CELL_COLUMNS if c not in KEY_COLUMNS)
ZERO = Decimal(0)


class AnalyticsRefused(Refused):
    """An analytics view refused: the record, the field and why."""


@dataclass(frozen=True)
class Summary:
    cases: int
    grouped: int
    weighed: int
    cmi: Decimal | None
    total_weight: Decimal
    cost_index: Decimal | None
    time_index: Decimal | None
    avg_los: Decimal | None
    run_cases: int
    points: Decimal
    high_outlier_share: Decimal | None
    low_outlier_share: Decimal | None
    priced_cases: int
    expected_payment: Decimal | None
    cost: Decimal
    priced_cost: Decimal
    profit_loss: Decimal | None
    drug_share: Decimal | None
    consumables_share: Decimal | None
    own_pay_share: Decimal | None
    over_cases: int
    over_amount: Decimal
    severe_cases: int
    severe_cost: Decimal


def _value(name: str, f: Figures) -> Decimal | None:
    m: Measure = FORMULAS[name](f)
    return m.value


def summarise(sums: Mapping[str, Any]) -> Summary:
    """A group's figures from its summed cells."""
    f = Figures(sums)
    d = lambda k: Decimal(sums.get(k) or 0)  # noqa: E731
    n = lambda k: int(sums.get(k) or 0)  # noqa: E731
    payment = fen(d("payment")) if n("priced_cases") else None
    return Summary(
        cases=n("cases"),
        grouped=n("grouped"),
        weighed=n("weighed"),
        cmi=_value("cmi", f),
        total_weight=q4(d("rw_sum")),
        cost_index=_value("cost_index", f),
        time_index=_value("time_index", f),
        avg_los=_value("avg_los", f),
        run_cases=n("run_cases"),
        points=d("points"),
        high_outlier_share=_value("high_outlier_share", f),
        low_outlier_share=_value("low_outlier_share", f),
        priced_cases=n("priced_cases"),
        expected_payment=payment,
        cost=d("cost"),
        priced_cost=d("priced_cost"),
        profit_loss=payment - d("priced_cost") if payment is not None else None,
        drug_share=_value("drug_share", f),
        consumables_share=_value("consumables_share", f),
        own_pay_share=_value("own_pay_share", f),
        over_cases=n("over_cases"),
        over_amount=d("over_amount"),
        severe_cases=n("severe_cases"),
        severe_cost=d("severe_cost"),
    )


@dataclass(frozen=True)
class Filters:
    hospital: str | None = None
    month: int | None = None
    department: str | None = None
    drg: str | None = None


@dataclass(frozen=True)
class Group:
    """One row of a view: its key (the dimensions asked for, by name) and its figures."""

    key: dict[str, Any]
    summary: Summary
    sums: dict[str, Any]

    def key_values(self, by: Sequence[str]) -> list[Any]:
        return [self.key[b] for b in by]


def check_by(by: Sequence[str], record: str = "analytics") -> tuple[str, ...]:
    seen: list[str] = []
    for i, b in enumerate(by):
        if b not in DIMENSIONS:
            raise AnalyticsRefused(record, f"groupBy[{i}]", f"one of {', '.join(DIMENSIONS)} (got {b!r})")
        if b in seen:
            raise AnalyticsRefused(record, f"groupBy[{i}]", f"{b} is given twice")
        seen.append(b)
    return tuple(seen)


def check_filters(f: Filters, record: str = "analytics") -> None:
    if f.month is not None and not (isinstance(f.month, int) and 1 <= f.month <= 12):
        raise AnalyticsRefused(record, "month", f"a month from 1 to 12 (got {f.month})")
    for name, value, most in (("hospital", f.hospital, 20), ("department", f.department, 50), ("drg", f.drg, 8)):
        if value is not None and len(value) > most:
            raise AnalyticsRefused(record, name, f"at most {most} characters")


def groups_statement(
    tenants: Sequence[str],
    year: int,
    by: Sequence[str],
    filters: Filters = Filters(),
    *,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """The statement of `groups` (the driver's placeholders) and its arguments."""
    cols = [DIMENSIONS[b] for b in by]
    args: list[Any] = [list(tenants), year]
    where = ["tenant_id = any(cast($1 as text[]))", "year = $2"]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    for name in ("hospital", "month", "department", "drg"):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"{DIMENSIONS[name]} = {arg(value)}")
    if after is not None and cols:
        where.append(f"({', '.join(cols)}) > ({', '.join(arg(v) for v in after)})")
    sums = ", ".join(f"sum({c}) as {c}" for c in SUMMED)
    # Without a DRG in the key or the filters, the month rows (the cells summed over their DRGs).
    table = "analytics_cell" if "drg" in by or filters.drg is not None else "analytics_month"
    sql = f"select {', '.join([*cols, sums])} from {table} where {' and '.join(where)}"
    if cols:
        sql += f" group by {', '.join(cols)} order by {', '.join(cols)}"
    if limit is not None:
        sql += f" limit {arg(limit)}"
    return sql, args


async def groups(
    fetch: Fetch,
    tenants: Sequence[str],
    year: int,
    by: Sequence[str],
    filters: Filters = Filters(),
    *,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[Group]:
    """The cells of `tenants`' year (that the scope sees) summed per `by`, in key order; with `after`
    (a key of the same `by`), the groups after it; at most `limit`. No `by`: one total (none when
    there is no cell). `fetch` runs the statement in the caller's transaction (db.session.Fetch)."""
    by = check_by(by)
    check_filters(filters)
    if after is not None and not by:
        return []  # the one total row's cursor: nothing comes after it
    sql, args = groups_statement(tenants, year, by, filters, after=after, limit=limit)
    out = []
    for r in await fetch(sql, *args):
        m = dict(r)
        if not m.get("cases"):
            continue
        key = {b: m.pop(DIMENSIONS[b]) for b in by}
        out.append(Group(key, summarise(m), m))
    return out


@dataclass(frozen=True)
class Comparison:
    key: dict[str, Any]
    current: Summary
    previous: Summary | None
    cases_growth: Decimal | None
    cost_growth: Decimal | None
    cost_per_case_growth: Decimal | None
    points_growth: Decimal | None
    payment_growth: Decimal | None
    cmi_change: Decimal | None


def compare(current: Group, previous: Group | None) -> Comparison:
    c, p = current.summary, previous.summary if previous is not None else None
    if p is None:
        return Comparison(current.key, c, None, None, None, None, None, None, None)
    return Comparison(
        current.key,
        c,
        p,
        growth(c.cases, p.cases).value,
        growth(c.cost, p.cost).value,
        growth_per_case(c.cost, c.cases, p.cost, p.cases).value,
        growth(c.points, p.points).value if c.run_cases and p.run_cases else None,
        growth(c.expected_payment, p.expected_payment).value,
        c.cmi - p.cmi if c.cmi is not None and p.cmi is not None else None,
    )


async def year_over_year(
    fetch: Fetch,
    tenants: Sequence[str],
    year: int,
    by: Sequence[str],
    filters: Filters = Filters(),
    *,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[Comparison]:
    """This year's groups (paged as `groups`), each with the same group of the year before."""
    this = await groups(fetch, tenants, year, by, filters, after=after, limit=limit)
    if not this:
        return []
    last = {tuple(g.key_values(by)): g for g in await groups(fetch, tenants, year - 1, by, filters)}
    return [compare(g, last.get(tuple(g.key_values(by)))) for g in this]


@dataclass(frozen=True)
class Status:
    refresh: AnalyticsRefresh
    latest_points_run: Any
    stale: bool
    reason: str | None


async def status(session: AsyncSession, tenant: str, year: int) -> Status | None:
    """What a region's year of summaries was computed from, and whether it is stale: a newer points
    run than the one it read, or a grouping or points job of the region finished after it."""
    R = AnalyticsRefresh
    r = (await session.execute(select(R).where(R.tenant_id == tenant, R.year == year))).scalar_one_or_none()
    if r is None:
        return None
    run = await latest_points_run(session, tenant, year)
    reason = None
    if (run.id if run is not None else None) != r.points_run_id:
        reason = "a newer points run exists"
    else:
        later = (
            await session.execute(
                text(
                    "select exists (select 1 from job where tenant_id = :t and status = 'succeeded' "
                    "and kind = any(cast(:kinds as text[])) and finished_at > :at)"
                ),
                {"t": tenant, "at": r.refreshed_at, "kinds": [GROUP_CASES, POINTS]},
            )
        ).scalar_one()
        if later:
            reason = "a grouping or points job finished after the refresh"
    return Status(r, run, reason is not None, reason)


async def city_regions(session: AsyncSession, city: str) -> list[tuple[str, str]]:
    """(code, name) of the city's regions."""
    rows = await session.execute(
        text("select code, name from tenant where parent_code = :c order by code"), {"c": city}
    )
    return [(r.code, r.name) for r in rows]


async def hospital_names(session: AsyncSession, tenants: Sequence[str]) -> dict[tuple[str, str], str]:
    rows = await session.execute(
        text("select tenant_id, id, name from hospital where tenant_id = any(cast(:t as text[]))"), {"t": list(tenants)}
    )
    return {(r.tenant_id, r.id): r.name for r in rows}


__all__ = [
    "DIMENSIONS",
    "ZERO",
    "AnalyticsRefused",
    "Comparison",
    "Filters",
    "Group",
    "Status",
    "Summary",
    "city_regions",
    "compare",
    "groups",
    "hospital_names",
    "status",
    "summarise",
    "year_over_year",
]
