"""Simulation (模拟测算) as GraphQL types: the scenario as a strict input (everything the JSON
scenario of docs/scenario.schema.json holds, under GraphQL names), the simulated year, and a real
year simulated on changed parameters beside its published clearing. The scenario is turned back
into the JSON the platform's strict reader takes (dianshu.settlement.arithmetic.scenario): it stays the one
home of the rules, and its refusals are reported at the client's paths."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from dianshu.settlement.runs.simulations import SIMULATE
from dianshu_graphql.types import job_results
from dianshu_graphql.types.cases import FundType
from dianshu_graphql.types.policies import (
    Ledger,
    PolicyParameterChanges,
    PolicyParameters,
    PolicyParametersInput,
    input_json,
)
from dianshu_graphql.types.reviews import ReviewOutcome
from dianshu_graphql.types.settlement import (
    CaseType,
    RunStatus,
    SettlementFigures,
    ViolationKind,
    duplicates,
    graphql_path,
    listed_field,
)
from dianshu_graphql.types.tenancy import HospitalType

# ---- the scenario ------------------------------------------------------------------------------------


@strawberry.input(description="The region's payment standard (付费标准).")
class ScenarioStandardInput:
    avg_cost_all: Decimal = strawberry.field(description="The region's average cost per case (yuan), above 0.")


@strawberry.input(description="A DRG group of the scenario's standard.")
class ScenarioGroupInput:
    drg: str = strawberry.field(description="The DRG code (1 to 40 characters), unique among groups.")
    avg_cost: Decimal = strawberry.field(description="The group's average cost (yuan), above 0.")
    base_points: Decimal = strawberry.field(description="The group's base points (基准点数), above 0, ≤ 1,000,000.")
    stable: bool = strawberry.field(default=True, description="A stable group (稳定组); unstable ones pay by item.")
    base_group: bool = strawberry.field(default=False, description="A base group (基础病组): no hospital coefficient.")
    bed_day: bool = strawberry.field(default=False, description="A bed-day group (床日付费).")
    base_points_per_day: Decimal | None = strawberry.field(
        default=None, description="Points per day: required for a bed-day group, only for one."
    )
    tcm: bool = strawberry.field(default=False, description="A TCM-advantage group (中医优势病种).")


@strawberry.input(description="What a hospital was paid during the year, per fund type (yuan, not negative).")
class ScenarioPrepaidInput:
    employee: Decimal = strawberry.field(default=Decimal(0), description="Paid from the employee ledger.")
    resident: Decimal = strawberry.field(default=Decimal(0), description="Paid from the resident ledger.")


@strawberry.input(description="A hospital of the scenario.")
class ScenarioHospitalInput:
    code: str = strawberry.field(description="The hospital's code, unique among hospitals.")
    coefficient: Decimal = strawberry.field(default=Decimal(1), description="医院系数: above 0, at most 100.")
    type: HospitalType = strawberry.field(default=HospitalType.general, description="General, TCM or specialist.")
    evaluation_score: Decimal | None = strawberry.field(default=None, description="考核得分 from 0 to 100 (null: 100).")
    prepaid: strawberry.Maybe[ScenarioPrepaidInput] = strawberry.field(
        description="Paid during the year (left out: nothing)."
    )


@strawberry.input(description="A member hospital's share of a medical alliance.")
class AllianceShareInput:
    hospital: str = strawberry.field(description="The member hospital's code (each member once).")
    share: Decimal = strawberry.field(description="Its ratio, from 0 to 1; an alliance's shares sum to exactly 1.")


@strawberry.input(description="A medical alliance (医共体) settled as one budget holder.")
class ScenarioAllianceInput:
    id: str = strawberry.field(description="The alliance's id, unique among alliances.")
    lead: str = strawberry.field(description="Its lead hospital (牵头医院), a member.")
    shares: list[AllianceShareInput] = strawberry.field(description="At least two members and their shares.")


@strawberry.input(description="A confirmed violation on a case.")
class ScenarioViolationInput:
    kind: ViolationKind = strawberry.field(description="The violation's kind.")
    serious: bool = strawberry.field(default=False, description="Serious: the points are deducted, not just lost.")


@strawberry.input(description="A decided special review of a case.")
class ScenarioSpecialReviewInput:
    outcome: ReviewOutcome = strawberry.field(description="The review's outcome.")
    points: Decimal | None = strawberry.field(default=None, description="The points set: with add_points, only then.")


@strawberry.input(description="A new technology (新技术) used in a case, paid an add-on in points.")
class ScenarioNewTechnologyInput:
    code: str | None = strawberry.field(default=None, description="Its procedure code (default T<index>).")
    cost: Decimal = strawberry.field(description="Its cost (yuan), not negative.")
    use_year: int = strawberry.field(
        default=1, description="Its year of use, 1 to 10 (1 in its first year): the taper's share ('year' in JSON)."
    )


@strawberry.input(description="An inpatient stay of the scenario.")
class ScenarioCaseInput:
    id: str = strawberry.field(description="The case's id, unique among cases.")
    hospital: str = strawberry.field(description="A hospital of the scenario.")
    drg: str = strawberry.field(description="A DRG of groups, 0000 (ungroupable) or an ambiguous ...QY group.")
    total_cost: Decimal = strawberry.field(description="Total cost (yuan), not negative.")
    los_days: int = strawberry.field(description="Length of stay (days), 0 to 3660.")
    discharge_way: int = strawberry.field(description="离院方式: 1, 2, 3, 4, 5 or 9.")
    self_pay: Decimal = strawberry.field(description="The patient's own payment (yuan), not negative.")
    fund_type: FundType = strawberry.field(description="The patient's fund type (参保类型).")
    fund_pay: Decimal = strawberry.field(default=Decimal(0), description="The fund's payment (yuan), not negative.")
    month: int = strawberry.field(default=12, description="The discharge month, 1 to 12.")
    readmission_of: str | None = strawberry.field(default=None, description="Another case's id: this stay readmits it.")
    violation: ScenarioViolationInput | None = strawberry.field(default=None, description="A confirmed violation.")
    special_review_points: Decimal | None = strawberry.field(
        default=None, description="Points set by special review (shorthand for add_points); not with specialReview."
    )
    special_review: ScenarioSpecialReviewInput | None = strawberry.field(
        default=None, description="A decided special review (特病单议); not with specialReviewPoints."
    )
    new_technologies: strawberry.Maybe[list[ScenarioNewTechnologyInput]] = strawberry.field(
        description="At most 20 (left out: none)."
    )
    tcm_treatment: bool = strawberry.field(default=False, description="Treated with TCM (中医治疗).")


@strawberry.input(description="A ledger's budget in the scenario.")
class ScenarioLedgerBudgetInput:
    amount: Decimal = strawberry.field(description="T before the reserve (yuan), above 0.")
    fee_for_service_fund: Decimal = strawberry.field(description="E: what the fund paid fee-for-service (yuan).")
    reserve_ratio: Decimal | None = strawberry.field(
        default=None, description="At least 0, below 1; the policy's reserveRatio when left out."
    )


@strawberry.input(description="The budget of each ledger that has cases.")
class ScenarioBudgetInput:
    employee: ScenarioLedgerBudgetInput | None = strawberry.field(default=None, description="The employee ledger's.")
    resident: ScenarioLedgerBudgetInput | None = strawberry.field(default=None, description="The resident ledger's.")
    all: ScenarioLedgerBudgetInput | None = strawberry.field(
        default=None, description="Only when the policy merges the ledgers."
    )


@strawberry.input(
    description="A year to simulate (docs/scenario.schema.json under GraphQL names): case points and annual "
    "clearing, nothing stored. Ranges, unique codes and cross-references are refused by field path."
)
class ScenarioInput:
    policy: PolicyParametersInput | None = strawberry.field(
        default=None, description="Parameters changed from the SPEC defaults (as setPolicy)."
    )
    standard: ScenarioStandardInput = strawberry.field(description="The region's payment standard.")
    groups: strawberry.Maybe[list[ScenarioGroupInput]] = strawberry.field(description="At most 10,000 groups.")
    hospitals: list[ScenarioHospitalInput] = strawberry.field(description="1 to 10,000 hospitals.")
    alliances: strawberry.Maybe[list[ScenarioAllianceInput]] = strawberry.field(description="Medical alliances.")
    cases: list[ScenarioCaseInput] = strawberry.field(description="At least one case.")
    budget: ScenarioBudgetInput = strawberry.field(description="A budget for every ledger with cases.")


# JSON names whose GraphQL names are not their camel case.
SCENARIO_RENAMES = {"year": "useYear"}


def scenario_json(scenario: ScenarioInput) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The scenario as the JSON of docs/scenario.schema.json, and the (GraphQL path, reason) of what
    the JSON cannot hold (a member listed twice in an alliance)."""
    data = input_json(scenario)
    issues: list[tuple[str, str]] = []
    for i, a in enumerate(data.get("alliances") or []):
        members = [s["hospital"] for s in a["shares"]]
        issues += [(f"scenario.alliances[{i}].{p}", r) for p, r in duplicates(members, "shares", "hospital")]
        a["shares"] = {s["hospital"]: s["share"] for s in a["shares"]}
    for c in data.get("cases") or []:
        for t in c.get("new_technologies") or []:
            t["year"] = t.pop("use_year")
    return data, issues


def scenario_path(path: str, reason: str, scenario: ScenarioInput) -> str:
    """A refused scenario's JSON path as the client's GraphQL path."""
    if path == "scenario":
        return "scenario"
    if path.startswith("alliances[") and ".shares." in path:
        head, _, rest = path.partition(".shares.")
        index = int(head[len("alliances[") : -1])
        alliances = scenario.alliances.value if scenario.alliances else []
        if index < len(alliances):
            members = [s.hospital for s in alliances[index].shares]
            path = f"{head}." + listed_field(f"shares.{rest}", "shares", members, reason, "share", "hospital")
    return graphql_path(path, "scenario", SCENARIO_RENAMES)


# ---- the simulated year ------------------------------------------------------------------------------


@strawberry.type(description="A simulated case's points.")
class SimulatedCase:
    id: str
    points: Decimal = strawberry.field(description="The case's points (4 places).")
    type: CaseType
    reason: str = strawberry.field(description="How its points were set, in words.")
    addon: Decimal = strawberry.field(description="New-technology add-on points included (0: none).")
    deduction: Decimal = strawberry.field(description="Points deducted for a serious violation (0: none).")


@strawberry.type(description="A hospital's simulated annual clearing.")
class SimulatedHospital:
    hospital: str
    alliance: str | None
    points: Decimal = strawberry.field(description="P_h: points counted, after deductions.")
    deductions: Decimal = strawberry.field(description="Points deducted for violations.")
    self_pay: Decimal = strawberry.field(description="S_h: the patients' own payments.")
    due: Decimal = strawberry.field(description="D_h = P_h × PV − S_h (应付).")
    prepaid: Decimal = strawberry.field(description="Paid during the year.")
    balance: Decimal = strawberry.field(description="The clearing balance (清算差额) to pay (or recover, < 0).")


@strawberry.type(description="A ledger's simulated clearing.")
class SimulatedLedger:
    ledger: Ledger
    figures: SettlementFigures = strawberry.field(description="T, R, B, E, F, P, S, PV (and the alliances).")
    hospitals: list[SimulatedHospital]


@strawberry.type(
    description="A simulated year (the same figures as `dianshu simulate` writes, typed): simulate's result, and "
    "the result of a simulation job (settlement.simulate)."
)
class SimulationResult:
    policy: PolicyParameters = strawberry.field(description="The parameters the year was simulated with.")
    cases: list[SimulatedCase]
    ledgers: list[SimulatedLedger]

    @classmethod
    def of(cls, result: dict[str, Any]) -> SimulationResult:
        return cls(
            policy=PolicyParameters.of_json(result["policy"]),
            cases=[
                SimulatedCase(
                    id=c["id"],
                    points=Decimal(c["points"]),
                    type=CaseType(c["type"]),
                    reason=c["reason"],
                    addon=Decimal(c.get("addon", "0")),
                    deduction=Decimal(c.get("deduction", "0")),
                )
                for c in result["cases"]
            ],
            ledgers=[
                SimulatedLedger(
                    ledger=Ledger(name),
                    figures=SettlementFigures.of(
                        {**{k: v for k, v in led.items() if k != "hospitals"}, "hospitals": len(led["hospitals"])}
                    ),
                    hospitals=[
                        SimulatedHospital(
                            hospital=h,
                            alliance=x.get("alliance"),
                            points=Decimal(x["points"]),
                            deductions=Decimal(x["deductions"]),
                            self_pay=Decimal(x["self_pay"]),
                            due=Decimal(x["due"]),
                            prepaid=Decimal(x["prepaid"]),
                            balance=Decimal(x["balance"]),
                        )
                        for h, x in led["hospitals"].items()
                    ],
                )
                for name, led in result["ledgers"].items()
            ],
        )


# A simulation job's result is the same simulated year.
job_results.register(SIMULATE, SimulationResult, SimulationResult.of)


@strawberry.type(description="A simulation's result.")
class SimulationPayload:
    result: SimulationResult


# ---- a real year on changed parameters, beside its clearing --------------------------------------------


@strawberry.input(description="A hospital's coefficient to simulate with.")
class HospitalCoefficientInput:
    hospital: str = strawberry.field(description="A hospital of the region (each once).")
    coefficient: Decimal = strawberry.field(description="医院系数, above 0.")


@strawberry.type(description="A hospital's coefficient.")
class HospitalCoefficient:
    hospital: str
    coefficient: Decimal


@strawberry.type(description="What the comparison changed.")
class RunComparisonChanges:
    parameters: PolicyParameterChanges = strawberry.field(description="The policy parameters changed.")
    coefficients: list[HospitalCoefficient] = strawberry.field(description="The coefficients changed.")
    growth_rate: Decimal = strawberry.field(description="g used for the budget (the budget's own when not given).")


@strawberry.type(description="A hospital's published clearing beside its simulated one.")
class HospitalComparison:
    hospital: str
    published_points: Decimal
    simulated_points: Decimal
    published_due: Decimal
    simulated_due: Decimal
    difference: Decimal = strawberry.field(description="simulatedDue − publishedDue.")
    published_balance: Decimal | None
    simulated_balance: Decimal | None


@strawberry.type(
    description="A region's real year simulated on changed parameters, beside an annual clearing run, hospital by "
    "hospital (预算协商谈判). Nothing is stored."
)
class RunComparison:
    run: strawberry.ID = strawberry.field(description="The annual clearing run compared with.")
    status: RunStatus
    ledger: Ledger
    year: int
    changes: RunComparisonChanges
    published: SettlementFigures = strawberry.field(description="The run's figures T, R, B, E, F, P, S, PV.")
    simulated: SettlementFigures = strawberry.field(description="The same figures simulated.")
    hospitals: list[HospitalComparison]

    @classmethod
    def of(cls, c: dict[str, Any]) -> RunComparison:
        figures = c["figures"]
        changes = c["changes"]
        return cls(
            run=strawberry.ID(c["run"]),
            status=RunStatus(c["status"]),
            ledger=Ledger(c["ledger"]),
            year=c["year"],
            changes=RunComparisonChanges(
                parameters=PolicyParameterChanges.of_json(changes["parameters"]),
                coefficients=[
                    HospitalCoefficient(hospital=h, coefficient=Decimal(v)) for h, v in changes["coefficients"].items()
                ],
                growth_rate=Decimal(changes["growth_rate"]),
            ),
            published=SettlementFigures.of({k: v["published"] for k, v in figures.items()}),
            simulated=SettlementFigures.of({k: v["simulated"] for k, v in figures.items()}),
            hospitals=[
                HospitalComparison(
                    hospital=h["hospital"],
                    published_points=Decimal(h["published_points"]),
                    simulated_points=Decimal(h["simulated_points"]),
                    published_due=Decimal(h["published_due"]),
                    simulated_due=Decimal(h["simulated_due"]),
                    difference=Decimal(h["difference"]),
                    published_balance=None if h["published_balance"] is None else Decimal(h["published_balance"]),
                    simulated_balance=None if h["simulated_balance"] is None else Decimal(h["simulated_balance"]),
                )
                for h in c["hospitals"]
            ],
        )


@strawberry.type(description="The comparison of a run with its simulation.")
class RunComparisonPayload:
    comparison: RunComparison
