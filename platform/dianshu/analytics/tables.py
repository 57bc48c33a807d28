"""The analytics views as download tables (dianshu.tabular.write): Chinese headers by default,
English on request; one row per group of the view, its key columns first (with the hospital's or
region's name), then the figures. Percent shares are shown as numbers with 4 places (the figure
× 100, as the API gives them), money to the fen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dianshu.analytics.views import Comparison, Group, Summary
from dianshu.tabular.write import Column, Kind, Table

KEY_COLUMNS: dict[str, tuple[Column, ...]] = {
    "region": (Column("region", "统筹区编码", "Region code"), Column("region_name", "统筹区名称", "Region")),
    "hospital": (
        Column("hospital", "医疗机构编码", "Hospital code"),
        Column("hospital_name", "医疗机构名称", "Hospital"),
    ),
    "department": (Column("department", "出院科别", "Discharge department"),),
    "drg": (Column("drg", "DRG编码", "DRG"),),
    "month": (Column("month", "月份", "Month", Kind.count),),
}


def _pct(key: str, zh: str, en: str) -> Column:
    return Column(key, f"{zh}(%)", f"{en} (%)", Kind.decimal, 4)


FIGURE_COLUMNS: tuple[Column, ...] = (
    Column("cases", "病例数", "Cases", Kind.count),
    Column("grouped", "入组病例数", "Grouped cases", Kind.count),
    Column("cmi", "CMI", "CMI", Kind.decimal, 4),
    Column("total_weight", "总权重", "Total weight", Kind.decimal, 4),
    Column("cost_index", "费用消耗指数", "Cost consumption index", Kind.decimal, 4),
    Column("time_index", "时间消耗指数", "Time consumption index", Kind.decimal, 4),
    Column("avg_los", "平均住院日", "Average LOS", Kind.decimal, 4),
    Column("run_cases", "计点病例数", "Cases with points", Kind.count),
    Column("points", "总点数", "Points", Kind.decimal, 4),
    _pct("high_outlier_share", "高倍率病例占比", "High outlier share"),
    _pct("low_outlier_share", "低倍率病例占比", "Low outlier share"),
    Column("expected_payment", "预计支付(元)", "Expected payment (yuan)", Kind.money),
    Column("cost", "实际费用(元)", "Actual cost (yuan)", Kind.money),
    Column("priced_cost", "计价病例费用(元)", "Cost of priced cases (yuan)", Kind.money),
    Column("profit_loss", "盈亏(元)", "Profit or loss (yuan)", Kind.money),
    _pct("drug_share", "药占比", "Drug share"),
    _pct("consumables_share", "耗占比", "Consumables share"),
    _pct("own_pay_share", "自费比例", "Own-pay share"),
    Column("over_cases", "超支病例数", "Overspending cases", Kind.count),
    Column("over_amount", "超支金额(元)", "Overspend (yuan)", Kind.money),
    Column("severe_cases", "严重超支病例数", "Severe cases", Kind.count),
    Column("severe_cost", "严重超支病例费用(元)", "Cost of severe cases (yuan)", Kind.money),
)

GROWTH_COLUMNS: tuple[Column, ...] = (
    Column("last_cases", "上年病例数", "Cases last year", Kind.count),
    _pct("cases_growth", "病例数增长率", "Cases growth"),
    Column("last_cost", "上年实际费用(元)", "Actual cost last year (yuan)", Kind.money),
    _pct("cost_growth", "费用增长率", "Cost growth"),
    _pct("cost_per_case_growth", "次均费用增长率", "Cost per case growth"),
    Column("last_points", "上年总点数", "Points last year", Kind.decimal, 4),
    _pct("points_growth", "点数增长率", "Points growth"),
    Column("last_expected_payment", "上年预计支付(元)", "Expected payment last year (yuan)", Kind.money),
    _pct("expected_payment_growth", "预计支付增长率", "Expected payment growth"),
    Column("last_cmi", "上年CMI", "CMI last year", Kind.decimal, 4),
    Column("cmi_change", "CMI变化", "CMI change", Kind.decimal, 4),
)


def figures(s: Summary) -> dict[str, Any]:
    return {
        "cases": s.cases,
        "grouped": s.grouped,
        "cmi": s.cmi,
        "total_weight": s.total_weight,
        "cost_index": s.cost_index,
        "time_index": s.time_index,
        "avg_los": s.avg_los,
        "run_cases": s.run_cases,
        "points": s.points,
        "high_outlier_share": s.high_outlier_share,
        "low_outlier_share": s.low_outlier_share,
        "expected_payment": s.expected_payment,
        "cost": s.cost,
        "priced_cost": s.priced_cost,
        "profit_loss": s.profit_loss,
        "drug_share": s.drug_share,
        "consumables_share": s.consumables_share,
        "own_pay_share": s.own_pay_share,
        "over_cases": s.over_cases,
        "over_amount": s.over_amount,
        "severe_cases": s.severe_cases,
        "severe_cost": s.severe_cost,
    }


def _key(key: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """The key with the names beside the codes (names: "hospital:<code>" and "region:<code>")."""
    out = dict(key)
    if "hospital" in key:
        out["hospital_name"] = names.get(f"hospital:{key['hospital']}", "")
    if "region" in key:
        out["region_name"] = names.get(f"region:{key['region']}", "")
    return out


def _key_columns(by: Sequence[str]) -> tuple[Column, ...]:
    return tuple(c for b in by for c in KEY_COLUMNS[b])


def view_table(
    stem: str, title_zh: str, title_en: str, by: Sequence[str], rows: Sequence[Group], names: Mapping[str, str]
) -> Table:
    return Table(
        stem,
        title_zh,
        title_en,
        (*_key_columns(by), *FIGURE_COLUMNS),
        [{**_key(g.key, names), **figures(g.summary)} for g in rows],
    )


def year_over_year_table(
    stem: str, title_zh: str, title_en: str, by: Sequence[str], rows: Sequence[Comparison], names: Mapping[str, str]
) -> Table:
    out = []
    for c in rows:
        p = c.previous
        out.append(
            {
                **_key(c.key, names),
                **figures(c.current),
                "last_cases": p.cases if p else None,
                "cases_growth": c.cases_growth,
                "last_cost": p.cost if p else None,
                "cost_growth": c.cost_growth,
                "cost_per_case_growth": c.cost_per_case_growth,
                "last_points": p.points if p else None,
                "points_growth": c.points_growth,
                "last_expected_payment": p.expected_payment if p else None,
                "expected_payment_growth": c.payment_growth,
                "last_cmi": p.cmi if p else None,
                "cmi_change": c.cmi_change,
            }
        )
    return Table(stem, title_zh, title_en, (*_key_columns(by), *FIGURE_COLUMNS, *GROWTH_COLUMNS), out)
