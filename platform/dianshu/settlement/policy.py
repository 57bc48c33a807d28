"""Policy parameters of a region, ledger and year, with the defaults of SPEC sections 5 and 6.

Every number that decides points or money is here, so a run can record exactly what it used and a
simulation can change any of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

D = Decimal

FLOOR_PREPAY_RATIO = D("0.85")  # monthly payments never below 85% of what is due

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
    readmission_days: int = 15
    # Groups exempt from the readmission rule: chemotherapy, radiotherapy, dialysis (ADRG codes of
    # both shipped schemes).
    # (ZJ-DRG RU1/RU2 and CHS-DRG RG1: chemotherapy, targeted and immunotherapy of malignancies.)
    readmission_exempt_adrgs: tuple[str, ...] = ("LL1", "RB1", "RB2", "RC1", "RE1", "RG1", "RU1", "RU2", "RV1")
    readmission_same_hospital: bool = True  # the readmission is to the hospital of the first stay
    # New-technology add-on: the share of the technology's cost paid in points, by its year.
    new_technology_taper: tuple[Decimal, ...] = (D("1.0"), D("0.7"), D("0.4"))
    # TCM-advantage groups treated with TCM are paid at the Western-medicine equivalent (同病同效同价).
    tcm_equivalence: bool = True
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
    # Money to the fen and points to 4 places, rounded once at the end: half_up (四舍五入),
    # half_even or down.
    rounding: str = "half_up"
    # Cross-province cases paid outside the points: last year's are carved out of the budget and
    # this year's leave the points run (they are paid by item, outside the region's points).
    carve_out_cross_province: bool = False
    # Monthly pre-settlement: the provisional point value is last year's final one; this value is
    # used when there is none (a first year) or when `provisional_pv_rule` is "fixed".
    provisional_pv_rule: str = "last_year_final"
    provisional_point_value: Decimal = D(0)
    # Special review (SPEC section 7).
    review_quota_ratio: Decimal = D("0.05")  # of a hospital's DRG discharges in the year
    review_min_experts: int = 3
    review_small_group_cases: int = 5  # DRGs with fewer cases than this are eligible
    review_long_stay_days: int = 60  # stays longer than this are eligible

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
                elif isinstance(current, str):
                    if not isinstance(value, str):
                        raise ValueError
                    changes[name] = value
                elif isinstance(current, tuple):
                    if isinstance(value, str | bytes) or not current:
                        raise ValueError
                    kind = type(current[0])
                    changes[name] = tuple(
                        D(str(x)) if kind is Decimal else str(x) if kind is str else int(x) for x in value
                    )
                elif isinstance(current, dict):
                    changes[name] = {**current, **{k: D(str(v)) for k, v in value.items()}}
            except (ValueError, TypeError, InvalidOperation):
                raise ValueError(f"policy.{name}: {value!r} is not a valid value") from None
        policy = replace(self, **changes)
        policy.check()
        return policy

    def check(self) -> None:
        for name in ("itemized_factor", "high_k_1", "high_k_2", "high_k_3", "incomplete_max_ratio"):
            if getattr(self, name) < 0:
                raise ValueError(f"policy.{name}: must not be negative (got {getattr(self, name)})")
        for name in ("readmission_factor", "low_ratio"):
            if not D(0) <= getattr(self, name) <= D(1):
                raise ValueError(f"policy.{name}: must be between 0 and 1 (got {getattr(self, name)})")
        if not self.high_band_1_max_points <= self.high_band_2_max_points:
            raise ValueError("policy.high_band_1_max_points: must not exceed high_band_2_max_points")
        for kind, m in self.violation_multiples.items():
            if kind not in VIOLATION_MULTIPLES or m < 0:
                raise ValueError(f"policy.violation_multiples.{kind}: a known kind with a multiple ≥ 0 (got {m})")
        if self.min_prepay_ratio < FLOOR_PREPAY_RATIO:
            raise ValueError(
                f"policy.min_prepay_ratio: SPEC's floor is {FLOOR_PREPAY_RATIO} (got {self.min_prepay_ratio})"
            )
        for name in ("reserve_ratio", "saving_share_hospitals", "overspend_share_fund", "prepay_ratio"):
            v = getattr(self, name)
            if not D(0) <= v <= D(1):
                raise ValueError(f"policy.{name}: must be between 0 and 1 (got {v})")
        if self.rounding not in ("half_up", "half_even", "down"):
            raise ValueError(f"policy.rounding: half_up, half_even or down (got {self.rounding!r})")
        if self.provisional_pv_rule not in ("last_year_final", "fixed"):
            raise ValueError(f"policy.provisional_pv_rule: last_year_final or fixed (got {self.provisional_pv_rule!r})")
        if self.provisional_point_value < 0:
            raise ValueError("policy.provisional_point_value: must not be negative")
        if any(not D(0) <= x <= D(1) for x in self.new_technology_taper):
            raise ValueError("policy.new_technology_taper: each share must be between 0 and 1")
        if not D(0) <= self.review_quota_ratio <= D(1):
            raise ValueError("policy.review_quota_ratio: must be between 0 and 1")
        if self.review_min_experts < 1 or self.readmission_days < 0:
            raise ValueError("policy.review_min_experts / readmission_days: out of range")
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
                else [str(x) if isinstance(x, Decimal) else x for x in v]
                if isinstance(v, tuple)
                else v
            )
            for k, v in d.items()
        }
