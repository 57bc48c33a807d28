"""Settlement types shared by the points, runs, statements and simulation modules: enums, the typed
errors of the settlement mutations, a run's figures (the single-letter figures of SPEC section 6 by
name), its lines and recorded inputs, and the field paths of refusals as the client wrote them."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.settle import SETTLE
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import ValidationError
from dianshu_graphql.loaders import settlement_lines_loader
from dianshu_graphql.pagination import Connection
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job, JobPayload
from dianshu_graphql.types.policies import Ledger, LedgerPolicy
from dianshu_graphql.types.tenancy import HospitalType

# ---- enums ---------------------------------------------------------------------------------------


@strawberry.enum(description="What a settlement run settles.")
class SettlementKind(Enum):
    monthly = strawberry.enum_value("monthly", description="月度预结算: year to date through the run's month.")
    annual = strawberry.enum_value("annual", description="年度清算: the year's clearing.")


@strawberry.enum(description="A run's state: a draft may be re-run, a published run is frozen.")
class RunStatus(Enum):
    draft = strawberry.enum_value("draft", description="Computed, not final (草稿).")
    published = strawberry.enum_value("published", description="Published and frozen (已发布).")


@strawberry.enum(description="How a case's points were set (病例类型).")
class CaseType(Enum):
    normal = strawberry.enum_value("normal", description="正常病例: base points × coefficient.")
    high_outlier = strawberry.enum_value("high_outlier", description="高倍率病例: cost above k × the group's.")
    low_outlier = strawberry.enum_value("low_outlier", description="低倍率病例: cost below the low ratio.")
    incomplete = strawberry.enum_value("incomplete", description="未完成治疗: an incomplete stay (discharge way).")
    itemized = strawberry.enum_value("itemized", description="按项目付费: unstable, ungroupable or QY cases.")
    bed_day = strawberry.enum_value("bed_day", description="床日付费: a bed-day group's long stay.")
    special_review = strawberry.enum_value("special_review", description="特病单议: points set by special review.")


@strawberry.enum(description="A violation kind (违规类型) confirmed on a case.")
class ViolationKind(Enum):
    split_admission = strawberry.enum_value("split_admission", description="分解住院")
    bed_hanging = strawberry.enum_value("bed_hanging", description="挂床住院")
    no_indication = strawberry.enum_value("no_indication", description="无指征住院")
    outpatient_shift = strawberry.enum_value("outpatient_shift", description="门诊转住院")
    own_pay_switch = strawberry.enum_value("own_pay_switch", description="转嫁自费")
    upcoding = strawberry.enum_value("upcoding", description="高套分组")
    fraud = strawberry.enum_value("fraud", description="欺诈骗保")


@strawberry.enum(description="Where a budget's last-year spending came from.")
class SpendingSource(Enum):
    cases = strawberry.enum_value("cases", description="Computed from last year's fund payments of the cases.")
    entered = strawberry.enum_value("entered", description="Entered by the region (e.g. a first year).")


# ---- typed errors ----------------------------------------------------------------------------------


# ---- field paths ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"\[\d+\]|[^.\[\]]+")


def graphql_path(path: str, root: str | None = None, renames: dict[str, str] | None = None) -> str:
    """A platform path (JSON names: cases[1].los_days) as the client's GraphQL input path under
    `root` (scenario.cases[1].losDays); `renames` maps a JSON name to a GraphQL name that is not its
    camel case. The whole input (the platform's root word) is `root` itself."""
    out = root or ""
    for token in _TOKEN.findall(path):
        if token.startswith("["):
            out += token
            continue
        name = (renames or {}).get(token) or to_camel_case(token)
        out = f"{out}.{name}" if out else name
    return out


def listed_field(path: str, prefix: str, keys: list[str], reason: str, value_field: str, key_field: str) -> str:
    """A path into a keyed JSON object (shares.H1) as the typed list the client sent
    (shares[0].share, or .hospital when the key itself is refused)."""
    if not path.startswith(prefix + "."):
        return path
    key, _, rest = path[len(prefix) + 1 :].partition(".")
    if key not in keys:
        return path
    about_key = reason.startswith(("not a hospital", "already", "duplicate")) and not rest
    return f"{prefix}[{keys.index(key)}].{key_field if about_key else value_field}" + (f".{rest}" if rest else "")


def duplicates(keys: list[str], prefix: str, key_field: str) -> list[tuple[str, str]]:
    """(path, reason) of every key given twice in a typed list."""
    first: dict[str, int] = {}
    out = []
    for i, k in enumerate(keys):
        if k in first:
            out.append((f"{prefix}[{i}].{key_field}", f"duplicate: {k!r} is also {prefix}[{first[k]}]"))
        else:
            first.setdefault(k, i)
    return out


# ---- figures ---------------------------------------------------------------------------------------


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@strawberry.type(description="A medical alliance's (医共体) figures in an annual clearing.")
class AllianceFigures:
    alliance: str = strawberry.field(description="The alliance's id.")
    lead: str | None = strawberry.field(description="Its lead hospital (牵头医院); null where not recorded.")
    points: Decimal = strawberry.field(description="The members' points together.")
    due: Decimal = strawberry.field(description="What is due to the alliance as one budget holder.")
    surplus: Decimal = strawberry.field(description="due − the members' fee-for-service fund payments (结余).")


# The figure keys runs and simulations record -> the GraphQL field they are read as.
FIGURES = {
    "T": "total_budget",
    "R": "reserve",
    "B": "points_budget",
    "E": "fee_for_service_fund",
    "F": "fund_total",
    "P": "total_points",
    "S": "self_pay",
    "PV": "point_value",
    "PV_exact": "point_value_exact",
    "PV_provisional": "provisional_point_value",
    "due": "due",
    "payable": "payable",
    "holdback": "holdback",
    "payment": "payment",
    "balance": "balance",
    "withheld": "withheld",
}


@strawberry.type(
    description="A ledger's figures (SPEC section 6), money to the fen, points to 4 places, point values to 6. "
    "Each names its SPEC letter; a figure a run or view does not have is null (monthly runs have no budget)."
)
class SettlementFigures:
    total_budget: Decimal | None = strawberry.field(
        description="T: the ledger's budget (年度统筹基金预算总额) = last year's spending × (1 + g) − carve-outs."
    )
    reserve: Decimal | None = strawberry.field(description="R: the reserve (调剂金) = T × reserve ratio.")
    points_budget: Decimal | None = strawberry.field(description="B: the points budget = T − R.")
    fee_for_service_fund: Decimal | None = strawberry.field(
        description="E: what the fund would have paid fee-for-service (按项目付费统筹基金支出)."
    )
    fund_total: Decimal | None = strawberry.field(
        description="F: the fund's total paid by points (清算统筹基金总额): E + share × (B − E) or B + min(share × "
        "(E − B), R)."
    )
    total_points: Decimal | None = strawberry.field(description="P: the region's total points (总点数).")
    self_pay: Decimal | None = strawberry.field(description="S: the patients' own payments (个人负担).")
    point_value: Decimal | None = strawberry.field(description="PV: the point value (点值) = (F + S) / P, 6 places.")
    point_value_exact: Decimal | None = strawberry.field(
        description="PV_exact: the point value unrounded (what the lines were computed with)."
    )
    provisional_point_value: Decimal | None = strawberry.field(
        description="PV_provisional: a monthly run's provisional point value (预结算点值), 6 places."
    )
    due: Decimal | None = strawberry.field(description="Σ the hospitals' dues (应付).")
    payable: Decimal | None = strawberry.field(description="Σ payable year to date = due × prepay ratio (monthly).")
    holdback: Decimal | None = strawberry.field(description="Σ held back (质量保证金) = due − payable (monthly).")
    payment: Decimal | None = strawberry.field(description="Σ this month's payments (本月拨付) (monthly).")
    balance: Decimal | None = strawberry.field(description="Σ the clearing balances (清算差额) (annual).")
    withheld: Decimal | None = strawberry.field(
        description="Σ withheld for evaluation scores below 100, staying in the fund (annual)."
    )
    hospitals: int | None = strawberry.field(description="How many hospital lines.")
    alliances: list[AllianceFigures] | None = strawberry.field(
        description="The alliances' figures (annual); null to callers who do not see every hospital."
    )

    @classmethod
    def of(cls, figures: dict[str, Any], *, alliances: bool = True) -> SettlementFigures:
        values: dict[str, Any] = {attr: _dec(figures.get(key)) for key, attr in FIGURES.items()}
        count = figures.get("hospitals")
        values["hospitals"] = None if count is None else int(count)
        raw = figures.get("alliances")
        values["alliances"] = (
            [
                AllianceFigures(
                    alliance=a,
                    lead=x.get("lead"),
                    points=Decimal(x["points"]),
                    due=Decimal(x["due"]),
                    surplus=Decimal(x["surplus"]),
                )
                for a, x in sorted(raw.items())
            ]
            if alliances and isinstance(raw, dict)
            else None
        )
        return cls(**values)


# ---- lines and runs --------------------------------------------------------------------------------


@strawberry.type(description="A hospital's figures in a run (a hospital sees only its own line). Money to the fen.")
class SettlementLine:
    hospital: str = strawberry.field(description="The hospital's code.")
    alliance: str | None = strawberry.field(description="The medical alliance it is settled in (annual), if any.")
    cases: int = strawberry.field(description="Cases counted.")
    points: Decimal = strawberry.field(description="P_h: points counted, after deductions of points.")
    deductions: Decimal = strawberry.field(description="Points deducted for violations.")
    self_pay: Decimal = strawberry.field(description="S_h: the patients' own payments.")
    fund_pay: Decimal = strawberry.field(description="The fund's fee-for-service payments for these cases.")
    due: Decimal = strawberry.field(description="D_h = P_h × PV − S_h − audit deductions (应付).")
    payable: Decimal | None = strawberry.field(description="Monthly: due × prepay ratio, year to date.")
    holdback: Decimal | None = strawberry.field(description="Monthly: due − payable (质量保证金).")
    paid_before: Decimal | None = strawberry.field(description="Monthly: paid in the year's earlier months.")
    payment: Decimal | None = strawberry.field(description="Monthly: payable − paid before (本月拨付; < 0 recovers).")
    prepaid: Decimal | None = strawberry.field(description="Annual: paid during the year (已预拨).")
    score: Decimal | None = strawberry.field(description="Annual: the evaluation score (考核得分; null = 100).")
    balance: Decimal | None = strawberry.field(description="Annual: the clearing balance (清算差额) to pay or recover.")
    withheld: Decimal | None = strawberry.field(description="Annual: due × (1 − r) × (1 − score/100) kept by the fund.")
    audit_deductions: Decimal = strawberry.field(description="Money deducted by audits, year to date.")
    evaluation_coefficient: Decimal | None = strawberry.field(
        default=None,
        description="Annual, when the policy sets coefficient bands: the evaluation's points coefficient (奖惩系数) "
        "of the score's band; points = counted points × it.",
    )

    @classmethod
    def of(cls, r: Any) -> SettlementLine:
        return cls(
            hospital=r.hospital_id,
            alliance=r.alliance_id,
            cases=r.cases,
            points=r.points,
            deductions=r.deductions,
            self_pay=r.self_pay,
            fund_pay=r.fund_pay,
            due=r.due,
            payable=r.payable,
            holdback=r.holdback,
            paid_before=r.paid_before,
            payment=r.payment,
            prepaid=r.prepaid,
            score=r.score,
            balance=r.balance,
            withheld=r.withheld,
            audit_deductions=r.audit_deductions,
            evaluation_coefficient=r.evaluation_coefficient,
        )


@strawberry.type(description="An amount for one hospital.")
class HospitalAmount:
    hospital: str
    amount: Decimal


@strawberry.type(description="A hospital's evaluation score (考核得分) as a run used it.")
class HospitalScore:
    hospital: str
    score: Decimal


@strawberry.type(description="Where a hospital's score at a clearing came from: override or evaluation_run.")
class HospitalScoreSource:
    hospital: str
    source: str = strawberry.field(description="override (the region's, with a reason) or evaluation_run.")


@strawberry.type(description="A member hospital's share (分配比例) of its alliance.")
class AllianceShare:
    hospital: str
    share: Decimal = strawberry.field(description="Ratio from 0 to 1; an alliance's shares sum to 1.")


@strawberry.type(description="An alliance as a run used it: its lead and its members' shares.")
class AllianceShares:
    alliance: str
    lead: str
    shares: list[AllianceShare]


def _shares(shares: dict[str, Any]) -> list[AllianceShare]:
    return [AllianceShare(hospital=h, share=Decimal(str(r))) for h, r in sorted(shares.items())]


@strawberry.type(description="What a settlement run was computed from, as it recorded it (a run is reproducible).")
class SettlementRunInputs:
    points_run: strawberry.ID | None = strawberry.field(description="The points run settled.")
    points_run_version: int | None
    policy: LedgerPolicy | None = strawberry.field(description="The parameters of the run's ledger.")
    provisional_point_value_source: str | None = strawberry.field(
        description="Monthly: where the provisional point value came from (an annual run, or fixed)."
    )
    paid_before_run: strawberry.ID | None = strawberry.field(
        description="Monthly: the published run whose payable counts as paid before."
    )
    budget_id: strawberry.ID | None = strawberry.field(description="Annual: the budget version cleared against.")
    budget_version: int | None
    prepaid_run: strawberry.ID | None = strawberry.field(
        description="Annual: the published monthly run whose payable counts as prepaid."
    )
    audit_deductions: list[HospitalAmount] = strawberry.field(
        description="Audit deductions per hospital, year to date."
    )
    scores: list[HospitalScore] = strawberry.field(description="Annual: evaluation scores entered (others count 100).")
    alliances: list[AllianceShares] = strawberry.field(description="Annual: the alliances and their shares.")
    evaluation_run: strawberry.ID | None = strawberry.field(
        default=None, description="Annual: the published evaluation run whose totals were the scores (null: none)."
    )
    score_sources: list[HospitalScoreSource] = strawberry.field(
        default_factory=list, description="Annual: where each hospital's score came from."
    )
    evaluation_coefficients: list[HospitalScore] = strawberry.field(
        default_factory=list,
        description="Annual, when the policy sets bands: each hospital's points coefficient (as `score`).",
    )

    @classmethod
    def of(cls, inputs: dict[str, Any], ledger: str) -> SettlementRunInputs:
        budget = inputs.get("budget") or {}
        policy = inputs.get("policy")
        return cls(
            points_run=_id(inputs.get("points_run")),
            points_run_version=inputs.get("points_run_version"),
            policy=LedgerPolicy.of_json(ledger, policy) if isinstance(policy, dict) else None,
            provisional_point_value_source=inputs.get("provisional_pv_source"),
            paid_before_run=_id(inputs.get("paid_before_run")),
            budget_id=_id(budget.get("id")),
            budget_version=budget.get("version"),
            prepaid_run=_id(inputs.get("prepaid_run")),
            audit_deductions=[
                HospitalAmount(hospital=h, amount=Decimal(v))
                for h, v in sorted((inputs.get("audit_deductions") or {}).items())
            ],
            scores=[
                HospitalScore(hospital=h, score=Decimal(v)) for h, v in sorted((inputs.get("scores") or {}).items())
            ],
            alliances=[
                AllianceShares(alliance=a, lead=x.get("lead"), shares=_shares(x.get("shares") or {}))
                for a, x in sorted((inputs.get("alliances") or {}).items())
            ],
            evaluation_run=_id(inputs.get("evaluation_run")),
            score_sources=[
                HospitalScoreSource(hospital=h, source=src)
                for h, src in sorted((inputs.get("score_sources") or {}).items())
            ],
            evaluation_coefficients=[
                HospitalScore(hospital=h, score=Decimal(v))
                for h, v in sorted((inputs.get("evaluation_coefficients") or {}).items())
            ],
        )


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="A monthly pre-settlement or an annual clearing of one ledger.")
class SettlementRun(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(
        description="The run's own id (as the REST statement paths, RegionClearing.run and RunComparison.run show it)."
    )
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    kind: SettlementKind
    year: int
    month: int = strawberry.field(description="The month settled through (12 for an annual clearing).")
    ledger: Ledger
    version: int = strawberry.field(description="1, 2, … for re-runs of the same period.")
    status: RunStatus
    points_run: strawberry.ID = strawberry.field(description="The points run it settled.")
    figures: SettlementFigures = strawberry.field(
        description="The ledger's figures (the alliances only to callers who see every hospital)."
    )
    inputs: SettlementRunInputs | None = strawberry.field(
        description="What it was computed from; null to callers who do not see every hospital."
    )
    created_by: str
    created_at: datetime.datetime
    published_at: datetime.datetime | None

    @strawberry.field(
        description="Per-hospital lines by hospital code (row-level security: a hospital gets its own); one query "
        "per request for every run asked."
    )
    async def lines(self, info: Info, first: int | None = 100, after: str | None = None) -> Connection[SettlementLine]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str)
        key = (self.tenant, str(self.database_id), limit + 1, cursor[0] if cursor else None)
        rows = await info.context.loader("settlement_lines", settlement_lines_loader).load(key)
        return pagination.build(rows, limit, lambda r: [r.hospital_id], SettlementLine.of, after=after)

    @classmethod
    def of(cls, r: Any, whole: bool) -> SettlementRun:
        """`whole`: the caller sees every hospital. A hospital user gets the region's totals and its
        own line, not the run's per-hospital inputs (scores, coefficients) or the alliances' dues."""
        return cls(
            id=node.global_id("SettlementRun", r.tenant_id, r.id),
            database_id=r.id,
            tenant=r.tenant_id,
            kind=SettlementKind(r.kind),
            year=r.year,
            month=r.month,
            ledger=Ledger(r.ledger),
            version=r.version,
            status=RunStatus(r.status),
            points_run=strawberry.ID(str(r.points_run_id)),
            figures=SettlementFigures.of(r.figures, alliances=whole),
            inputs=SettlementRunInputs.of(r.inputs, r.ledger) if whole else None,
            created_by=r.created_by,
            created_at=r.created_at,
            published_at=r.published_at,
        )

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.type
class RunPayload:
    run: SettlementRun


@strawberry.type(description="A month of a hospital's statement.")
class StatementMonth:
    month: str = strawberry.field(description="YYYY-MM")
    cases: int
    points: Decimal = strawberry.field(description="Points counted that month, after deductions.")
    self_pay: Decimal = strawberry.field(description="The patients' own payments.")
    payment: Decimal = strawberry.field(description="Paid for the month by its published monthly run (0: none).")


@strawberry.type(
    description="A hospital's statement (结算单) for a run: the run with the region's figures, its own line, and its "
    "points and money by month (also as /statements/{tenant}/{run}/{hospital}.csv|.html)."
)
class Statement:
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    hospital: str
    hospital_name: str
    alliance: str | None
    run: SettlementRun
    line: SettlementLine
    months: list[StatementMonth]

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.type(description="A region's clearing of a year (published, else the newest draft), one per ledger.")
class RegionClearing:
    region: str = strawberry.field(description="The region's code.")
    name: str
    ledger: Ledger
    run: strawberry.ID
    version: int
    status: RunStatus
    figures: SettlementFigures = strawberry.field(description="T, R, B, E, F, P, S, PV and the hospitals' count.")


@strawberry.type(description="A medical alliance (医共体) of a region, settled as one budget holder.")
class Alliance:
    id: str
    name: str
    lead: str = strawberry.field(description="The lead hospital (牵头医院).")
    settle_as_one: bool
    shares: list[AllianceShare]

    @classmethod
    def of(cls, a: Any) -> Alliance:
        return cls(id=a.id, name=a.name, lead=a.lead_hospital, settle_as_one=a.settle_as_one, shares=_shares(a.shares))


@strawberry.type(description="A hospital's evaluation score (考核得分) for a year.")
class EvaluationScore:
    hospital: str
    year: int
    score: Decimal = strawberry.field(description="0 to 100: the share of the holdback released.")
    source: str = strawberry.field(
        description="override: the region's explicit score (with its reason), which beats the published evaluation "
        "run's total."
    )
    reason: str | None = strawberry.field(default=None, description="Why the region overrides the evaluation.")

    @classmethod
    def of(cls, r: Any) -> EvaluationScore:
        return cls(hospital=r.hospital_id, year=r.year, score=r.score, source=r.source, reason=r.reason)


@strawberry.type(description="Money an audit deducted from a hospital (审核扣款).")
class AuditDeduction:
    hospital: str
    year: int
    month: int
    ledger: Ledger
    amount: Decimal
    reference: str = strawberry.field(description="The audit's own number (recording it again is a no-op).")
    reason: str
    created_by: str
    created_at: datetime.datetime


@strawberry.type(description="A violation confirmed on a case (违规确认).")
class CaseViolation:
    hospital: str
    list_id: str
    kind: ViolationKind
    serious: bool
    reason: str
    confirmed_by: str
    confirmed_at: datetime.datetime


@strawberry.type
class AlliancePayload:
    alliance: Alliance


@strawberry.type
class EvaluationScorePayload:
    score: EvaluationScore


@strawberry.type
class AuditDeductionPayload:
    deduction: AuditDeduction


@strawberry.type
class ViolationPayload:
    violation: CaseViolation


# ---- points runs ------------------------------------------------------------------------------------


@strawberry.type(description="How many cases of a type.")
class CaseTypeCount:
    type: CaseType
    cases: int


@strawberry.type(description="A ledger's points.")
class LedgerPoints:
    ledger: Ledger
    points: Decimal = strawberry.field(description="Points counted, after deductions of points.")


@strawberry.type(description="A points run's totals.")
class PointsSummary:
    cases: int = strawberry.field(description="Cases with points.")
    types: list[CaseTypeCount] = strawberry.field(description="Cases by type.")
    points: list[LedgerPoints] = strawberry.field(description="Points by ledger.")

    @classmethod
    def of(cls, summary: dict[str, Any]) -> PointsSummary:
        return cls(
            cases=int(summary.get("cases") or 0),
            types=[
                CaseTypeCount(type=CaseType(t), cases=int(n)) for t, n in sorted((summary.get("types") or {}).items())
            ],
            points=[
                LedgerPoints(ledger=Ledger(k), points=Decimal(v))
                for k, v in sorted((summary.get("points") or {}).items())
            ],
        )


@strawberry.type(description="A hospital's parameters as a points run used them.")
class HospitalParameters:
    hospital: str
    coefficient: Decimal = strawberry.field(description="The hospital's coefficient (医院系数).")
    type: HospitalType


@strawberry.type(description="What a points run was computed from (its fingerprints make it reproducible).")
class PointsRunInputs:
    standard_id: strawberry.ID | None = strawberry.field(description="The payment standard (付费标准) used.")
    standard_label: str | None
    avg_cost_all: Decimal | None = strawberry.field(description="The region's average cost per case (yuan).")
    policies: list[LedgerPolicy] = strawberry.field(description="The parameters of each ledger.")
    hospitals: list[HospitalParameters]
    cases: int | None = strawberry.field(description="Cases read.")
    case_set_sha256: str | None = strawberry.field(description="A digest of the case set read.")
    violations: int | None = strawberry.field(description="Confirmed violations applied.")
    reviews: int | None = strawberry.field(description="Special-review decisions applied.")
    new_technologies: list[str] = strawberry.field(description="New-technology procedure codes paid an add-on.")
    readmissions: int | None = strawberry.field(description="Readmissions found.")
    carved_out_cross_province: int | None = strawberry.field(
        description="Cross-province cases left out of the points (policy carveOutCrossProvince)."
    )

    @classmethod
    def of(cls, inputs: dict[str, Any]) -> PointsRunInputs:
        standard = inputs.get("standard") or {}
        return cls(
            standard_id=_id(standard.get("id")),
            standard_label=standard.get("label"),
            avg_cost_all=_dec(inputs.get("avg_cost_all")),
            policies=[LedgerPolicy.of_json(k, v) for k, v in sorted((inputs.get("policy") or {}).items())],
            hospitals=[
                HospitalParameters(hospital=h, coefficient=Decimal(x["coefficient"]), type=HospitalType(x["type"]))
                for h, x in sorted((inputs.get("hospitals") or {}).items())
            ],
            cases=inputs.get("cases"),
            case_set_sha256=inputs.get("case_set_sha256"),
            violations=inputs.get("violations"),
            reviews=inputs.get("reviews"),
            new_technologies=list(inputs.get("new_technologies") or []),
            readmissions=inputs.get("readmissions"),
            carved_out_cross_province=inputs.get("carved_out_cross_province"),
        )


@strawberry.type(description="A computation of case points for a year up to a month, with its inputs.")
class PointsRun(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(
        description="The points run's own id (what SettlementRun.pointsRun shows; older calls use it)."
    )
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    year: int
    through_month: int
    version: int
    summary: PointsSummary
    inputs: PointsRunInputs | None = strawberry.field(
        description="Null to callers who do not see every hospital (it holds every hospital's coefficient)."
    )
    created_at: datetime.datetime
    pruned_at: datetime.datetime | None = strawberry.field(
        default=None,
        description="When its case points were deleted as superseded (`dianshu db prune-runs`); its summary "
        "stays. Null while they are kept: casePoints of a pruned run is empty.",
    )

    @classmethod
    def of(cls, r: Any, whole: bool) -> PointsRun:
        return cls(
            id=node.global_id("PointsRun", r.tenant_id, r.id),
            database_id=r.id,
            tenant=r.tenant_id,
            year=r.year,
            through_month=r.through_month,
            version=r.version,
            summary=PointsSummary.of(r.summary),
            inputs=PointsRunInputs.of(r.inputs) if whole else None,
            created_at=r.created_at,
            pruned_at=r.pruned_at,
        )

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.type(description="One case's points in a points run.")
class CasePoint:
    case_id: int = strawberry.field(description="The case's databaseId.", deprecation_reason=node.CASE_ID_DEPRECATED)
    case_node_id: strawberry.ID = strawberry.field(
        description="The Case's global id (Case.id), as `node(id:)` and `cases(case:)` take it."
    )
    list_id: str = strawberry.field(description="The settlement list's id (结算清单号).")
    hospital: str
    ledger: Ledger
    month: int = strawberry.field(description="The discharge month.")
    drg: str
    type: CaseType
    points: Decimal = strawberry.field(description="The case's points (4 places).")
    addon: Decimal = strawberry.field(description="New-technology add-on points included.")
    deduction: Decimal = strawberry.field(description="Points deducted from the hospital for a violation.")
    reason: str = strawberry.field(description="How the points were set, in words.")

    @classmethod
    def of(cls, r: Any) -> CasePoint:
        return cls(
            case_id=r.case_id,
            case_node_id=node.global_id("Case", r.tenant_id, r.case_id),
            list_id=r.list_id,
            hospital=r.hospital_id,
            ledger=Ledger(r.ledger),
            month=r.month,
            drg=r.drg,
            type=CaseType(r.type),
            points=r.points,
            addon=r.addon,
            deduction=r.deduction,
            reason=r.reason,
        )


# ---- job results ------------------------------------------------------------------------------------


@strawberry.type(description="What computing points (settlement.points) produced: the points run and its totals.")
class PointsJobResult:
    points_run_id: uuid.UUID = strawberry.field(description="The points run's databaseId.")
    version: int = strawberry.field(description="The points run's version (1, 2, … for re-runs of the period).")
    summary: PointsSummary = strawberry.field(description="Its totals, as PointsRun.summary shows them.")

    @classmethod
    def of(cls, r: dict[str, Any]) -> PointsJobResult:
        return cls(
            points_run_id=uuid.UUID(str(r["points_run"])), version=int(r["version"]), summary=PointsSummary.of(r)
        )


@strawberry.type(description="A run a settlement job wrote: one per ledger with cases.")
class SettledRun:
    run_id: uuid.UUID = strawberry.field(description="The settlement run's databaseId.")
    ledger: Ledger
    version: int
    figures: SettlementFigures = strawberry.field(description="The run's figures, as SettlementRun.figures shows them.")


@strawberry.type(description="What a settlement job (settlement.settle) produced: a draft run per ledger.")
class SettlementJobResult:
    kind: SettlementKind
    year: int
    month: int = strawberry.field(description="The month settled through (12 for an annual clearing).")
    points_run_id: uuid.UUID = strawberry.field(description="The databaseId of the points run settled.")
    runs: list[SettledRun]

    @classmethod
    def of(cls, r: dict[str, Any]) -> SettlementJobResult:
        return cls(
            kind=SettlementKind(r["kind"]),
            year=int(r["year"]),
            month=int(r["month"]),
            points_run_id=uuid.UUID(str(r["points_run"])),
            runs=[
                SettledRun(
                    run_id=uuid.UUID(str(x["id"])),
                    ledger=Ledger(x["ledger"]),
                    version=int(x["version"]),
                    figures=SettlementFigures.of(x),
                )
                for x in r["runs"]
            ],
        )


job_results.register(POINTS, PointsJobResult, PointsJobResult.of)
job_results.register(SETTLE, SettlementJobResult, SettlementJobResult.of)


# ---- job payloads ------------------------------------------------------------------------------------


@strawberry.type(description="The points job (settlement.points) started: poll job(id) for its status.")
class PointsJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


@strawberry.type(description="The settlement job (settlement.settle) started: poll job(id) for its status.")
class SettlementJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


@strawberry.type(description="The simulation job (settlement.simulate) started: poll job(id) for its status.")
class SimulationJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


def job_payload(result: Any, cls: type, root: str | None = None) -> Any:
    """grouping.submit's answer with its payload named for the job (and a refusal's field under
    the argument it came from)."""
    if isinstance(result, JobPayload):
        return cls(job=result.job, created=result.created)
    if isinstance(result, ValidationError) and root:
        for e in result.errors:
            e.field = f"{root}.{e.field}"
    return result
