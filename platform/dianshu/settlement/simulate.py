"""Simulation: a scenario (plain JSON, decimals as strings) in, one year's case points and annual
clearing out, with no database. The same arithmetic the runs use (points.py, clearing.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from dianshu.settlement.clearing import allocate, balance, budget, fen, fund_total, point_value, pv_shown
from dianshu.settlement.points import DrgParams, PointsCase, case_points, q4
from dianshu.settlement.policy import Policy

FUND_TYPES = ("employee", "resident")


class ScenarioError(ValueError):
    """A scenario that cannot be computed: names the record, the field and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def _dec(value: Any, where: str, *, positive: bool = False, nonneg: bool = True) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise ScenarioError(where, f"decimals travel as strings, not {type(value).__name__} ({value!r})")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(where, f"{value!r} is not a decimal") from None
    if not d.is_finite() or (positive and d <= 0) or (nonneg and d < 0):
        raise ScenarioError(where, f"must be {'positive' if positive else 'non-negative'} (got {value})")
    return d


@dataclass
class _Case:
    id: str
    hospital: str
    fund: str
    self_pay: Decimal
    points: Decimal
    original: Decimal
    type: str
    reason: str
    base_points: Decimal | None
    deduction: Decimal = Decimal(0)


def simulate(scenario: dict[str, Any]) -> dict[str, Any]:
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
        groups[g["drg"]] = DrgParams(
            drg=g["drg"],
            avg_cost=_dec(g.get("avg_cost"), f"{where}.avg_cost", positive=True),
            base_points=_dec(g.get("base_points"), f"{where}.base_points", positive=True),
            stable=bool(g.get("stable", True)),
            base_group=bool(g.get("base_group", False)),
            bed_day=bool(g.get("bed_day", False)),
            base_points_per_day=_dec(bpd, f"{where}.base_points_per_day") if bpd is not None else None,
        )
    hospitals: dict[str, dict[str, Any]] = {}
    for i, h in enumerate(scenario.get("hospitals") or []):
        code = h.get("code")
        where = f"hospitals[{i}] ({code})"
        if not code:
            raise ScenarioError(f"hospitals[{i}]", "code: required")
        score = h.get("evaluation_score")
        hospitals[code] = {
            "coefficient": _dec(h.get("coefficient", "1"), f"{where}.coefficient", positive=True),
            "score": _dec(score, f"{where}.evaluation_score") if score is not None else None,
            "prepaid": {f: _dec((h.get("prepaid") or {}).get(f, "0"), f"{where}.prepaid.{f}") for f in FUND_TYPES},
        }
        if hospitals[code]["score"] is not None and hospitals[code]["score"] > 100:
            raise ScenarioError(f"{where}.evaluation_score", "at most 100")

    cases: dict[str, _Case] = {}
    raw_cases = scenario.get("cases") or []
    for i, c in enumerate(raw_cases):
        cid = c.get("id")
        where = f"cases[{i}] ({cid})"
        if not cid or cid in cases:
            raise ScenarioError(where, "id: required and unique")
        if c.get("hospital") not in hospitals:
            raise ScenarioError(f"{where}.hospital", f"{c.get('hospital')!r} is not in hospitals")
        fund = c.get("fund_type")
        if fund not in FUND_TYPES:
            raise ScenarioError(f"{where}.fund_type", f"must be employee or resident (got {fund!r})")
        srp = c.get("special_review_points")
        pc = PointsCase(
            id=cid,
            drg=str(c.get("drg") or ""),
            total_cost=_dec(c.get("total_cost"), f"{where}.total_cost"),
            los_days=int(c.get("los_days") or 0),
            discharge_way=int(c.get("discharge_way") or 1),
            special_review_points=_dec(srp, f"{where}.special_review_points") if srp is not None else None,
        )
        if not pc.drg:
            raise ScenarioError(f"{where}.drg", "required (0000 when ungroupable)")
        cp = case_points(pc, groups.get(pc.drg), avg_all, hospitals[c["hospital"]]["coefficient"], policy)
        cases[cid] = _Case(
            cid,
            c["hospital"],
            fund,
            _dec(c.get("self_pay", "0"), f"{where}.self_pay"),
            cp.points,
            cp.points,
            cp.type,
            cp.reason,
            cp.base_points,
        )

    # Penalties, after the points: readmission halving, then confirmed violations.
    for i, c in enumerate(raw_cases):
        first = c.get("readmission_of")
        if first:
            if first not in cases:
                raise ScenarioError(f"cases[{i}] ({c['id']}).readmission_of", f"no case {first!r}")
            f = cases[first]
            f.points = q4(f.points * policy.readmission_factor)
            f.reason += f"; readmitted within 15 days by {c['id']}: × {policy.readmission_factor}"
    for i, c in enumerate(raw_cases):
        v = c.get("violation")
        if not v:
            continue
        kind = v.get("kind")
        where = f"cases[{i}] ({c['id']}).violation"
        if kind not in policy.violation_multiples:
            raise ScenarioError(f"{where}.kind", f"must be one of {', '.join(policy.violation_multiples)}")
        case = cases[c["id"]]
        case.points = Decimal("0.0000")
        case.reason += f"; confirmed {kind}: points not counted"
        if v.get("serious"):
            b = case.base_points if case.base_points is not None else case.original
            case.deduction = q4(policy.violation_multiples[kind] * b)
            case.reason += f"; serious: {policy.violation_multiples[kind]} × {b} deducted from the hospital"

    ledgers_of = (lambda fund: "all") if policy.merge_ledgers else (lambda fund: fund)
    budgets = scenario.get("budget") or {}
    ledgers: dict[str, Any] = {}
    by_ledger: dict[str, list[_Case]] = defaultdict(list)
    for case in cases.values():
        by_ledger[ledgers_of(case.fund)].append(case)
    for name in sorted(by_ledger):
        spec = budgets.get(name)
        if spec is None:
            raise ScenarioError(f"budget.{name}", "required: a ledger has cases")
        b = budget(
            _dec(spec.get("amount"), f"budget.{name}.amount", positive=True),
            policy,
            _dec(spec["reserve_ratio"], f"budget.{name}.reserve_ratio") if "reserve_ratio" in spec else None,
        )
        e = _dec(spec.get("fee_for_service_fund"), f"budget.{name}.fee_for_service_fund")
        f_total = fund_total(e, b, policy)
        points: dict[str, Decimal] = defaultdict(Decimal)
        selfpay: dict[str, Decimal] = defaultdict(Decimal)
        for case in by_ledger[name]:
            points[case.hospital] += case.points - case.deduction
            selfpay[case.hospital] += case.self_pay
        total_points = sum(points.values(), Decimal(0))
        if not policy.withdrawn_points_leave_total:
            total_points = sum((c.original for c in by_ledger[name]), Decimal(0))
        s_total = sum(selfpay.values(), Decimal(0))
        pv = point_value(f_total, s_total, total_points)
        raw = {h: points[h] * pv - selfpay[h] for h in points}
        target = (
            f_total if policy.withdrawn_points_leave_total else sum(raw.values(), Decimal(0)).quantize(Decimal("0.01"))
        )
        due = allocate(raw, target)
        ledgers[name] = {
            "T": str(b.T),
            "R": str(b.R),
            "B": str(b.B),
            "E": str(fen(e)),
            "F": str(f_total),
            "P": str(total_points),
            "S": str(s_total),
            "PV": str(pv_shown(pv)),
            "hospitals": {
                h: {
                    "points": str(points[h]),
                    "self_pay": str(selfpay[h]),
                    "due": str(due[h]),
                    "balance": str(
                        balance(
                            due[h],
                            sum((hospitals[h]["prepaid"][f] for f in FUND_TYPES if ledgers_of(f) == name), Decimal(0)),
                            hospitals[h]["score"],
                            policy,
                        )
                    ),
                }
                for h in sorted(points)
            },
        }
    return {
        "policy": policy.as_dict(),
        "cases": [
            {
                "id": c.id,
                "points": str(c.points),
                "type": c.type,
                "reason": c.reason,
                **({"deduction": str(c.deduction)} if c.deduction else {}),
            }
            for c in cases.values()
        ],
        "ledgers": ledgers,
    }
