"""Policy parameters of a region, ledger and year, with the defaults of SPEC sections 5 and 6.

Every number that decides points or money is here, so a run can record exactly what it used and a
simulation can change any of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

D = Decimal

VIOLATION_MULTIPLES = {
    "split_admission": D(1),
    "bed_hanging": D(1),
    "no_indication": D(1),
    "outpatient_shift": D(2),
    "own_pay_switch": D(2),
    "upcoding": D(2),
    "fraud": D(5),
}


@dataclass(frozen=True)
class Policy:
    # Outlier bands: k(b) = 3 for b ≤ 100, 2 for 100 < b ≤ 300, 1.5 above.
    high_band_1_max_points: Decimal = D(100)
    high_band_2_max_points: Decimal = D(300)
    high_k_1: Decimal = D(3)
    high_k_2: Decimal = D(2)
    high_k_3: Decimal = D("1.5")
    low_ratio: Decimal = D("0.4")
    incomplete_discharge_ways: tuple[int, ...] = (2, 3, 4, 5)
    incomplete_max_ratio: Decimal = D(1)
    itemized_factor: Decimal = D("1.0")  # f for unstable, ungroupable and QY cases
    bed_day_min_los: int = 60
    readmission_factor: Decimal = D("0.5")  # the first stay's points are halved
    violation_multiples: dict[str, Decimal] = field(default_factory=lambda: dict(VIOLATION_MULTIPLES))
    # Whether withdrawn and deducted points leave the region's total P (the money is shared among
    # all hospitals) or stay in it (the money stays in the fund).
    withdrawn_points_leave_total: bool = True
    # Budget and clearing.
    reserve_ratio: Decimal = D("0.05")
    saving_share_hospitals: Decimal = D("0.85")  # of B − E when E ≤ B
    overspend_share_fund: Decimal = D("0.15")  # of E − B when E > B, capped by the reserve
    prepay_ratio: Decimal = D("0.95")
    min_prepay_ratio: Decimal = D("0.85")
    merge_ledgers: bool = False

    def k(self, base_points: Decimal) -> Decimal:
        if base_points <= self.high_band_1_max_points:
            return self.high_k_1
        if base_points <= self.high_band_2_max_points:
            return self.high_k_2
        return self.high_k_3

    def with_overrides(self, overrides: dict[str, Any] | None) -> Policy:
        """A policy with some parameters changed (decimals as strings); unknown names are refused."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise ValueError(f"policy.{name}: not a parameter (known: {', '.join(sorted(known))})")
            current = getattr(self, name)
            try:
                if isinstance(current, bool):
                    if not isinstance(value, bool):
                        raise ValueError
                    changes[name] = value
                elif isinstance(current, Decimal):
                    changes[name] = D(str(value))
                elif isinstance(current, int):
                    changes[name] = int(value)
                elif isinstance(current, tuple):
                    changes[name] = tuple(int(x) for x in value)
                elif isinstance(current, dict):
                    changes[name] = {**current, **{k: D(str(v)) for k, v in value.items()}}
            except (ValueError, TypeError, InvalidOperation):
                raise ValueError(f"policy.{name}: {value!r} is not a valid value") from None
        policy = replace(self, **changes)
        policy.check()
        return policy

    def check(self) -> None:
        for name in ("reserve_ratio", "saving_share_hospitals", "overspend_share_fund", "prepay_ratio"):
            v = getattr(self, name)
            if not D(0) <= v <= D(1):
                raise ValueError(f"policy.{name}: must be between 0 and 1 (got {v})")
        if self.prepay_ratio < self.min_prepay_ratio:
            raise ValueError(f"policy.prepay_ratio: never below {self.min_prepay_ratio} (got {self.prepay_ratio})")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {
            k: (
                str(v)
                if isinstance(v, Decimal)
                else {a: str(b) for a, b in v.items()}
                if isinstance(v, dict)
                else list(v)
                if isinstance(v, tuple)
                else v
            )
            for k, v in d.items()
        }
