"""The simulation scenario as a strict schema: unknown keys refused at every level, exact types
(JSON booleans, whole numbers, decimals as strings or integers, never floats), bounds, unique codes
and cross-references. `read_scenario` gives the engine's typed inputs or refuses with every JSON
path that is wrong; docs/scenario.schema.json is generated from these models (`dianshu simulate
--schema`)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from dianshu.evaluation.scoring import coefficient
from dianshu.grouping.drg_codes import UNGROUPABLE, ungroupable_or_ambiguous
from dianshu.settlement.arithmetic.clearing import budget
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.arithmetic.policy import (
    DISCHARGE_WAYS,
    MAX_FACTOR,
    MAX_LOS_DAYS,
    MAX_POINTS,
    VIOLATION_MULTIPLES,
    Policy,
    overrides_model,
)
from dianshu.settlement.arithmetic.year import (
    AllianceIn,
    CaseIn,
    HospitalIn,
    LedgerBudget,
    NewTechnology,
    Review,
    Violation,
    YearInputs,
    alliance_problems,
    ledger_of,
)
from dianshu.strict import Dec, Invalid, Issue, Money, StrictBool, StrictInt, StrictModel, StrictStr, WholeNumber, parse

FUND_TYPES = ("employee", "resident")
REVIEW_OUTCOMES = ("keep", "add_points", "pay_by_item", "refuse")
MAX_GROUPS = 10_000
MAX_HOSPITALS = 10_000

# Every decimal is below bounds.DECIMAL_MAX_ABS (10^12) in size (strict.Dec): money (yuan) has at
# most 2 places, points, coefficients and ratios at most 6.
PositiveMoney = Annotated[Money, Field(gt=0)]
NonNegativeMoney = Annotated[Money, Field(ge=0)]
Points = Annotated[Dec, Field(gt=0, le=int(MAX_POINTS))]
NonNegativePoints = Annotated[Dec, Field(ge=0, le=int(MAX_POINTS))]
Ratio = Annotated[Dec, Field(ge=0, le=1)]
Code = Annotated[StrictStr, Field(min_length=1, max_length=40)]
PolicyParameters = overrides_model()


class Standard(StrictModel):
    avg_cost_all: PositiveMoney = Field(description="The region's average cost per case (yuan).")


class Group(StrictModel):
    drg: Code
    avg_cost: PositiveMoney
    base_points: Points
    stable: StrictBool = True
    base_group: StrictBool = False
    bed_day: StrictBool = False
    base_points_per_day: NonNegativePoints | None = Field(default=None, description="Required for a bed-day group.")
    tcm: StrictBool = Field(default=False, description="A TCM-advantage group.")


class Prepaid(StrictModel):
    employee: NonNegativeMoney = Decimal(0)
    resident: NonNegativeMoney = Decimal(0)


class Hospital(StrictModel):
    code: Code
    coefficient: Annotated[Dec, Field(gt=0, le=int(MAX_FACTOR))] = Decimal(1)
    type: Literal["general", "tcm", "specialist"] = "general"
    evaluation_score: Annotated[Dec, Field(ge=0, le=100)] | None = Field(default=None, description="None = 100.")
    prepaid: Prepaid = Field(default_factory=Prepaid, description="Paid during the year, per fund type.")


class Alliance(StrictModel):
    id: Code
    lead: Code
    shares: dict[Code, Ratio] = Field(min_length=2, description="Member hospital -> ratio, summing to 1.")


class ViolationIn(StrictModel):
    kind: Literal[tuple(VIOLATION_MULTIPLES)]  # type: ignore[valid-type]
    serious: StrictBool = False


class SpecialReview(StrictModel):
    outcome: Literal[REVIEW_OUTCOMES]  # type: ignore[valid-type]
    points: NonNegativePoints | None = Field(default=None, description="Required with add_points, only then.")


class NewTechnologyIn(StrictModel):
    code: Code | None = None
    cost: NonNegativeMoney
    year: Annotated[StrictInt, Field(ge=1, le=10)] = Field(default=1, description="1 in its first year.")


class Case(StrictModel):
    id: Code
    hospital: Code
    drg: Code = Field(description="A DRG of groups, 0000 (ungroupable) or an ambiguous ...QY group.")
    total_cost: NonNegativeMoney
    los_days: Annotated[StrictInt, Field(ge=0, le=MAX_LOS_DAYS)]
    discharge_way: Annotated[Literal[DISCHARGE_WAYS], WholeNumber]  # type: ignore[valid-type]
    self_pay: NonNegativeMoney
    fund_type: Literal[FUND_TYPES]  # type: ignore[valid-type]
    fund_pay: NonNegativeMoney = Decimal(0)
    month: Annotated[StrictInt, Field(ge=1, le=12)] = 12
    readmission_of: Code | None = Field(default=None, description="Another case's id: this stay readmits it.")
    violation: ViolationIn | None = None
    special_review_points: NonNegativePoints | None = None
    special_review: SpecialReview | None = None
    new_technologies: list[NewTechnologyIn] = Field(default_factory=list, max_length=20)
    tcm_treatment: StrictBool = False


class LedgerBudgetIn(StrictModel):
    amount: PositiveMoney = Field(description="T before the reserve.")
    fee_for_service_fund: NonNegativeMoney = Field(description="E: what the fund paid fee-for-service.")
    reserve_ratio: Annotated[Dec, Field(ge=0, lt=1)] | None = Field(
        default=None, description="The policy's reserve_ratio when left out."
    )


class Budgets(StrictModel):
    employee: LedgerBudgetIn | None = None
    resident: LedgerBudgetIn | None = None
    all: LedgerBudgetIn | None = Field(default=None, description="Only when the policy merges the ledgers.")


class Scenario(StrictModel):
    """A year to simulate: case points and annual clearing, nothing stored."""

    policy: PolicyParameters | None = Field(  # type: ignore[valid-type]
        default=None, description="Parameters changed from the SPEC defaults (the same names as setPolicy)."
    )
    standard: Standard
    # Far above any real scheme (CHS-DRG has 628 groups) or region: the cases are the only large part.
    groups: list[Group] = Field(default_factory=list, max_length=MAX_GROUPS)
    hospitals: list[Hospital] = Field(min_length=1, max_length=MAX_HOSPITALS)
    alliances: list[Alliance] = Field(default_factory=list, max_length=MAX_HOSPITALS)
    cases: list[Case] = Field(min_length=1)
    budget: Budgets


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "scenario.schema.json", **schema}


def _unique(items: list[Any], key: str, where: str) -> list[Issue]:
    first: dict[str, int] = {}
    out = []
    for i, x in enumerate(items):
        code = getattr(x, key)
        if code in first:
            out.append(Issue(f"{where}[{i}].{key}", f"duplicate: {code!r} is also {where}[{first[code]}]"))
        else:
            first[code] = i
    return out


def _cross_checks(sc: Scenario, policy: Policy) -> list[Issue]:
    issues = _unique(sc.groups, "drg", "groups") + _unique(sc.hospitals, "code", "hospitals")
    issues += _unique(sc.alliances, "id", "alliances") + _unique(sc.cases, "id", "cases")
    for i, g in enumerate(sc.groups):
        if g.bed_day and g.base_points_per_day is None:
            issues.append(Issue(f"groups[{i}].base_points_per_day", "required for a bed-day group"))
        if not g.bed_day and g.base_points_per_day is not None:
            issues.append(Issue(f"groups[{i}].base_points_per_day", "only for a bed-day group (bed_day: true)"))
    hospitals = {h.code for h in sc.hospitals}
    groups = {g.drg for g in sc.groups}
    cases = {c.id for c in sc.cases}
    alliances = [AllianceIn(a.id, a.lead, dict(a.shares)) for a in sc.alliances]
    issues += [Issue(f"alliances[{i}].{f}", reason) for i, f, reason in alliance_problems(alliances, hospitals)]
    ledgers_used: set[str] = set()
    for i, c in enumerate(sc.cases):
        at = f"cases[{i}]"
        ledgers_used.add(ledger_of(c.fund_type, policy))
        if c.hospital not in hospitals:
            issues.append(Issue(f"{at}.hospital", f"{c.hospital!r} is not in hospitals"))
        if not ungroupable_or_ambiguous(c.drg) and c.drg not in groups:
            issues.append(Issue(f"{at}.drg", f"{c.drg!r} is not in groups ({UNGROUPABLE} for an ungroupable case)"))
        if c.readmission_of is not None:
            if c.readmission_of == c.id:
                issues.append(Issue(f"{at}.readmission_of", "a case cannot readmit itself"))
            elif c.readmission_of not in cases:
                issues.append(Issue(f"{at}.readmission_of", f"no case {c.readmission_of!r}"))
        if c.special_review_points is not None and c.special_review is not None:
            issues.append(Issue(f"{at}.special_review", "give special_review_points or special_review, not both"))
        if (sr := c.special_review) is not None:
            if sr.outcome == "add_points" and sr.points is None:
                issues.append(Issue(f"{at}.special_review.points", "required when the outcome is add_points"))
            if sr.outcome != "add_points" and sr.points is not None:
                why = f"only with add_points (the outcome is {sr.outcome})"
                issues.append(Issue(f"{at}.special_review.points", why))
    allowed = {"all"} if policy.merge_ledgers else set(FUND_TYPES)
    for name in Budgets.model_fields:
        given = getattr(sc.budget, name) is not None
        if given and name not in allowed:
            why = "merge_ledgers is on: one budget, all" if policy.merge_ledgers else "only with merge_ledgers"
            issues.append(Issue(f"budget.{name}", f"not a ledger of this policy ({why})"))
        elif not given and name in ledgers_used:
            issues.append(Issue(f"budget.{name}", f"required: there are {name} cases"))
    return issues


def read_scenario(data: Any) -> YearInputs:
    """A scenario (parsed JSON) as the engine's inputs, or Invalid with every path that is wrong."""
    sc: Scenario = parse(Scenario, data)
    policy = Policy().with_parameters(sc.policy)
    if issues := _cross_checks(sc, policy):
        raise Invalid(issues)

    groups = {
        g.drg: DrgParams(
            drg=g.drg,
            avg_cost=g.avg_cost,
            base_points=g.base_points,
            stable=g.stable,
            base_group=g.base_group,
            bed_day=g.bed_day,
            base_points_per_day=g.base_points_per_day,
            tcm=g.tcm,
        )
        for g in sc.groups
    }
    ledgers = ("all",) if policy.merge_ledgers else FUND_TYPES
    hospitals = {}
    for h in sc.hospitals:
        paid = defaultdict(Decimal)
        for fund in FUND_TYPES:
            paid[ledger_of(fund, policy)] += getattr(h.prepaid, fund)
        hospitals[h.code] = HospitalIn(
            code=h.code,
            coefficient=h.coefficient,
            type=h.type,
            score=h.evaluation_score,
            prepaid={ledger: paid[ledger] for ledger in ledgers},
            # The evaluation's points coefficient (奖惩系数) of the score's band, as the clearing applies it.
            evaluation_coefficient=coefficient(
                h.evaluation_score, policy.evaluation_coefficient_floors, policy.evaluation_coefficients
            ),
        )
    alliances = [AllianceIn(a.id, a.lead, dict(a.shares)) for a in sc.alliances]
    cases = [
        CaseIn(
            id=c.id,
            hospital=c.hospital,
            drg=c.drg,
            total_cost=c.total_cost,
            los_days=c.los_days,
            discharge_way=c.discharge_way,
            self_pay=c.self_pay,
            fund_type=c.fund_type,
            fund_pay=c.fund_pay,
            month=c.month,
            readmission_of=c.readmission_of,
            violation=Violation(c.violation.kind, c.violation.serious) if c.violation else None,
            review=(
                Review("add_points", c.special_review_points)
                if c.special_review_points is not None
                else Review(c.special_review.outcome, c.special_review.points)
                if c.special_review is not None
                else None
            ),
            new_technologies=tuple(
                NewTechnology(t.code or f"T{j}", t.cost, t.year) for j, t in enumerate(c.new_technologies)
            ),
            tcm_treatment=c.tcm_treatment,
        )
        for c in sc.cases
    ]
    budgets = {}
    for name in Budgets.model_fields:
        b = getattr(sc.budget, name)
        if b is not None:
            budgets[name] = LedgerBudget(budget(b.amount, policy, b.reserve_ratio), b.fee_for_service_fund)
    return YearInputs(policy, sc.standard.avg_cost_all, groups, hospitals, alliances, cases, budgets)


def case_count(data: Any) -> int:
    """How many cases a scenario holds, read cheaply before it is parsed (for the size limits)."""
    cases = data.get("cases") if isinstance(data, dict) else None
    return len(cases) if isinstance(cases, list) else 0


__all__ = ["Scenario", "case_count", "json_schema", "read_scenario"]
