"""One year (or year to date) of a region's settlement, as a pure computation: typed inputs in, case
points and per-ledger clearing out. The database runs (runs/points.py, runs/settle.py) and the JSON
simulation (simulate.py) both call this, so a simulated year and a real run use exactly the same arithmetic.

Order of work, per SPEC sections 5 and 6:
  1. each case's points by the precedence rules (points.case_points), with TCM equivalence;
  2. add-ons: new-technology points (tapering by the technology's year);
  3. penalties: readmission halving of the first stay, then confirmed violations (points not
     counted; serious ones deduct multiple × b from the hospital as a separate line);
  4. per ledger: budget, F, PV, dues by largest remainder (Σ due = F to the fen), medical alliances
     settled as one holder and shared among members, year-end balances."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from itertools import pairwise

from dianshu.errors import Refused
from dianshu.grouping.drg_codes import ungroupable_or_ambiguous
from dianshu.settlement.arithmetic.clearing import (
    EXACT,
    Budget,
    allocate,
    balance,
    fen,
    fund_total,
    point_value,
    pv_shown,
)
from dianshu.settlement.arithmetic.points import (
    HUNDRED,
    CasePoints,
    DrgParams,
    PointsCase,
    case_points,
    itemized_points,
    q4,
)
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.rounding import rounding

ZERO = Decimal(0)
ZERO4 = Decimal("0.0000")


class SettlementInputError(Refused):
    """Inputs that cannot be settled: names the record, the field and why. `where` is the two as one
    path ("case 7.readmission_of"), or the record alone when no one field is at fault."""

    def __init__(self, record: str, field: str, reason: str, *, whole_record: bool = False) -> None:
        self.where = record if whole_record else f"{record}.{field}"
        super().__init__(record, field, reason, message=f"{self.where}: {reason}")


@dataclass(frozen=True)
class Violation:
    kind: str
    serious: bool = False


@dataclass(frozen=True)
class NewTechnology:
    code: str
    cost: Decimal  # the technology's cost per case, in yuan
    year_index: int  # 1 in the year it was admitted, 2 the next, ...


@dataclass(frozen=True)
class Review:
    """A decided special review: keep (no change), add_points (the review sets the points),
    pay_by_item (itemized points), refuse (no change)."""

    outcome: str
    points: Decimal | None = None


@dataclass(slots=True)  # not frozen: a million are built per city year, and frozen init is slow
class CaseIn:
    id: str
    hospital: str
    drg: str
    total_cost: Decimal
    los_days: int
    discharge_way: int
    self_pay: Decimal  # the patient's own payment (total cost − fund payment)
    fund_type: str
    fund_pay: Decimal = ZERO  # what the fund paid fee-for-service (alliances share on it)
    month: int = 12
    readmission_of: str | None = None  # this stay readmits that one: that one's points are halved
    violation: Violation | None = None
    review: Review | None = None
    new_technologies: tuple[NewTechnology, ...] = ()
    tcm_treatment: bool = False


@dataclass(frozen=True)
class HospitalIn:
    code: str
    coefficient: Decimal = Decimal(1)
    type: str = "general"  # general | tcm | specialist
    score: Decimal | None = None  # evaluation score 0..100, None = 100
    prepaid: dict[str, Decimal] = field(default_factory=dict)  # per ledger
    audit_deductions: dict[str, Decimal] = field(default_factory=dict)  # the year's, per ledger
    # The evaluation's points coefficient (奖惩系数): the policy's band of the score; multiplies the
    # hospital's points at the annual clearing before the point value (1: no bands, or no effect).
    evaluation_coefficient: Decimal = Decimal(1)


@dataclass(frozen=True)
class AllianceIn:
    """A medical alliance settled as one budget holder with its lead hospital; the alliance's surplus
    over its members' fee-for-service fund payments is shared by `shares` (ratios summing to 1)."""

    id: str
    lead: str
    shares: dict[str, Decimal]


@dataclass(frozen=True)
class LedgerBudget:
    budget: Budget
    fee_for_service_fund: Decimal  # E


@dataclass(slots=True)
class CaseResult:
    id: str
    hospital: str
    ledger: str
    month: int
    type: str
    reason: str
    base_points: Decimal | None
    original: Decimal  # points before penalties (after add-ons)
    points: Decimal  # counted points (never negative)
    addon: Decimal = ZERO4
    deduction: Decimal = ZERO4  # deducted from the hospital (serious violations)
    self_pay: Decimal = ZERO
    fund_pay: Decimal = ZERO


@dataclass(frozen=True)
class HospitalLine:
    hospital: str
    alliance: str | None
    cases: int
    points: Decimal  # counted case points − deductions
    deductions: Decimal
    self_pay: Decimal
    fund_pay: Decimal
    due: Decimal
    prepaid: Decimal
    score: Decimal | None
    balance: Decimal
    withheld: Decimal  # due × (1 − r) × (1 − score/100): stays in the fund
    audit_deductions: Decimal = ZERO  # the year's money deducted by audits (off the balance)
    evaluation_coefficient: Decimal = Decimal(1)  # 奖惩系数: points = counted points × it


@dataclass(frozen=True)
class AllianceLine:
    alliance: str
    lead: str
    points: Decimal
    self_pay: Decimal
    fund_pay: Decimal
    due: Decimal
    surplus: Decimal  # due − Σ members' fee-for-service fund payments


@dataclass(frozen=True)
class LedgerResult:
    ledger: str
    T: Decimal
    R: Decimal
    B: Decimal
    E: Decimal
    F: Decimal
    P: Decimal
    S: Decimal
    PV: Decimal  # unrounded
    hospitals: dict[str, HospitalLine]
    alliances: dict[str, AllianceLine]

    def figures(self) -> dict[str, str]:
        """The ledger's figures as shown: money to the fen, points to 4 places, PV to 6."""
        shown = {k: str(getattr(self, k)) for k in ("T", "R", "B", "E", "F", "P", "S")}
        return {**shown, "PV": str(pv_shown(self.PV))}


def ledger_of(fund_type: str, policy: Policy) -> str:
    return "all" if policy.merge_ledgers else fund_type


def tcm_equivalent(case: CaseIn, params: DrgParams | None, hospital: HospitalIn) -> bool:
    return params is not None and params.tcm and (case.tcm_treatment or hospital.type == "tcm")


def score_case(
    case: CaseIn, params: DrgParams | None, avg_cost_all: Decimal, hospital: HospitalIn, policy: Policy
) -> CasePoints:
    """Points of one case before penalties: the precedence rules, a decided review, TCM equivalence
    and new-technology add-ons (which pay on top of a DRG payment, never on itemized payment)."""
    review_points = None
    if case.review is not None:
        if case.review.outcome == "add_points":
            review_points = case.review.points
        elif case.review.outcome == "pay_by_item":
            review_points = itemized_points(case.total_cost, avg_cost_all, policy)
    pc = PointsCase(case.id, case.drg, case.total_cost, case.los_days, case.discharge_way, review_points)
    cp = case_points(pc, params, avg_cost_all, hospital.coefficient, policy)
    if case.review is not None and review_points is not None:
        cp = CasePoints(
            cp.id,
            cp.points,
            cp.type,
            f"special review {case.review.outcome}: {cp.points} points",
            cp.base_points,
            cp.exact,
        )
    if cp.type == "low_outlier" and policy.tcm_equivalence and tcm_equivalent(case, params, hospital):
        assert params is not None
        c = Decimal(1) if params.base_group else hospital.coefficient
        cp = CasePoints(
            cp.id,
            q4(params.base_points * c),
            "normal",
            f"TCM-advantage group paid at the Western-medicine equivalent: {params.base_points} × {c}"
            f" (not a low outlier: {cp.reason})",
            cp.base_points,
            params.base_points * c,
        )
    return cp


def addon_points(case: CaseIn, avg_cost_all: Decimal, policy: Policy) -> tuple[Decimal, Decimal, str]:
    """A case's new-technology add-on: (shown, to 4 places; exact, unrounded; the reason). The exact
    sum is what a readmission halves, so the add-on is rounded once, where it is shown."""
    shown, exact, why = ZERO, ZERO, []
    for t in case.new_technologies:
        if 1 <= t.year_index <= len(policy.new_technology_taper):
            share = policy.new_technology_taper[t.year_index - 1]
            pts = t.cost / avg_cost_all * HUNDRED * share
            shown += q4(pts)
            exact += pts
            why.append(
                f"new technology {t.code} year {t.year_index}: {t.cost} / {avg_cost_all} × 100 × {share} = {q4(pts)}"
            )
    return shown, exact, "; ".join(why)


def case_results(
    cases: Iterable[CaseIn],
    groups: dict[str, DrgParams],
    avg_cost_all: Decimal,
    hospitals: dict[str, HospitalIn],
    policy: Policy,
) -> dict[str, CaseResult]:
    """Every case's points, add-ons and penalties. Pure and deterministic: a case's result depends
    only on itself, its DRG, its hospital, the policy and the stays that readmit it."""
    with rounding(policy):
        return _case_results(cases, groups, avg_cost_all, hospitals, policy)


def _case_results(
    cases: Iterable[CaseIn],
    groups: dict[str, DrgParams],
    avg_cost_all: Decimal,
    hospitals: dict[str, HospitalIn],
    policy: Policy,
) -> dict[str, CaseResult]:
    out: dict[str, CaseResult] = {}
    readmitted: dict[str, list[str]] = defaultdict(list)
    violations: list[tuple[str, Violation]] = []
    unrounded: dict[str, Decimal] = {}  # a case's points before rounding, for the readmission halving
    for case in cases:
        hospital = hospitals[case.hospital]
        params = groups.get(case.drg)
        cp = score_case(case, params, avg_cost_all, hospital, policy)
        points, reason = cp.points, cp.reason
        exact = cp.unrounded
        addon = ZERO4
        if case.new_technologies and cp.type not in ("itemized", "special_review"):
            addon, addon_exact, why = addon_points(case, avg_cost_all, policy)
            if addon:
                points, reason = points + addon, f"{reason}; {why}"
                exact += addon_exact  # unrounded until the case's points are final (a readmission)
        unrounded[case.id] = exact
        out[case.id] = CaseResult(
            case.id,
            case.hospital,
            ledger_of(case.fund_type, policy),
            case.month,
            cp.type,
            reason,
            cp.base_points,
            points,
            points,
            addon,
            self_pay=case.self_pay,
            fund_pay=case.fund_pay,
        )
        if case.readmission_of:
            readmitted[case.readmission_of].append(case.id)
        if case.violation is not None:
            violations.append((case.id, case.violation))
    for first, by in sorted(readmitted.items()):
        r = out.get(first)
        if r is None:
            raise SettlementInputError(f"case {by[0]}", "readmission_of", f"no case {first!r}")
        # Halved from the unrounded points and rounded once (q4 then halve then q4 drifted in the 4th place).
        r.points = q4(unrounded[first] * policy.readmission_factor)
        r.reason += (
            f"; readmitted within {policy.readmission_days} days by {', '.join(by)}: × {policy.readmission_factor}"
        )
    for cid, v in violations:
        if v.kind not in policy.violation_multiples:
            raise SettlementInputError(
                f"case {cid}", "violation.kind", f"must be one of {', '.join(policy.violation_multiples)}"
            )
        r = out[cid]
        r.points = ZERO4
        r.reason += f"; confirmed {v.kind}: points not counted"
        if v.serious:
            b = r.base_points if r.base_points is not None else r.original
            m = policy.violation_multiples[v.kind]
            r.deduction = q4(m * b)
            r.reason += f"; serious: {m} × {b} deducted from the hospital"
    return out


def paid_points(points: Decimal, deductions: Decimal, coefficient: Decimal = Decimal(1)) -> Decimal:
    """The points a hospital is paid on: its counted points × the evaluation's points coefficient,
    less its deductions (a penalty of multiple × b is not scaled by the coefficient, SPEC section 5).
    Monthly pre-settlement pays on coefficient 1. One rule, one home: the clearing, the monthly runs
    and the analytics' expected payment (paid_points_sql, the same expression in SQL) use it."""
    return points * coefficient - deductions


def paid_points_sql(points: str, deductions: str, coefficient: str) -> str:
    """paid_points as a SQL expression of three SQL expressions."""
    return f"({points} * {coefficient} - {deductions})"


@dataclass(frozen=True)
class PointsTotals:
    """One hospital's figures in one ledger (optionally up to a month)."""

    cases: int = 0
    points: Decimal = ZERO  # counted points
    original: Decimal = ZERO  # points before penalties
    deductions: Decimal = ZERO
    self_pay: Decimal = ZERO
    fund_pay: Decimal = ZERO

    def add(self, r: CaseResult) -> PointsTotals:
        return PointsTotals(
            self.cases + 1,
            self.points + r.points,
            self.original + r.original,
            self.deductions + r.deduction,
            self.self_pay + r.self_pay,
            self.fund_pay + r.fund_pay,
        )

    def __add__(self, o: PointsTotals) -> PointsTotals:
        return PointsTotals(
            self.cases + o.cases,
            self.points + o.points,
            self.original + o.original,
            self.deductions + o.deductions,
            self.self_pay + o.self_pay,
            self.fund_pay + o.fund_pay,
        )


def totals_by_hospital(results: Iterable[CaseResult]) -> dict[str, dict[str, PointsTotals]]:
    """ledger → hospital → totals."""
    acc: dict[str, dict[str, PointsTotals]] = defaultdict(lambda: defaultdict(PointsTotals))
    for r in results:
        acc[r.ledger][r.hospital] = acc[r.ledger][r.hospital].add(r)
    return {k: dict(v) for k, v in acc.items()}


def clear_ledger(
    ledger: str,
    totals: dict[str, PointsTotals],
    lb: LedgerBudget,
    hospitals: dict[str, HospitalIn],
    alliances: Iterable[AllianceIn],
    policy: Policy,
) -> LedgerResult:
    """Annual clearing of one ledger from its hospitals' point totals (SPEC section 6)."""
    with rounding(policy):
        return _clear_ledger(ledger, totals, lb, hospitals, alliances, policy)


def _clear_ledger(
    ledger: str,
    totals: dict[str, PointsTotals],
    lb: LedgerBudget,
    hospitals: dict[str, HospitalIn],
    alliances: Iterable[AllianceIn],
    policy: Policy,
) -> LedgerResult:
    if not totals:
        raise SettlementInputError(f"ledger {ledger}", "cases", "no cases: nothing to clear", whole_record=True)
    b = lb.budget
    f_total = fund_total(lb.fee_for_service_fund, b, policy)
    # The evaluation's points coefficient multiplies a hospital's case points before the point value
    # (exact: the line shows them to 4 places); 1 when the policy sets no bands. Deductions are
    # separate lines (SPEC section 5): a penalty of multiple × b is not scaled by the coefficient.
    coef = {h: (hospitals.get(h) or HospitalIn(h)).evaluation_coefficient for h in totals}
    counted = {h: paid_points(t.points, t.deductions, coef[h]) for h, t in totals.items()}
    if policy.withdrawn_points_leave_total:
        p_total = sum(counted.values(), ZERO)
    else:  # withdrawn and deducted points stay in P: their money stays in the fund
        p_total = sum((t.original * coef[h] for h, t in totals.items()), ZERO)
    s_total = sum((t.self_pay for t in totals.values()), ZERO)
    pv = point_value(f_total, s_total, p_total)

    # Budget holders: a hospital, or an alliance settled as one with its members' figures.
    holder_of = {h: h for h in totals}
    members: dict[str, AllianceIn] = {}
    for a in alliances:
        present = [m for m in a.shares if m in totals]
        if not present:
            continue
        members[a.id] = a
        for m in a.shares:
            holder_of[m] = a.id
    holder_points: dict[str, Decimal] = defaultdict(Decimal)
    holder_self: dict[str, Decimal] = defaultdict(Decimal)
    for h, t in totals.items():
        holder_points[holder_of[h]] += counted[h]
        holder_self[holder_of[h]] += t.self_pay
    with localcontext(EXACT):
        raw = {k: holder_points[k] * pv - holder_self[k] for k in holder_points}
        target = f_total if policy.withdrawn_points_leave_total else fen(sum(raw.values(), ZERO))
    due = allocate(raw, target)

    # Members of an alliance: their own fee-for-service fund payment plus their share of the surplus.
    member_due: dict[str, Decimal] = {}
    alliance_lines: dict[str, AllianceLine] = {}
    for aid, a in sorted(members.items()):
        fp = {m: totals[m].fund_pay if m in totals else ZERO for m in a.shares}
        surplus = due[aid] - sum(fp.values(), ZERO)
        with localcontext(EXACT):
            shares = allocate({m: fp[m] + a.shares[m] * surplus for m in a.shares}, due[aid])
        member_due.update(shares)
        alliance_lines[aid] = AllianceLine(
            aid,
            a.lead,
            q4(holder_points[aid]),
            holder_self[aid],
            sum(fp.values(), ZERO),
            due[aid],
            surplus,
        )
    lines = {}
    for h in sorted(set(totals) | set(member_due)):
        t = totals.get(h, PointsTotals())
        d = member_due[h] if h in member_due else due[h]
        hosp = hospitals.get(h) or HospitalIn(h)
        prepaid = hosp.prepaid.get(ledger, ZERO)
        deducted = hosp.audit_deductions.get(ledger, ZERO)
        # Audit deductions came off the monthly payments; they stay off at the clearing.
        bal = balance(d, prepaid, hosp.score, policy) - deducted
        c = coef.get(h, hosp.evaluation_coefficient)
        lines[h] = HospitalLine(
            h,
            holder_of.get(h) if holder_of.get(h) != h else None,
            t.cases,
            q4((t.points - t.deductions) * c),
            t.deductions,
            t.self_pay,
            t.fund_pay,
            d,
            prepaid,
            hosp.score,
            bal,
            d - prepaid - bal - deducted,
            deducted,
            c,
        )
    shown = b.shown(policy)
    return LedgerResult(
        ledger,
        shown.T,
        shown.R,
        shown.B,
        fen(lb.fee_for_service_fund),
        f_total,
        q4(p_total),  # shown to 4 places (the exact P, through a points coefficient, made the PV)
        s_total,
        pv,
        lines,
        alliance_lines,
    )


def alliance_problems(alliances: Iterable[AllianceIn], hospitals: Iterable[str]) -> Iterable[tuple[int, str, str]]:
    """(alliance index, field, reason) for every rule an alliance breaks: the lead is a member,
    members are hospitals of the region and in one alliance only, ratios ≥ 0 summing to 1."""
    known = set(hospitals)
    seen: dict[str, str] = {}
    for i, a in enumerate(alliances):
        if a.lead not in a.shares:
            yield i, "lead", f"{a.lead} is not a member"
        for m, ratio in a.shares.items():
            if m not in known:
                yield i, f"shares.{m}", "not a hospital of the region"
            if m in seen:
                yield i, f"shares.{m}", f"already a member of alliance {seen[m]}"
            if ratio < 0:
                yield i, f"shares.{m}", f"must not be negative (got {ratio})"
            seen.setdefault(m, a.id)
        if sum(a.shares.values(), ZERO) != 1:
            yield i, "shares", f"must sum to 1 (got {sum(a.shares.values(), ZERO)})"


def check_alliances(alliances: Iterable[AllianceIn], hospitals: dict[str, HospitalIn]) -> None:
    listed = list(alliances)
    for i, field_, reason in alliance_problems(listed, hospitals):
        raise SettlementInputError(f"alliance {listed[i].id}", field_, reason)


@dataclass(slots=True)
class Stay:
    """What readmission detection needs of a stay."""

    id: str
    hospital: str
    patient: str
    admitted: datetime
    discharged: datetime
    drg: str
    adrg: str | None
    planned: bool


def find_readmissions(stays: Iterable[Stay], policy: Policy) -> dict[str, str]:
    """later stay id → the earlier stay it readmits: the same patient (at the same hospital, by
    default), admitted within `readmission_days` calendar days of the earlier discharge to the same
    DRG, not planned, and not in an exempt group (chemotherapy, radiotherapy, dialysis)."""
    by_patient: dict[tuple[str, str], list[Stay]] = defaultdict(list)
    for s in stays:
        by_patient[(s.hospital if policy.readmission_same_hospital else "", s.patient)].append(s)
    out: dict[str, str] = {}
    exempt = set(policy.readmission_exempt_adrgs)
    for seq in by_patient.values():
        if len(seq) < 2:
            continue
        seq.sort(key=lambda s: (s.admitted, s.id))
        for prev, nxt in pairwise(seq):
            if (
                not nxt.planned
                and nxt.drg == prev.drg
                and not ungroupable_or_ambiguous(nxt.drg)
                and (nxt.adrg or "") not in exempt
                # Calendar days: discharged on the 1st, back on the 16th is within 15 days.
                and 0 <= (nxt.admitted.date() - prev.discharged.date()).days <= policy.readmission_days
            ):
                out[nxt.id] = prev.id
    return out


@dataclass
class YearInputs:
    policy: Policy
    avg_cost_all: Decimal
    groups: dict[str, DrgParams]
    hospitals: dict[str, HospitalIn]
    alliances: list[AllianceIn]
    cases: list[CaseIn]
    budgets: dict[str, LedgerBudget]  # per ledger


@dataclass(frozen=True)
class YearResult:
    cases: dict[str, CaseResult]
    ledgers: dict[str, LedgerResult]


def settle_year(inp: YearInputs) -> YearResult:
    """A year's case points and annual clearing of every ledger that has cases."""
    check_alliances(inp.alliances, inp.hospitals)
    results = case_results(inp.cases, inp.groups, inp.avg_cost_all, inp.hospitals, inp.policy)
    ledgers = {}
    for name, totals in sorted(totals_by_hospital(results.values()).items()):
        lb = inp.budgets.get(name)
        if lb is None:
            raise SettlementInputError("budget", name, "required: a ledger has cases")
        ledgers[name] = clear_ledger(name, totals, lb, inp.hospitals, inp.alliances, inp.policy)
    return YearResult(results, ledgers)
