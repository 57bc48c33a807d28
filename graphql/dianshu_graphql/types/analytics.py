"""Hospital analytics as GraphQL types: a group's figures, a row of a view, a year-over-year row,
the summaries' status, and the typed result of the analytics.refresh job."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from dianshu.analytics.refresh import REFRESH
from dianshu.analytics.views import Comparison, Group, Status, Summary
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job


@strawberry.enum(description="What an analytics view groups by (its rows' key).")
class AnalyticsDimension(Enum):
    region = strawberry.enum_value("region", description="统筹区: the region (a city's view compares its regions).")
    hospital = strawberry.enum_value("hospital", description="医疗机构: a region's view compares its hospitals.")
    department = strawberry.enum_value("department", description="出院科别: the discharge department.")
    drg = strawberry.enum_value(
        "drg", description="DRG under the standard in force at the year's end (0000/xQY as their own; '' not grouped)."
    )
    month = strawberry.enum_value("month", description="结算月份: the discharge month (1-12).")


@strawberry.enum(description="Which point value priced a ledger's expected payment.")
class PointValueBasis(Enum):
    cleared = strawberry.enum_value("cleared", description="The year's published annual clearing (清算点值).")
    provisional = strawberry.enum_value(
        "provisional", description="The provisional point value of monthly pre-settlement (预结算点值)."
    )
    none = strawberry.enum_value("none", description="No point value: the ledger's cases are not priced.")


@strawberry.type(description="A group's figures, each formed once from its summed cells (percent shares × 100).")
class AnalyticsFigures:
    cases: int = strawberry.field(description="病例数: the year's current, active cases.")
    grouped_cases: int = strawberry.field(description="Cases grouped into a DRG (neither 0000 nor xQY).")
    cmi: Decimal | None = strawberry.field(description="CMI: Σ RW ÷ cases with an RW, 4 places.")
    total_weight: Decimal = strawberry.field(description="总权重: Σ RW, 4 places.")
    cost_index: Decimal | None = strawberry.field(description="费用消耗指数: Σ cost ÷ Σ DRG average cost, 4 places.")
    time_index: Decimal | None = strawberry.field(
        description="时间消耗指数: Σ LOS ÷ Σ the DRG's average LOS among the region's hospitals of the level."
    )
    average_los: Decimal | None = strawberry.field(description="平均住院日.")
    points_cases: int = strawberry.field(description="Cases in the year's latest points run.")
    points: Decimal = strawberry.field(
        description="总点数: Σ paid points of the latest points run's cases, as settlement pays them (points × the "
        "cleared run's evaluation coefficient − deductions)."
    )
    high_outlier_share: Decimal | None = strawberry.field(description="高倍率病例占比 (%): of the points run's cases.")
    low_outlier_share: Decimal | None = strawberry.field(description="低倍率病例占比 (%): of the points run's cases.")
    priced_cases: int = strawberry.field(description="Cases priced (their ledger has a point value).")
    expected_payment: Decimal | None = strawberry.field(
        description="预计支付: Σ points × the ledger's point value, half-up to the fen once; null when none is priced."
    )
    cost: Decimal = strawberry.field(description="实际费用: Σ total cost of every case.")
    priced_cost: Decimal = strawberry.field(description="Σ total cost of the priced cases.")
    profit_loss: Decimal | None = strawberry.field(
        description="盈亏: expected payment − the priced cases' cost (negative: a loss)."
    )
    drug_share: Decimal | None = strawberry.field(description="药占比 (%).")
    consumables_share: Decimal | None = strawberry.field(description="耗占比 (%).")
    own_pay_share: Decimal | None = strawberry.field(description="自费比例 (%).")
    overspend_cases: int = strawberry.field(description="超支病例: cases costing more than their DRG's average.")
    overspend_amount: Decimal = strawberry.field(description="超支金额: Σ (cost − the DRG's average) over them.")
    severe_cases: int = strawberry.field(
        description="严重超支病例: cost over 3 × the DRG's average (under 10,000 yuan), 2 × (10,000 or more)."
    )
    severe_cost: Decimal = strawberry.field(description="Σ total cost of the severe cases.")

    @classmethod
    def of(cls, s: Summary) -> AnalyticsFigures:
        return cls(
            cases=s.cases,
            grouped_cases=s.grouped,
            cmi=s.cmi,
            total_weight=s.total_weight,
            cost_index=s.cost_index,
            time_index=s.time_index,
            average_los=s.avg_los,
            points_cases=s.run_cases,
            points=s.points,
            high_outlier_share=s.high_outlier_share,
            low_outlier_share=s.low_outlier_share,
            priced_cases=s.priced_cases,
            expected_payment=s.expected_payment,
            cost=s.cost,
            priced_cost=s.priced_cost,
            profit_loss=s.profit_loss,
            drug_share=s.drug_share,
            consumables_share=s.consumables_share,
            own_pay_share=s.own_pay_share,
            overspend_cases=s.over_cases,
            overspend_amount=s.over_amount,
            severe_cases=s.severe_cases,
            severe_cost=s.severe_cost,
        )


@strawberry.type(description="A row's key: the dimensions the view groups by (the others are null).")
class AnalyticsKey:
    region: str | None = None
    hospital: str | None = None
    department: str | None = None
    drg: str | None = None
    month: int | None = None

    @classmethod
    def of(cls, key: dict[str, Any]) -> AnalyticsKey:
        return cls(**key)


@strawberry.type(description="One row of an analytics view.")
class AnalyticsRow:
    key: AnalyticsKey
    figures: AnalyticsFigures

    @classmethod
    def of(cls, g: Group) -> AnalyticsRow:
        return cls(key=AnalyticsKey.of(g.key), figures=AnalyticsFigures.of(g.summary))


@strawberry.type(description="A row of this year against the same group a year earlier.")
class AnalyticsComparison:
    key: AnalyticsKey
    current: AnalyticsFigures
    previous: AnalyticsFigures | None = strawberry.field(description="Null when the group has no case last year.")
    cases_growth: Decimal | None = strawberry.field(description="(cases ÷ last year's − 1) × 100, 4 places.")
    cost_growth: Decimal | None = strawberry.field(description="Growth of the actual cost (%).")
    cost_per_case_growth: Decimal | None = strawberry.field(description="Growth of the cost per case (%).")
    points_growth: Decimal | None = strawberry.field(description="Growth of the points (%).")
    expected_payment_growth: Decimal | None = strawberry.field(description="Growth of the expected payment (%).")
    cmi_change: Decimal | None = strawberry.field(description="This year's CMI − last year's.")

    @classmethod
    def of(cls, c: Comparison) -> AnalyticsComparison:
        return cls(
            key=AnalyticsKey.of(c.key),
            current=AnalyticsFigures.of(c.current),
            previous=AnalyticsFigures.of(c.previous) if c.previous is not None else None,
            cases_growth=c.cases_growth,
            cost_growth=c.cost_growth,
            cost_per_case_growth=c.cost_per_case_growth,
            points_growth=c.points_growth,
            expected_payment_growth=c.payment_growth,
            cmi_change=c.cmi_change,
        )


@strawberry.type(description="The point value that priced one ledger's cases.")
class AnalyticsPointValue:
    ledger: str = strawberry.field(description="employee, resident, or all (merged ledgers).")
    value: Decimal | None = strawberry.field(description="The exact point value (yuan per point); null: none.")
    basis: PointValueBasis
    source: str = strawberry.field(description="Where it comes from (the run, or the policy's fixed value).")


@strawberry.type(description="What a region's year of analytics summaries was computed from, and whether it is stale.")
class AnalyticsStatus:
    tenant_code: str
    year: int
    refreshed_at: datetime.datetime
    cells: int = strawberry.field(
        description="Summary cells (hospital × month × department × DRG) the caller sees: a hospital its own."
    )
    cases: int = strawberry.field(description="Cases in those cells: a hospital its own, a region all of them.")
    points_run_id: uuid.UUID | None = strawberry.field(description="The points run the summaries read (null: none).")
    latest_points_run_id: uuid.UUID | None = strawberry.field(description="The year's latest points run now.")
    point_values: list[AnalyticsPointValue]
    stale: bool = strawberry.field(
        description="The inputs changed since the refresh (points run, standard, point values) or the year's cases "
        "or groupings did: refreshAnalytics brings it up to date. The same answer for every role."
    )
    stale_reason: str | None

    @classmethod
    def of(cls, st: Status) -> AnalyticsStatus:
        r = st.refresh
        return cls(
            tenant_code=r.tenant_id,
            year=r.year,
            refreshed_at=r.refreshed_at,
            cells=st.cells,
            cases=st.cases,
            points_run_id=r.points_run_id,
            latest_points_run_id=st.latest_points_run.id if st.latest_points_run is not None else None,
            point_values=[
                AnalyticsPointValue(
                    ledger=ledger,
                    value=Decimal(v["value"]) if v.get("value") is not None else None,
                    basis=PointValueBasis(v["basis"]),
                    source=str(v.get("source") or ""),
                )
                for ledger, v in sorted(r.point_values.items())
            ],
            stale=st.stale,
            stale_reason=st.reason,
        )


@strawberry.type(description="What an analytics refresh (analytics.refresh) did.")
class AnalyticsRefreshJobResult:
    year: int
    regions: int
    changed: int = strawberry.field(description="Regions whose summaries changed (0: nothing was written).")
    cells: int
    cases: int
    skipped: list[str] = strawberry.field(
        description="Regions left as they were, and why (no payment standard in force at the year's end)."
    )

    @classmethod
    def of(cls, r: dict[str, Any]) -> AnalyticsRefreshJobResult:
        return cls(
            year=int(r["year"]),
            regions=int(r["regions"]),
            changed=int(r["changed"]),
            cells=int(r["cells"]),
            cases=int(r["cases"]),
            skipped=[str(x) for x in r.get("skipped", [])],
        )


@strawberry.type(description="The analytics refresh job.")
class AnalyticsRefreshJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


job_results.register(REFRESH, AnalyticsRefreshJobResult, AnalyticsRefreshJobResult.of)
