"""Case points (SPEC section 5): a pure function from a grouped case, its DRG's parameters and the
policy to points, a case type and the reason. Points are Decimal with 4 places (rounded by the
policy: callers set `rounding(policy)`, as year.case_results does); case
points are never negative (penalties are separate deduction lines)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dianshu.grouping.drg_codes import is_ambiguous, is_ungroupable
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.rounding import POINT, q4  # noqa: F401  (q4 re-exported)

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DrgParams:
    drg: str
    avg_cost: Decimal
    base_points: Decimal
    stable: bool = True
    base_group: bool = False
    bed_day: bool = False
    base_points_per_day: Decimal | None = None
    tcm: bool = False  # a TCM-advantage group
    cases: int = 0  # cases behind the group's figures in the standard


@dataclass(frozen=True)
class PointsCase:
    id: str
    drg: str  # a DRG, "0000" (ungroupable) or "xQY" (ambiguous)
    total_cost: Decimal
    los_days: int
    discharge_way: int
    special_review_points: Decimal | None = None


@dataclass(frozen=True)
class CasePoints:
    id: str
    points: Decimal
    type: str  # normal | high_outlier | low_outlier | incomplete | itemized | bed_day | special_review
    reason: str
    base_points: Decimal | None  # b of the case's DRG (for deductions), None when it has none
    # The points before rounding to 4 places: a later step (the readmission halving) starts from
    # these, so the halved points are rounded once, not twice.
    exact: Decimal | None = None

    @property
    def unrounded(self) -> Decimal:
        return self.points if self.exact is None else self.exact


def itemized_points(total_cost: Decimal, avg_cost_all: Decimal, policy: Policy) -> Decimal:
    """Points paid by item: the case's cost / the region's average cost per case × 100 × f (the
    policy's itemized_factor), unrounded."""
    return total_cost / avg_cost_all * HUNDRED * policy.itemized_factor


def itemized_reason(drg: str, params: DrgParams | None) -> str | None:
    """Why a case of `drg` (its parameters in the standard, if any) is paid by item, or None when it
    is not: ungroupable (0000), an ambiguous group (xQY), a DRG without parameters, an unstable DRG."""
    if is_ungroupable(drg):
        return "ungroupable (0000)"
    if is_ambiguous(drg):
        return f"ambiguous group {drg}"
    if params is None:
        return f"DRG {drg} has no parameters in the standard"
    if not params.stable:
        return f"DRG {drg} is unstable"
    return None


def case_points(
    case: PointsCase, params: DrgParams | None, avg_cost_all: Decimal, coefficient: Decimal, policy: Policy
) -> CasePoints:
    """Precedence, first that applies: a decided special review; ungroupable, QY or unstable DRG
    (itemized); bed-day group with LOS ≥ 60; high outlier; incomplete stay; low outlier; normal."""
    b = params.base_points if params is not None else None
    if case.special_review_points is not None:
        pts = max(Decimal(0), case.special_review_points)
        return CasePoints(case.id, q4(pts), "special_review", f"special review decided {q4(pts)} points", b, pts)
    itemized_why = itemized_reason(case.drg, params)
    if itemized_why is not None:
        pts = itemized_points(case.total_cost, avg_cost_all, policy)
        return CasePoints(
            case.id,
            q4(pts),
            "itemized",
            f"{itemized_why}: cost {case.total_cost} / {avg_cost_all} × 100 × {policy.itemized_factor}",
            b,
            pts,
        )
    assert params is not None and b is not None
    c = Decimal(1) if params.base_group else coefficient
    if params.bed_day and case.los_days >= policy.bed_day_min_los and params.base_points_per_day is not None:
        pts = params.base_points_per_day * case.los_days
        return CasePoints(
            case.id, q4(pts), "bed_day", f"bed-day group: {params.base_points_per_day} × {case.los_days} days", b, pts
        )
    ratio = case.total_cost / params.avg_cost
    k = policy.k(b)
    if ratio > k:
        pts = b * c + b * (ratio - k)
        return CasePoints(
            case.id,
            q4(pts),
            "high_outlier",
            f"cost ratio {q4(ratio)} > {k}: {b} × {c} + {b} × ({q4(ratio)} − {k})",
            b,
            pts,
        )
    if case.discharge_way in policy.incomplete_discharge_ways and ratio < policy.incomplete_max_ratio:
        pts = min(b * c * ratio, b)
        return CasePoints(
            case.id,
            q4(pts),
            "incomplete",
            f"discharge way {case.discharge_way}, ratio {q4(ratio)} < 1: min({b} × {c} × ratio, {b})",
            b,
            pts,
        )
    if ratio < policy.low_ratio:
        pts = min(b * ratio, b)
        return CasePoints(
            case.id, q4(pts), "low_outlier", f"cost ratio {q4(ratio)} < {policy.low_ratio}: {b} × ratio", b, pts
        )
    return CasePoints(case.id, q4(b * c), "normal", f"{b} × coefficient {c}", b, b * c)
