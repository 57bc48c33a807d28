"""Policy parameters of a region, ledger and year, with the defaults of SPEC sections 5 and 6.

Every number that decides points or money is here, so a run can record exactly what it used and a
simulation can change any of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal
from functools import cache
from itertools import pairwise
from typing import Any

from pydantic import Field, create_model

from dianshu.strict import Dec, Invalid, StrictBool, StrictInt, StrictModel, StrictStr, parse

D = Decimal

FLOOR_PREPAY_RATIO = D("0.85")

# Upper bounds of the parameters (and of the scenario's points and coefficients): far above any real
# policy, low enough that no product the engine forms leaves its 28-digit precision.
MAX_POINTS = D(10) ** 6  # points: a DRG's base points, outlier band limits
MAX_FACTOR = D(100)  # multipliers: k, the itemized factor, violation multiples, coefficients
MAX_DAYS = 366  # a window in days within a year (readmission)
MAX_LOS_DAYS = 3660  # a length of stay: ten years in hospital
MAX_EXPERTS = 50  # a special review panel
MAX_CASES = 10**6  # a count of cases
MAX_POINT_VALUE = D(10) ** 6  # yuan per point
MAX_TAPER_YEARS = 10  # years of a new technology's add-on (a scenario's technology year is 1 to 10)
MAX_EXEMPT_ADRGS = 1000
MAX_ADRG_CHARS = 20  # monthly payments never below 85% of what is due
MAX_SCORE_BANDS = 20  # bands of the evaluation's points coefficient
MIN_COEFFICIENT, MAX_COEFFICIENT = D("0.5"), D("1.5")  # the evaluation's points coefficient
MAX_ANOMALY_TREES = 1000  # trees of the anomaly model's forest

VIOLATION_MULTIPLES = {
    "split_admission": D(1),
    "bed_hanging": D(1),
    "no_indication": D(1),
    "outpatient_shift": D(2),
    "own_pay_switch": D(2),
    "upcoding": D(2),
    "fraud": D(5),
}


# SPEC section 3 (离院方式): 1 ordered discharge, 2 transfer to hospital, 3 transfer to community,
# 4 against advice, 5 death, 9 other; the settlement list allows nothing else.
DISCHARGE_WAYS = (1, 2, 3, 4, 5, 9)


def _refuse(name: str, reason: str) -> None:
    raise Invalid.one(f"policy.{name}", reason)


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
    # ---- Hospital evaluation (issue 12, eval-score): peers and the points coefficient (奖惩系数) ----
    # Peers of a hospital are the hospitals of its level in its region, or in every region of the city.
    evaluation_peer_scope: str = "region"
    # Score bands: a total at or above floor i (and below floor i + 1) multiplies the hospital's points
    # at the annual clearing by coefficient i. Floors ascending from 0; none (the default): no coefficient.
    evaluation_coefficient_floors: tuple[Decimal, ...] = field(default=(), metadata={"element": Decimal})
    evaluation_coefficients: tuple[Decimal, ...] = field(default=(), metadata={"element": Decimal})
    # ---- Supervision rules (智能监管, SPEC section 9; issue 12, supervision/rules) ----------------
    supervision_split_days: int = 15  # a readmission within this many days to the same DRG or ADRG
    supervision_split_gap_min_days: int = 1  # and any readmission after a gap of this many days ...
    supervision_split_gap_max_days: int = 2  # ... up to this many
    supervision_frequent_days: int = 100  # a patient's inpatient days in the year above this
    supervision_low_standard_max_los: int = 2  # a stay of at most this many days ...
    supervision_low_standard_exam_share: Decimal = D("0.5")  # ... mostly examinations and laboratory
    supervision_low_standard_max_treatment_share: Decimal = D("0.1")  # ... (almost) no treatment
    supervision_bed_hanging_min_los: int = 3  # a stay of at least this many days ...
    supervision_bed_hanging_daily_charges: Decimal = D(50)  # ... with treatment+nursing+drugs a day below
    supervision_vent_min_hours: Decimal = D(96)  # ventilation hours above this ...
    supervision_vent_max_hours: Decimal = D(100)  # ... and at most this (just over the 96-hour split)
    supervision_peer_percentile: Decimal = D("0.9")  # a hospital far above its level's peers: above this
    supervision_upcoding_share_margin: Decimal = D("0.1")  # MCC/CC share above the peers' percentile + this
    supervision_upcoding_cmi_margin: Decimal = D("0.1")  # CMI above the peers' percentile × (1 + this)
    supervision_upcoding_jump: Decimal = D("0.1")  # or the MCC/CC share up this much on last year
    supervision_upcoding_z: Decimal = D(3)  # and the excess this many standard errors (not chance)
    supervision_hospital_min_cases: int = 30  # hospital-level rules judge hospitals with this many cases
    supervision_own_pay_rise: Decimal = D("0.02")  # own-pay share up this much on last year
    supervision_own_pay_switch_share: Decimal = D("0.3")  # a stay whose own-pay share is above this
    supervision_shortfall_high_rw: Decimal = D(2)  # RW of a high-weight case
    supervision_shortfall_drop: Decimal = D("0.02")  # high-RW share down at least this on last year ...
    supervision_shortfall_readmission_rise: Decimal = D("0.01")  # ... with readmissions up at least this
    supervision_high_cost_ratio: Decimal = D("0.2")  # cost per case above the level's average by this share
    supervision_own_pay_max_share: Decimal = D("0.08")  # own-pay above this share of total cost
    # ---- Supervision: PEPPER-style hospital signals and the anomaly ranking (issue 12, "signals").
    # A hospital's share in a target area is flagged at or above the high percentile of its peers
    # (same level) or at or below the low one, when it has at least signal_min_peers peers.
    signal_high_percentile: Decimal = D(80)
    signal_low_percentile: Decimal = D(20)
    signal_min_peers: int = 5
    signal_years: int = 3  # the run's year and the years before it, for the trend
    signal_short_stay_max_los: int = 1  # one-day stays: LOS at most this
    signal_readmission_short_days: int = 15
    signal_readmission_long_days: int = 31
    # Error-prone DRGs (commonly upcoded, the top member of their ADRG): ER31 respiratory failure with
    # MCC, ES21 respiratory infection with MCC (ZJ-DRG), FR11 / FR21 heart failure and shock with
    # MCC (ZJ-DRG / CHS-DRG), SR11 septicaemia with MCC; a code a scheme lacks matches nothing.
    signal_error_prone_drgs: tuple[str, ...] = ("ER31", "ES21", "FR11", "FR21", "SR11")
    # The anomaly model (scikit-learn's IsolationForest): trees, the subsample each tree is fitted
    # on, the seed, and the cap on the readmission gap (no earlier stay counts as this many days).
    signal_anomaly_trees: int = 100
    signal_anomaly_max_samples: int = 256
    signal_anomaly_seed: int = 20261201
    signal_anomaly_gap_cap_days: int = 365

    def k(self, base_points: Decimal) -> Decimal:
        if base_points <= self.high_band_1_max_points:
            return self.high_k_1
        if base_points <= self.high_band_2_max_points:
            return self.high_k_2
        return self.high_k_3

    def with_overrides(self, overrides: Any) -> Policy:
        """A policy with some parameters changed, read strictly (overrides_model): unknown names,
        inexact types and out-of-range values are refused with their path (policy.<name>)."""
        if overrides is None or overrides == {}:
            return self
        return self.with_parameters(parse(overrides_model(), overrides, prefix="policy", whole="policy"))

    def with_parameters(self, parsed: StrictModel | None) -> Policy:
        """A policy with the parameters of an already parsed overrides_model() changed."""
        if parsed is None:
            return self
        changes: dict[str, Any] = {}
        for name in parsed.model_fields_set:
            value = getattr(parsed, name)
            if name == "violation_multiples":
                changes[name] = {**self.violation_multiples, **value.model_dump(exclude_unset=True)}
            elif isinstance(value, list):
                changes[name] = tuple(value)
            else:
                changes[name] = value
        policy = replace(self, **changes)
        policy.check()
        return policy

    def check(self) -> None:
        """Every bound on the parameters, in one place (setPolicy, the runs and the simulation): each
        parameter between a lower and an upper bound (the table below), then the rules between them."""
        for name, low, high in _BOUNDS:
            v = getattr(self, name)
            if not low <= v <= high:
                _refuse(name, f"must be between {low} and {high} (got {v})")
        if not self.high_band_1_max_points <= self.high_band_2_max_points:
            _refuse("high_band_1_max_points", "must not exceed high_band_2_max_points")
        for kind, m in self.violation_multiples.items():
            if kind not in VIOLATION_MULTIPLES or not 0 <= m <= MAX_FACTOR:
                _refuse(f"violation_multiples.{kind}", f"a known kind with a multiple from 0 to {MAX_FACTOR} (got {m})")
        if self.min_prepay_ratio < FLOOR_PREPAY_RATIO:
            _refuse("min_prepay_ratio", f"SPEC's floor is {FLOOR_PREPAY_RATIO} (got {self.min_prepay_ratio})")
        # The reserve is a share of T held back: all of T (1) would leave nothing to pay by points.
        if not D(0) <= self.reserve_ratio < D(1):
            _refuse("reserve_ratio", f"must be at least 0 and below 1 (got {self.reserve_ratio})")
        if self.rounding not in ("half_up", "half_even", "down"):
            _refuse("rounding", f"half_up, half_even or down (got {self.rounding!r})")
        if self.provisional_pv_rule not in ("last_year_final", "fixed"):
            _refuse("provisional_pv_rule", f"last_year_final or fixed (got {self.provisional_pv_rule!r})")
        if not 1 <= len(self.new_technology_taper) <= MAX_TAPER_YEARS:
            _refuse("new_technology_taper", f"from one to {MAX_TAPER_YEARS} years' shares")
        if len(self.readmission_exempt_adrgs) > MAX_EXEMPT_ADRGS:
            _refuse("readmission_exempt_adrgs", f"at most {MAX_EXEMPT_ADRGS} ADRG codes")
        if any(not 1 <= len(x) <= MAX_ADRG_CHARS for x in self.readmission_exempt_adrgs):
            _refuse("readmission_exempt_adrgs", f"each an ADRG code of 1 to {MAX_ADRG_CHARS} characters")
        if any(not D(0) <= x <= D(1) for x in self.new_technology_taper):
            _refuse("new_technology_taper", "each share must be between 0 and 1")
        if bad := sorted(set(self.incomplete_discharge_ways) - set(DISCHARGE_WAYS)):
            ways = ", ".join(map(str, DISCHARGE_WAYS))
            _refuse("incomplete_discharge_ways", f"discharge ways are {ways} (got {bad})")
        if self.supervision_split_gap_min_days > self.supervision_split_gap_max_days:
            _refuse("supervision_split_gap_min_days", "must not exceed supervision_split_gap_max_days")
        if self.supervision_vent_min_hours > self.supervision_vent_max_hours:
            _refuse("supervision_vent_min_hours", "must not exceed supervision_vent_max_hours")
        if self.prepay_ratio < self.min_prepay_ratio:
            _refuse("prepay_ratio", f"never below {self.min_prepay_ratio} (got {self.prepay_ratio})")
        self._check_evaluation()

    def _check_evaluation(self) -> None:
        if self.evaluation_peer_scope not in ("region", "city"):
            _refuse("evaluation_peer_scope", f"region or city (got {self.evaluation_peer_scope!r})")
        floors, coefs = self.evaluation_coefficient_floors, self.evaluation_coefficients
        if len(floors) != len(coefs):
            _refuse("evaluation_coefficients", f"one per floor: {len(floors)} floors, {len(coefs)} coefficients")
        if len(floors) > MAX_SCORE_BANDS:
            _refuse("evaluation_coefficient_floors", f"at most {MAX_SCORE_BANDS} bands")
        if floors and floors[0] != 0:
            _refuse("evaluation_coefficient_floors", f"the first floor is 0 (got {floors[0]})")
        if any(not D(0) <= x <= D(100) for x in floors):
            _refuse("evaluation_coefficient_floors", "each floor is a score from 0 to 100")
        if any(a >= b for a, b in pairwise(floors)):
            _refuse("evaluation_coefficient_floors", "must be strictly ascending")
        if any(not MIN_COEFFICIENT <= c <= MAX_COEFFICIENT for c in coefs):
            _refuse("evaluation_coefficients", f"each between {MIN_COEFFICIENT} and {MAX_COEFFICIENT}")
        # Supervision signals (issue 12, "signals").
        if self.signal_low_percentile >= self.signal_high_percentile:
            _refuse("signal_low_percentile", "must be below signal_high_percentile")
        if not 1 <= len(self.signal_error_prone_drgs) <= MAX_EXEMPT_ADRGS:
            _refuse("signal_error_prone_drgs", f"from one to {MAX_EXEMPT_ADRGS} DRG codes")
        if any(not 1 <= len(x) <= MAX_ADRG_CHARS for x in self.signal_error_prone_drgs):
            _refuse("signal_error_prone_drgs", f"each a DRG code of 1 to {MAX_ADRG_CHARS} characters")

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


# Each numeric parameter's plausible range (lower, upper), checked by Policy.check. The upper bounds
# are far above any real policy and keep the engine's products inside its precision.
_BOUNDS: tuple[tuple[str, Any, Any], ...] = (
    ("high_band_1_max_points", D(0), MAX_POINTS),  # points of a DRG
    ("high_band_2_max_points", D(0), MAX_POINTS),
    ("high_k_1", D(0), MAX_FACTOR),  # high-outlier multipliers of the base cost
    ("high_k_2", D(0), MAX_FACTOR),
    ("high_k_3", D(0), MAX_FACTOR),
    ("low_ratio", D(0), D(1)),  # a share of the group's average cost
    ("incomplete_max_ratio", D(0), MAX_FACTOR),  # a cap on the cost ratio of an incomplete stay
    ("itemized_factor", D(0), MAX_FACTOR),  # f: points per 100 yuan of the region's average cost
    ("bed_day_min_los", 0, MAX_LOS_DAYS),  # days in hospital
    ("readmission_factor", D(0), D(1)),  # the share of the first stay's points kept
    ("readmission_days", 0, MAX_DAYS),  # a window within a year
    ("reserve_ratio", D(0), D(1)),  # (and below 1: rule below)
    ("saving_share_hospitals", D(0), D(1)),
    ("overspend_share_fund", D(0), D(1)),
    ("prepay_ratio", D(0), D(1)),
    ("min_prepay_ratio", D(0), D(1)),
    ("provisional_point_value", D(0), MAX_POINT_VALUE),  # yuan per point
    ("review_quota_ratio", D(0), D(1)),  # of a hospital's DRG discharges
    ("review_min_experts", 1, MAX_EXPERTS),  # a panel
    ("review_small_group_cases", 0, MAX_CASES),  # cases of a DRG in a year
    ("review_long_stay_days", 0, MAX_LOS_DAYS),  # days in hospital
    # Supervision rules: windows in days, shares between 0 and 1, hours and yuan within plain limits.
    ("supervision_split_days", 0, MAX_DAYS),
    ("supervision_split_gap_min_days", 0, MAX_DAYS),
    ("supervision_split_gap_max_days", 0, MAX_DAYS),
    ("supervision_frequent_days", 0, MAX_DAYS),
    ("supervision_low_standard_max_los", 0, MAX_LOS_DAYS),
    ("supervision_low_standard_exam_share", D(0), D(1)),
    ("supervision_low_standard_max_treatment_share", D(0), D(1)),
    ("supervision_bed_hanging_min_los", 0, MAX_LOS_DAYS),
    ("supervision_bed_hanging_daily_charges", D(0), MAX_POINT_VALUE),  # yuan a day
    ("supervision_vent_min_hours", D(0), D(MAX_LOS_DAYS * 24)),
    ("supervision_vent_max_hours", D(0), D(MAX_LOS_DAYS * 24)),
    ("supervision_peer_percentile", D(0), D(1)),
    ("supervision_upcoding_share_margin", D(0), D(1)),
    ("supervision_upcoding_cmi_margin", D(0), MAX_FACTOR),
    ("supervision_upcoding_jump", D(0), D(1)),
    ("supervision_upcoding_z", D(0), D(10)),
    ("supervision_hospital_min_cases", 0, MAX_CASES),
    ("supervision_own_pay_rise", D(0), D(1)),
    ("supervision_own_pay_switch_share", D(0), D(1)),
    ("supervision_shortfall_high_rw", D(0), MAX_FACTOR),
    ("supervision_shortfall_drop", D(0), D(1)),
    ("supervision_shortfall_readmission_rise", D(0), D(1)),
    ("supervision_high_cost_ratio", D(0), MAX_FACTOR),
    ("supervision_own_pay_max_share", D(0), D(1)),
    # Supervision signals and anomaly ranking (issue 12, "signals").
    ("signal_high_percentile", D(0), D(100)),  # percentiles of the peers
    ("signal_low_percentile", D(0), D(100)),
    ("signal_min_peers", 2, MAX_CASES),  # hospitals
    ("signal_years", 1, MAX_TAPER_YEARS),  # years
    ("signal_short_stay_max_los", 0, MAX_LOS_DAYS),  # days in hospital
    ("signal_readmission_short_days", 0, MAX_DAYS),  # days after discharge
    ("signal_readmission_long_days", 0, MAX_DAYS),
    ("signal_anomaly_trees", 1, MAX_ANOMALY_TREES),  # trees of the forest
    ("signal_anomaly_max_samples", 2, MAX_CASES),  # cases per tree
    ("signal_anomaly_seed", 0, 2**32 - 1),  # numpy's seed range
    ("signal_anomaly_gap_cap_days", 1, MAX_DAYS),  # days
)


def tuple_element(name: str) -> type:
    """The type of a list parameter's items: its default's first, or (an empty default) its metadata's."""
    f = next(f for f in fields(Policy) if f.name == name)
    default = getattr(Policy(), name)
    return f.metadata.get("element") or type(default[0])


_STRICT = {bool: StrictBool, int: StrictInt, str: StrictStr, Decimal: Dec}


@cache
def overrides_model() -> type[StrictModel]:
    """The policy parameters as a strict JSON object (every key optional), built from Policy's own
    fields so a new parameter cannot be forgotten here. Bounds live in Policy.check."""
    defaults = Policy()
    spec: dict[str, Any] = {}
    for f in fields(Policy):
        current = getattr(defaults, f.name)
        if isinstance(current, dict):  # violation_multiples: known kinds only
            kinds = {k: (Dec, None) for k in current}
            tp: Any = create_model("ViolationMultiples", __base__=StrictModel, **kinds)
        elif isinstance(current, tuple):
            tp = list[_STRICT[tuple_element(f.name)]]  # type: ignore[misc]
        else:
            tp = _STRICT[type(current)]
        # Not Optional: null is refused like any wrong type; a parameter left out keeps its value.
        spec[f.name] = (tp, Field(default=None))
    return create_model("PolicyParameters", __base__=StrictModel, **spec)
