"""Monthly pre-settlement (月度预结算, SPEC section 6): recomputed year to date every month so that
corrections, recalls and reviews flow in.

For each hospital, year to date: due = P_h × PV − S_h − audit deductions (PV the provisional point
value, by default last year's final one); payable = due × r (r the prepay ratio, default 0.95: a 5%
quality holdback); each rounded half-up to the fen once, from the exact due; this month's payment =
payable − what was paid before (negative: the fund recovers an overpayment)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from dianshu.settlement.arithmetic.clearing import EXACT, fen
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.rounding import rounding


@dataclass(frozen=True)
class HospitalYtd:
    points: Decimal  # case points year to date, after deductions of points
    self_pay: Decimal  # patients' own payments year to date
    audit_deductions: Decimal = Decimal("0.00")  # money deducted by audits year to date
    paid_before: Decimal = Decimal("0.00")  # paid in earlier months of the year


@dataclass(frozen=True)
class MonthlyLine:
    due: Decimal
    payable: Decimal
    holdback: Decimal
    payment: Decimal


def monthly_settlement(
    hospitals: dict[str, HospitalYtd], provisional_pv: Decimal, policy: Policy
) -> dict[str, MonthlyLine]:
    if provisional_pv <= 0:
        raise ValueError("the provisional point value must be positive")
    out = {}
    with localcontext(EXACT), rounding(policy):
        for code, h in sorted(hospitals.items()):
            raw = h.points * provisional_pv - h.self_pay - h.audit_deductions
            due, payable = fen(raw), fen(raw * policy.prepay_ratio)  # each rounded once, from the exact due
            out[code] = MonthlyLine(due, payable, due - payable, payable - h.paid_before)
    return out
