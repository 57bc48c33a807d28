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
- points (Σ paid points of the latest points run's cases, as settlement pays them: refresh.py);
  expected payment = Σ paid points × point value of the priced cases, rounded half-up to the fen
  once (settlement/arithmetic/rounding.fen); profit or loss = expected payment − the actual cost
  of those cases (negative: a loss); None when no case is priced.
- overspend: cases costing more than their DRG's average and Σ (cost − average) over them;
  severe cases and their cost (refresh.py defines both).
Year over year: the same group's figures a year earlier, and growth = (this ÷ last − 1) × 100
(formulas.growth), the CMI's change as the difference of the exact CMIs, rounded once."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.analytics.models import AnalyticsRefresh
from dianshu.analytics.refresh import CELL_COLUMNS, Inputs, inputs_of
from dianshu.db.session import Fetch
from dianshu.errors import Refused
from dianshu.evaluation.indicators.formulas import FORMULAS, Figures, Measure, growth, growth_per_case, q4
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs.errors import JobRejected
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.rounding import fen
from dianshu.settlement.latest import latest_points_run

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
    """The filters within what their columns hold (bounds.py): a month 1 to 12, codes within their
    column's length and without control characters (a NUL never reaches PostgreSQL)."""
    if f.month is not None and (reason := bounds.month_reason(f.month)) is not None:
        raise AnalyticsRefused(record, "month", reason)
    for name, value, most in (("hospital", f.hospital, 20), ("department", f.department, 50), ("drg", f.drg, 8)):
        if value is None:
            continue
        if not isinstance(value, str) or (reason := bounds.text_reason(value, most)) is not None:
            raise AnalyticsRefused(record, name, reason if isinstance(value, str) else "must be text")


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
        cmi_change(current.sums, previous.sums),
    )


def cmi_change(this: Mapping[str, Any], last: Mapping[str, Any]) -> Decimal | None:
    """This year's CMI − last year's from the exact sums, rounded once (half-up, 4 places): the
    difference of the two shown CMIs, each rounded, can be a ten-thousandth off (1.00006 → 1.0001
    against 0.99992 → 0.9999 shows 0.0002; the change is 0.00014 → 0.0001). None without weighed
    cases in either year."""
    tw, lw = int(this.get("weighed") or 0), int(last.get("weighed") or 0)
    if not tw or not lw:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        return q4(Decimal(this.get("rw_sum") or 0) / tw - Decimal(last.get("rw_sum") or 0) / lw)


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
    # The caller's own figures: a hospital's scope gets its own cells and cases, never the region's.
    cells: int
    cases: int


def _pv_text(v: Mapping[str, Any]) -> str:
    return f"{v.get('basis')} {v.get('value')}"


def changed_inputs(stored: AnalyticsRefresh, now: Inputs) -> str | None:
    """Why the stored inputs differ from those a refresh would read now (None: they do not)."""
    if (now.points_run.id if now.points_run is not None else None) != stored.points_run_id:
        return "a newer points run exists"
    if now.standard.id != stored.standard_id:
        return "another payment standard is in force at the year's end"
    was = stored.point_values or {}
    for ledger in sorted(set(was) | set(now.point_values)):
        old, new = was.get(ledger) or {}, now.point_values.get(ledger) or {}
        if (old.get("value"), old.get("basis"), old.get("coefficients")) != (
            new.get("value"),
            new.get("basis"),
            new.get("coefficients"),
        ):
            return f"the point value of {ledger} changed ({_pv_text(old)} → {_pv_text(new)})"
    if stored.peers is None:
        return "the time index's peers were not recorded by the last refresh"
    if list(now.peers) != list(stored.peers):
        return f"the time index's peers changed ({', '.join(stored.peers)} → {', '.join(now.peers)})"
    return None


CASES_CHANGED_SQL = """
select exists (
    select 1 from case_record c
    where c.tenant_id = :t and c.discharge_month between :start and :end
      and (c.created_at > :at or c.superseded_at > :at or c.recalled_at > :at))
"""

GROUPED_AFTER_SQL = """
select exists (
    select 1 from job
    where tenant_id = :t and kind = :kind and status = 'succeeded' and finished_at > :at
      and params ->> 'from' <= :last and params ->> 'to' >= :first)
"""


async def region_changes(session: AsyncSession, r: AnalyticsRefresh) -> str | None:
    """Why a region's year changed since its refresh row was written or checked: a case of the year
    arrived, was corrected or recalled after it, or a grouping job whose period covers the year
    finished after it, in the region or in another region of its time index's peer pool (city
    peers: their cases are the peer averages). `session` must see the region and its peers whole
    (a region-wide scope over each)."""
    year, at = r.year, r.refreshed_at
    others = [p for p in (r.peers or ()) if p != r.tenant_id]
    for tenant in (r.tenant_id, *others):
        whose = "" if tenant == r.tenant_id else f" of the time index's peer region {tenant}"
        args = {"t": tenant, "at": at}
        cases = {**args, "start": datetime.date(year, 1, 1), "end": datetime.date(year, 12, 1)}
        if (await session.execute(text(CASES_CHANGED_SQL), cases)).scalar_one():
            return f"cases{whose} of the year arrived, were corrected or recalled after the refresh"
        grouped = {**args, "kind": GROUP_CASES, "first": f"{year}-01", "last": f"{year}-12"}
        if (await session.execute(text(GROUPED_AFTER_SQL), grouped)).scalar_one():
            return f"a grouping job{whose} covering the year finished after the refresh"
    return None


async def status(db: Any, scope: Scope, tenant: str, year: int) -> Status | None:
    """What a region's year of summaries was computed from, and whether it is stale, with the reason:
    its stored inputs differ from those a refresh would read now (points run, standard, point values,
    the time index's peer pool: refresh.inputs_of), or the year's cases or groupings changed after it
    was written or last checked. None before its first refresh or when the caller does not see the region.

    Every role that sees the region gets the same answer: the comparison reads the region as a
    whole (a system scope of that one tenant, after the caller's own scope has shown it the refresh
    row), and answers only yes or no and why, never a figure. The counts (cells, cases) are the
    caller's: a hospital's own cells (row-level security), a region's all of them."""
    from dianshu.db.session import scoped_session

    R = AnalyticsRefresh
    async with scoped_session(db, scope) as s:
        r = (await s.execute(select(R).where(R.tenant_id == tenant, R.year == year))).scalar_one_or_none()
        if r is None:
            return None
        if scope.all_hospitals:
            cells, cases = r.cells, r.cases
        else:
            own = await s.execute(
                text(
                    "select count(*) as cells, coalesce(sum(cases), 0) as cases from analytics_cell "
                    "where tenant_id = :t and year = :y"
                ),
                {"t": tenant, "y": year},
            )
            row = own.one()
            cells, cases = int(row.cells), int(row.cases)
    # The region and its time index's peers (city peers: every region), each read whole.
    seen = tuple(sorted({tenant, *(r.peers or ())}))
    async with scoped_session(db, Scope.system(seen, actor=f"analytics status for {scope.actor}")) as s:
        city = (await s.execute(text("select parent_code from tenant where code = :t"), {"t": tenant})).scalar_one()
        run = await latest_points_run(s, tenant, year)
        try:
            now = await inputs_of(s, str(city), tenant, year)
            reason = changed_inputs(r, now)
        except JobRejected:
            reason = "no payment standard is in force at the year's end any more"
        if reason is None:
            reason = await region_changes(s, r)
    return Status(r, run, reason is not None, reason, cells, cases)


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
