"""Annual clearing arithmetic (SPEC section 6), exact in Decimal. Money is rounded half-up to the
fen once, at the end; the point value is kept unrounded in the arithmetic and shown to 6 places."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.rounding import FEN, fen, rounding
from dianshu.settlement.places import PV_SHOWN

EXACT = Context(prec=50)


@dataclass(frozen=True)
class Budget:
    """R and B are exact (unrounded): F is computed from them and rounded once; `shown()` gives
    them to the fen for statements and the budget table."""

    T: Decimal  # the ledger's total (an amount in fen: the budget as set)
    R: Decimal  # reserve (调剂金), T × reserve ratio, unrounded
    B: Decimal  # points budget, T − R, unrounded

    def shown(self, policy: Policy) -> Budget:
        # R to the fen; B shown as T − R so the shown parts add up to T (the budget table checks it).
        with rounding(policy):
            r = fen(self.R)
        return Budget(self.T, r, self.T - r)


def budget(total: Decimal, policy: Policy, reserve_ratio: Decimal | None = None) -> Budget:
    ratio = policy.reserve_ratio if reserve_ratio is None else reserve_ratio
    with rounding(policy):
        t = fen(total)
    with localcontext(EXACT):
        r = t * ratio  # not rounded here: rounding R (and so B) first moved F by a fen
        return Budget(t, r, t - r)


def fund_total(e: Decimal, b: Budget, policy: Policy) -> Decimal:
    """F: E ≤ B: E + 0.85 (B − E) (hospitals keep 85% of the saving);
    E > B: B + min(0.15 (E − B), R) (the fund's share of the overspend, never above the reserve)."""
    with localcontext(EXACT), rounding(policy):
        if e <= b.B:
            return fen(e + policy.saving_share_hospitals * (b.B - e))
        return fen(b.B + min(policy.overspend_share_fund * (e - b.B), b.R))


def point_value(f: Decimal, s: Decimal, p: Decimal) -> Decimal:
    """PV = (F + S) / P, unrounded (50 significant digits)."""
    if p <= 0:
        raise ValueError("the ledger has no points: the point value is undefined")
    with localcontext(EXACT):
        return (f + s) / p


def allocate(raw: dict[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Round each amount down to the fen, then give the fen still missing to reach `total` one each
    to the largest remainders (ties by code). Σ result = total exactly."""
    with localcontext(EXACT):
        floors = {k: v.quantize(FEN, ROUND_FLOOR) for k, v in raw.items()}
        missing = int((total - sum(floors.values(), Decimal(0))) / FEN)
        if not 0 <= missing <= len(raw):
            raise ValueError(f"cannot allocate {total}: the amounts sum to {sum(raw.values())}")
        order = sorted(raw, key=lambda k: (-(raw[k] - floors[k]), k))
        for k in order[:missing]:
            floors[k] += FEN
        return floors


def balance(due: Decimal, prepaid: Decimal, score: Decimal | None, policy: Policy) -> Decimal:
    """D × (r + (1 − r) × score / 100) − prepaid; the withheld rest stays in the fund."""
    s = Decimal(100) if score is None else score
    with localcontext(EXACT), rounding(policy):
        return fen(due * (policy.prepay_ratio + (1 - policy.prepay_ratio) * s / 100) - prepaid)


def pv_shown(pv: Decimal) -> Decimal:
    return pv.quantize(PV_SHOWN, ROUND_HALF_UP)
