"""Simulation: a scenario (plain JSON, decimals as strings) in, one year's case points and annual
clearing out, with no database. It parses into the same typed inputs the database runs build and
calls the same engine (engine.settle_year), so a simulated year and a real run agree to the fen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dianshu.settlement.clearing import budget
from dianshu.settlement.engine import (
    AllianceIn,
    CaseIn,
    HospitalIn,
    LedgerBudget,
    NewTechnology,
    Review,
    SettlementInputError,
    Violation,
    YearInputs,
    YearResult,
    settle_year,
)
from dianshu.settlement.points import DrgParams
from dianshu.settlement.policy import Policy
from dianshu.settlement.values import parse_decimal

FUND_TYPES = ("employee", "resident")
REVIEW_OUTCOMES = ("keep", "add_points", "pay_by_item", "refuse")


class ScenarioError(ValueError):
    """A scenario that cannot be computed: names the record, the field and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def _dec(value: Any, where: str, *, positive: bool = False, nonneg: bool = True) -> Decimal:
    try:
        d = parse_decimal(value)
    except ValueError as e:
        raise ScenarioError(where, str(e)) from None
    if (positive and d <= 0) or (nonneg and d < 0):
        raise ScenarioError(where, f"must be {'positive' if positive else 'non-negative'} (got {value})")
    return d


def _int(value: Any, where: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScenarioError(where, f"must be a whole number (got {value!r})")
    try:
        return int(value)
    except ValueError:
        raise ScenarioError(where, f"must be a whole number (got {value!r})") from None


def parse_scenario(scenario: dict[str, Any]) -> YearInputs:
    if not isinstance(scenario, dict):
        raise ScenarioError("scenario", "must be a JSON object")
    try:
        policy = Policy().with_overrides(scenario.get("policy"))
    except ValueError as e:
        raise ScenarioError("policy", str(e)) from e
    std = scenario.get("standard") or {}
    avg_all = _dec(std.get("avg_cost_all"), "standard.avg_cost_all", positive=True)

    groups: dict[str, DrgParams] = {}
    for i, g in enumerate(scenario.get("groups") or []):
        where = f"groups[{i}] ({g.get('drg')})"
        if not g.get("drg"):
            raise ScenarioError(f"groups[{i}]", "drg: required")
        bpd = g.get("base_points_per_day")
        if g.get("bed_day") and bpd is None:
            raise ScenarioError(f"{where}.base_points_per_day", "required for a bed-day group")
        groups[g["drg"]] = DrgParams(
            drg=g["drg"],
            avg_cost=_dec(g.get("avg_cost"), f"{where}.avg_cost", positive=True),
            base_points=_dec(g.get("base_points"), f"{where}.base_points", positive=True),
            stable=bool(g.get("stable", True)),
            base_group=bool(g.get("base_group", False)),
            bed_day=bool(g.get("bed_day", False)),
            base_points_per_day=_dec(bpd, f"{where}.base_points_per_day") if bpd is not None else None,
            tcm=bool(g.get("tcm", False)),
        )
    hospitals: dict[str, HospitalIn] = {}
    for i, h in enumerate(scenario.get("hospitals") or []):
        code = h.get("code")
        where = f"hospitals[{i}] ({code})"
        if not code:
            raise ScenarioError(f"hospitals[{i}]", "code: required")
        score = h.get("evaluation_score")
        s = _dec(score, f"{where}.evaluation_score") if score is not None else None
        if s is not None and s > 100:
            raise ScenarioError(f"{where}.evaluation_score", "at most 100")
        prepaid = h.get("prepaid") or {}
        hospitals[code] = HospitalIn(
            code=code,
            coefficient=_dec(h.get("coefficient", "1"), f"{where}.coefficient", positive=True),
            type=str(h.get("type") or "general"),
            score=s,
            prepaid={
                ledger: sum(
                    (
                        _dec(prepaid.get(f, "0"), f"{where}.prepaid.{f}")
                        for f in FUND_TYPES
                        if policy.merge_ledgers or f == ledger
                    ),
                    Decimal(0),
                )
                for ledger in (("all",) if policy.merge_ledgers else FUND_TYPES)
            },
        )
    alliances = []
    for i, a in enumerate(scenario.get("alliances") or []):
        where = f"alliances[{i}] ({a.get('id')})"
        if not a.get("id") or not a.get("lead"):
            raise ScenarioError(where, "id and lead: required")
        shares = a.get("shares") or {}
        alliances.append(AllianceIn(a["id"], a["lead"], {m: _dec(r, f"{where}.shares.{m}") for m, r in shares.items()}))

    cases: list[CaseIn] = []
    ids: set[str] = set()
    raw_cases = scenario.get("cases") or []
    for i, c in enumerate(raw_cases):
        cid = c.get("id")
        where = f"cases[{i}] ({cid})"
        if not cid or cid in ids:
            raise ScenarioError(where, "id: required and unique")
        ids.add(cid)
        if c.get("hospital") not in hospitals:
            raise ScenarioError(f"{where}.hospital", f"{c.get('hospital')!r} is not in hospitals")
        fund = c.get("fund_type")
        if fund not in FUND_TYPES:
            raise ScenarioError(f"{where}.fund_type", f"must be employee or resident (got {fund!r})")
        drg = str(c.get("drg") or "")
        if not drg:
            raise ScenarioError(f"{where}.drg", "required (0000 when ungroupable)")
        review = None
        if c.get("special_review_points") is not None:
            review = Review("add_points", _dec(c["special_review_points"], f"{where}.special_review_points"))
        elif c.get("special_review"):
            sr = c["special_review"]
            outcome = sr.get("outcome")
            if outcome not in REVIEW_OUTCOMES:
                raise ScenarioError(f"{where}.special_review.outcome", f"must be one of {', '.join(REVIEW_OUTCOMES)}")
            pts = sr.get("points")
            if outcome == "add_points" and pts is None:
                raise ScenarioError(f"{where}.special_review.points", "required when the outcome is add_points")
            review = Review(outcome, _dec(pts, f"{where}.special_review.points") if pts is not None else None)
        violation = None
        if c.get("violation"):
            v = c["violation"]
            if v.get("kind") not in policy.violation_multiples:
                raise ScenarioError(
                    f"{where}.violation.kind", f"must be one of {', '.join(policy.violation_multiples)}"
                )
            violation = Violation(v["kind"], bool(v.get("serious")))
        techs = tuple(
            NewTechnology(
                str(t.get("code") or f"T{j}"),
                _dec(t.get("cost"), f"{where}.new_technologies[{j}].cost"),
                _int(t.get("year"), f"{where}.new_technologies[{j}].year", 1),
            )
            for j, t in enumerate(c.get("new_technologies") or [])
        )
        cases.append(
            CaseIn(
                id=cid,
                hospital=c["hospital"],
                drg=drg,
                total_cost=_dec(c.get("total_cost"), f"{where}.total_cost"),
                los_days=_int(c.get("los_days"), f"{where}.los_days", 0),
                discharge_way=_int(c.get("discharge_way"), f"{where}.discharge_way", 1),
                self_pay=_dec(c.get("self_pay", "0"), f"{where}.self_pay"),
                fund_type=fund,
                fund_pay=_dec(c.get("fund_pay", "0"), f"{where}.fund_pay"),
                month=_int(c.get("month"), f"{where}.month", 12),
                readmission_of=c.get("readmission_of") or None,
                violation=violation,
                review=review,
                new_technologies=techs,
                tcm_treatment=bool(c.get("tcm_treatment", False)),
            )
        )
    for i, c in enumerate(cases):
        if c.readmission_of and c.readmission_of not in ids:
            raise ScenarioError(f"cases[{i}] ({c.id}).readmission_of", f"no case {c.readmission_of!r}")

    budgets: dict[str, LedgerBudget] = {}
    for name, spec in (scenario.get("budget") or {}).items():
        b = budget(
            _dec(spec.get("amount"), f"budget.{name}.amount", positive=True),
            policy,
            _dec(spec["reserve_ratio"], f"budget.{name}.reserve_ratio") if "reserve_ratio" in spec else None,
        )
        budgets[name] = LedgerBudget(b, _dec(spec.get("fee_for_service_fund"), f"budget.{name}.fee_for_service_fund"))
    return YearInputs(policy, avg_all, groups, hospitals, alliances, cases, budgets)


def result_json(inp: YearInputs, result: YearResult) -> dict[str, Any]:
    return {
        "policy": inp.policy.as_dict(),
        "cases": [
            {
                "id": c.id,
                "points": str(c.points),
                "type": c.type,
                "reason": c.reason,
                **({"addon": str(c.addon)} if c.addon else {}),
                **({"deduction": str(c.deduction)} if c.deduction else {}),
            }
            for c in result.cases.values()
        ],
        "ledgers": {
            name: {
                **led.figures(),
                "hospitals": {
                    h: {
                        "points": str(line.points),
                        "deductions": str(line.deductions),
                        "self_pay": str(line.self_pay),
                        "due": str(line.due),
                        "prepaid": str(line.prepaid),
                        "balance": str(line.balance),
                        **({"alliance": line.alliance} if line.alliance else {}),
                    }
                    for h, line in led.hospitals.items()
                },
                **(
                    {
                        "alliances": {
                            a: {"points": str(x.points), "due": str(x.due), "surplus": str(x.surplus)}
                            for a, x in led.alliances.items()
                        }
                    }
                    if led.alliances
                    else {}
                ),
            }
            for name, led in result.ledgers.items()
        },
    }


def simulate(scenario: dict[str, Any]) -> dict[str, Any]:
    inp = parse_scenario(scenario)
    try:
        return result_json(inp, settle_year(inp))
    except SettlementInputError as e:
        raise ScenarioError(e.where, e.reason) from e
