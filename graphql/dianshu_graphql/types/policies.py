"""Policy parameters (政策参数) as GraphQL types: the parameters in force, the changes of a version,
and the strict input of setPolicy / simulate / simulateAgainstRun. Every field is one of
dianshu.settlement.arithmetic.policy.Policy's parameters under its GraphQL name; the input is turned back into
the parameter JSON that the policy's own strict reader checks (the one home of the rules)."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from dianshu.settlement.arithmetic.policy import Policy, tuple_element
from dianshu_graphql import pagination
from dianshu_graphql.pagination import Connection

# ---- enums ---------------------------------------------------------------------------------------


@strawberry.enum(description="How money (to the fen) and points (to 4 places) are rounded, once, at the end.")
class Rounding(Enum):
    half_up = strawberry.enum_value("half_up", description="四舍五入: half away from zero (the default).")
    half_even = strawberry.enum_value("half_even", description="Banker's rounding: half to the even digit.")
    down = strawberry.enum_value("down", description="Truncated towards zero.")


@strawberry.enum(description="Where the monthly pre-settlement's provisional point value (预结算点值) comes from.")
class ProvisionalPointValueRule(Enum):
    last_year_final = strawberry.enum_value(
        "last_year_final",
        description="Last year's final point value (its published annual clearing); provisionalPointValue when "
        "there is none.",
    )
    fixed = strawberry.enum_value("fixed", description="Always provisionalPointValue.")


@strawberry.enum(description="Who a hospital is compared with in the evaluation: its level's hospitals in…")
class EvaluationPeerScope(Enum):
    region = strawberry.enum_value("region", description="…its region (统筹区): the default.")
    city = strawberry.enum_value("city", description="…every region of the city (全市).")


@strawberry.enum(description="Which level set a policy version: the city's defaults or a region's own.")
class PolicyLevel(Enum):
    city = strawberry.enum_value("city", description="The city's defaults (市级默认参数).")
    region = strawberry.enum_value("region", description="A pooling region's own parameters (统筹区参数).")


@strawberry.enum(description="A fund's ledger (基金账户), settled separately unless the policy merges them.")
class Ledger(Enum):
    employee = strawberry.enum_value("employee", description="职工基本医疗保险: employees' basic medical insurance.")
    resident = strawberry.enum_value("resident", description="城乡居民基本医疗保险: urban and rural residents'.")
    all = strawberry.enum_value("all", description="Both ledgers settled as one (policy mergeLedgers).")


# ---- descriptions (one per parameter, shared by the output, the changes and the input) -------------

D = {
    "high_band_1_max_points": "First band of the high-outlier rule (高倍率): groups of at most this many base points "
    "use highK1 (SPEC: 100).",
    "high_band_2_max_points": "Second band: groups above highBand1MaxPoints and at most this use highK2 (SPEC: 300).",
    "high_k_1": "k of the first band: a case above k × the group's average cost is a high outlier (SPEC: 3).",
    "high_k_2": "k of the second band (SPEC: 2).",
    "high_k_3": "k above the second band (SPEC: 1.5).",
    "low_ratio": "Low outlier (低倍率): a case below this share of the group's average cost (SPEC: 0.4).",
    "incomplete_discharge_ways": "Discharge ways (离院方式) that make a stay incomplete (SPEC: 2, 3, 4, 5).",
    "incomplete_max_ratio": "Cap on the cost ratio of an incomplete stay (SPEC: 1).",
    "itemized_factor": "f: points per 100 yuan of the region's average cost (按项目付费, SPEC: 1.0).",
    "bed_day_min_los": "Days in hospital from which a bed-day group (床日付费) pays by the day (SPEC: 60).",
    "readmission_factor": "Share of the first stay's points kept when it is readmitted (再入院, SPEC: 0.5).",
    "readmission_days": "Days after discharge within which a new stay is a readmission (SPEC: 15).",
    "readmission_exempt_adrgs": "ADRG codes exempt from the readmission rule (chemotherapy, radiotherapy, dialysis).",
    "readmission_same_hospital": "Whether a readmission must be to the hospital of the first stay.",
    "new_technology_taper": "Share of a new technology's cost (新技术) paid in points, by its year of use.",
    "tcm_equivalence": "TCM-advantage groups treated with TCM are paid at the Western equivalent (中西医同病同效同价).",
    "violation_multiples": "Points deducted per violation kind (违规扣分倍数), as multiples of the case's points.",
    "withdrawn_points_leave_total": "Whether withdrawn and deducted points leave the region's total points P.",
    "reserve_ratio": "Reserve (调剂金) ratio: R = T × this (SPEC: 0.05); at least 0 and below 1.",
    "saving_share_hospitals": "Hospitals' share of a saving B − E when E ≤ B (结余留用, SPEC: 0.85).",
    "overspend_share_fund": "Fund's share of an overspend E − B when E > B, capped by R (超支分担, SPEC: 0.15).",
    "prepay_ratio": "Share of the due paid monthly (预拨比例, SPEC: 0.95; never below minPrepayRatio).",
    "min_prepay_ratio": "Lowest allowed prepayRatio (SPEC's floor: 0.85).",
    "merge_ledgers": "Whether the employee and resident ledgers are settled as one (ledger all).",
    "rounding": "How money and points are rounded, once, at the end.",
    "carve_out_cross_province": "Whether cross-province cases (跨省异地就医) leave the budget and points.",
    "provisional_pv_rule": "Where the monthly provisional point value comes from.",
    "provisional_point_value": "Provisional point value in yuan per point, when there is no final one (or rule fixed).",
    "review_quota_ratio": "Special-review quota (特病单议): this share of a hospital's discharges at most (0.05).",
    "review_min_experts": "Experts drawn for a special review (SPEC: 3).",
    "review_small_group_cases": "DRGs with fewer cases in the year are eligible for special review (SPEC: 5).",
    "review_long_stay_days": "Stays longer than this are eligible for special review (SPEC: 60).",
    # Hospital evaluation (issue 12).
    "evaluation_peer_scope": "Peers of a hospital in the evaluation (考核): the hospitals of its level in its region "
    "(the default) or in every region of the city (a city administrator runs it).",
    "evaluation_coefficient_floors": "Score bands of the points coefficient (奖惩系数): each band's lowest total, "
    "ascending from 0; a total exactly on a floor is in that band. Empty (the default): no coefficient.",
    "evaluation_coefficients": "The points coefficient of each band (one per floor, 0.5 to 1.5): it multiplies the "
    "hospital's points at the annual clearing before the point value.",
    # ---- Supervision rules (智能监管; issue 12) ----
    "supervision_split_days": "Split admission (分解住院): a readmission within this many "
    "days to the same DRG or ADRG, not planned (15).",
    "supervision_split_gap_min_days": "Split admission: any readmission after a gap of at least this many days (1) ...",
    "supervision_split_gap_max_days": "... and at most this many (2).",
    "supervision_frequent_days": "Frequent admission (频繁住院): a patient's inpatient days "
    "in the year above this (100).",
    "supervision_low_standard_max_los": "Low-standard admission (低标准入院): stays of at most this many days (2) ...",
    "supervision_low_standard_exam_share": "... whose examination and laboratory charges are at "
    "least this share of the cost (0.5) ...",
    "supervision_low_standard_max_treatment_share": "... with no surgery and treatment charges at most this "
    "share of the cost (0.1; 0: none at all).",
    "supervision_bed_hanging_min_los": "Bed-hanging (挂床住院): stays of at least this many days (3) ...",
    "supervision_bed_hanging_daily_charges": "... whose treatment, nursing and drug charges per day "
    "are below this, in yuan (50).",
    "supervision_vent_min_hours": "Upcoding (高套编码): ventilation hours above this (96) ...",
    "supervision_vent_max_hours": "... and at most this (100): just over the 96-hour split.",
    "supervision_peer_percentile": "A hospital's figure is compared with this percentile of its level's peers (0.9).",
    "supervision_upcoding_share_margin": "Upcoding: MCC/CC share above the peers' percentile plus this (0.1).",
    "supervision_upcoding_cmi_margin": "Upcoding: CMI above the peers' percentile times one plus this (0.1).",
    "supervision_upcoding_jump": "Upcoding: or the MCC/CC share up this much on last year (0.1).",
    "supervision_upcoding_z": "Upcoding: and the hospital's MCC cases above the compared share by at least this many "
    "binomial standard errors (3), so chance in a small hospital is not flagged.",
    "supervision_hospital_min_cases": "Hospital-level rules judge hospitals with at least "
    "this many cases in the year (30).",
    "supervision_own_pay_rise": "Cost shifting (转嫁费用): a hospital's own-pay share up "
    "this much on last year (0.02).",
    "supervision_own_pay_switch_share": "Cost shifting: a stay whose own-pay share of its cost is above this (0.3).",
    "supervision_shortfall_high_rw": "Service shortfall (服务不足): the RW from which a case is high-weight (2).",
    "supervision_shortfall_drop": "Service shortfall: high-RW share down at least this on last year (0.02) ...",
    "supervision_shortfall_readmission_rise": "... with 15/31-day readmissions up at least this (0.01).",
    "supervision_high_cost_ratio": "Cost per case (次均费用) above the level's average by more than this share (0.2).",
    "supervision_own_pay_max_share": "Own-pay outside the policy (政策外自费) above this share of total cost (0.08).",
    # Supervision signals and anomaly ranking (issue 12, "signals").
    "signal_high_percentile": "Hospital signals (PEPPER-style): a share at or above this percentile of the peers is "
    "flagged high (80).",
    "signal_low_percentile": "A share at or below this percentile of the peers is flagged low (20).",
    "signal_min_peers": "Hospitals of the same level needed before any signal is flagged (5).",
    "signal_years": "Years a signals run covers, its year and those before it, for the trend (3).",
    "signal_short_stay_max_los": "One-day stays (短住院): LOS at most this many days (1).",
    "signal_readmission_short_days": "The shorter readmission window of the signals, in days after discharge (15).",
    "signal_readmission_long_days": "The longer readmission window of the signals, in days after discharge (31).",
    "signal_error_prone_drgs": "Error-prone DRGs (易高套病组): their share of their ADRGs' cases is a signal.",
    "signal_anomaly_trees": "Trees of the anomaly model (IsolationForest) (100).",
    "signal_anomaly_max_samples": "Cases each tree of the anomaly model is fitted on, at most (256).",
    "signal_anomaly_seed": "Seed of the anomaly model: the same cases and seed give the same scores.",
    "signal_anomaly_gap_cap_days": "Cap of the readmission-gap feature (days); no earlier stay counts as the cap.",
}
V = {
    "split_admission": "分解住院: a split admission.",
    "bed_hanging": "挂床住院: a patient registered but not in hospital.",
    "no_indication": "无指征住院: an admission without indication.",
    "outpatient_shift": "门诊转住院: outpatient care billed as inpatient.",
    "own_pay_switch": "转嫁自费: covered costs shifted to the patient.",
    "upcoding": "高套分组: coding for a higher-paying group.",
    "fraud": "欺诈骗保: fraud.",
}
CHANGED = " Null: not changed by this version."
LEFT_OUT = " Leave out to keep the value in force (null is refused)."


def _f(name: str, suffix: str = "") -> Any:
    return strawberry.field(description=D[name] + suffix)


def _v(name: str, suffix: str = "") -> Any:
    return strawberry.field(description=V[name] + suffix)


# ---- output: the parameters in force -------------------------------------------------------------


@strawberry.type(description="Multiples of a case's points deducted for a confirmed violation, by kind.")
class ViolationMultiples:
    split_admission: Decimal = _v("split_admission")
    bed_hanging: Decimal = _v("bed_hanging")
    no_indication: Decimal = _v("no_indication")
    outpatient_shift: Decimal = _v("outpatient_shift")
    own_pay_switch: Decimal = _v("own_pay_switch")
    upcoding: Decimal = _v("upcoding")
    fraud: Decimal = _v("fraud")


@strawberry.type(description="Every policy parameter in force (SPEC defaults, then the city's, then the region's).")
class PolicyParameters:
    high_band_1_max_points: Decimal = _f("high_band_1_max_points")
    high_band_2_max_points: Decimal = _f("high_band_2_max_points")
    high_k_1: Decimal = _f("high_k_1")
    high_k_2: Decimal = _f("high_k_2")
    high_k_3: Decimal = _f("high_k_3")
    low_ratio: Decimal = _f("low_ratio")
    incomplete_discharge_ways: list[int] = _f("incomplete_discharge_ways")
    incomplete_max_ratio: Decimal = _f("incomplete_max_ratio")
    itemized_factor: Decimal = _f("itemized_factor")
    bed_day_min_los: int = _f("bed_day_min_los")
    readmission_factor: Decimal = _f("readmission_factor")
    readmission_days: int = _f("readmission_days")
    readmission_exempt_adrgs: list[str] = _f("readmission_exempt_adrgs")
    readmission_same_hospital: bool = _f("readmission_same_hospital")
    new_technology_taper: list[Decimal] = _f("new_technology_taper")
    tcm_equivalence: bool = _f("tcm_equivalence")
    violation_multiples: ViolationMultiples = _f("violation_multiples")
    withdrawn_points_leave_total: bool = _f("withdrawn_points_leave_total")
    reserve_ratio: Decimal = _f("reserve_ratio")
    saving_share_hospitals: Decimal = _f("saving_share_hospitals")
    overspend_share_fund: Decimal = _f("overspend_share_fund")
    prepay_ratio: Decimal = _f("prepay_ratio")
    min_prepay_ratio: Decimal = _f("min_prepay_ratio")
    merge_ledgers: bool = _f("merge_ledgers")
    rounding: Rounding = _f("rounding")
    carve_out_cross_province: bool = _f("carve_out_cross_province")
    provisional_pv_rule: ProvisionalPointValueRule = _f("provisional_pv_rule")
    provisional_point_value: Decimal = _f("provisional_point_value")
    review_quota_ratio: Decimal = _f("review_quota_ratio")
    review_min_experts: int = _f("review_min_experts")
    review_small_group_cases: int = _f("review_small_group_cases")
    review_long_stay_days: int = _f("review_long_stay_days")
    evaluation_peer_scope: EvaluationPeerScope = _f("evaluation_peer_scope")
    evaluation_coefficient_floors: list[Decimal] = _f("evaluation_coefficient_floors")
    evaluation_coefficients: list[Decimal] = _f("evaluation_coefficients")
    # Supervision rules (issue 12)
    supervision_split_days: int = _f("supervision_split_days")
    supervision_split_gap_min_days: int = _f("supervision_split_gap_min_days")
    supervision_split_gap_max_days: int = _f("supervision_split_gap_max_days")
    supervision_frequent_days: int = _f("supervision_frequent_days")
    supervision_low_standard_max_los: int = _f("supervision_low_standard_max_los")
    supervision_low_standard_exam_share: Decimal = _f("supervision_low_standard_exam_share")
    supervision_low_standard_max_treatment_share: Decimal = _f("supervision_low_standard_max_treatment_share")
    supervision_bed_hanging_min_los: int = _f("supervision_bed_hanging_min_los")
    supervision_bed_hanging_daily_charges: Decimal = _f("supervision_bed_hanging_daily_charges")
    supervision_vent_min_hours: Decimal = _f("supervision_vent_min_hours")
    supervision_vent_max_hours: Decimal = _f("supervision_vent_max_hours")
    supervision_peer_percentile: Decimal = _f("supervision_peer_percentile")
    supervision_upcoding_share_margin: Decimal = _f("supervision_upcoding_share_margin")
    supervision_upcoding_cmi_margin: Decimal = _f("supervision_upcoding_cmi_margin")
    supervision_upcoding_jump: Decimal = _f("supervision_upcoding_jump")
    supervision_upcoding_z: Decimal = _f("supervision_upcoding_z")
    supervision_hospital_min_cases: int = _f("supervision_hospital_min_cases")
    supervision_own_pay_rise: Decimal = _f("supervision_own_pay_rise")
    supervision_own_pay_switch_share: Decimal = _f("supervision_own_pay_switch_share")
    supervision_shortfall_high_rw: Decimal = _f("supervision_shortfall_high_rw")
    supervision_shortfall_drop: Decimal = _f("supervision_shortfall_drop")
    supervision_shortfall_readmission_rise: Decimal = _f("supervision_shortfall_readmission_rise")
    supervision_high_cost_ratio: Decimal = _f("supervision_high_cost_ratio")
    supervision_own_pay_max_share: Decimal = _f("supervision_own_pay_max_share")
    signal_high_percentile: Decimal = _f("signal_high_percentile")
    signal_low_percentile: Decimal = _f("signal_low_percentile")
    signal_min_peers: int = _f("signal_min_peers")
    signal_years: int = _f("signal_years")
    signal_short_stay_max_los: int = _f("signal_short_stay_max_los")
    signal_readmission_short_days: int = _f("signal_readmission_short_days")
    signal_readmission_long_days: int = _f("signal_readmission_long_days")
    signal_error_prone_drgs: list[str] = _f("signal_error_prone_drgs")
    signal_anomaly_trees: int = _f("signal_anomaly_trees")
    signal_anomaly_max_samples: int = _f("signal_anomaly_max_samples")
    signal_anomaly_seed: int = _f("signal_anomaly_seed")
    signal_anomaly_gap_cap_days: int = _f("signal_anomaly_gap_cap_days")

    @classmethod
    def of(cls, policy: Policy) -> PolicyParameters:
        values = {f.name: _typed(f.name, getattr(policy, f.name)) for f in dataclasses.fields(Policy)}
        values["violation_multiples"] = ViolationMultiples(**values["violation_multiples"])
        return cls(**values)

    @classmethod
    def of_json(cls, parameters: dict[str, Any]) -> PolicyParameters:
        """A recorded snapshot (Policy.as_dict(), as runs store it); a parameter added since it was
        recorded shows its default."""
        defaults = Policy()
        values = {}
        for f in dataclasses.fields(Policy):
            raw = parameters.get(f.name)
            values[f.name] = _typed(f.name, getattr(defaults, f.name) if raw is None else raw)
        values["violation_multiples"] = ViolationMultiples(
            **{**_typed("violation_multiples", defaults.violation_multiples), **values["violation_multiples"]}
        )
        return cls(**values)


# ---- output: what one version changed -------------------------------------------------------------


@strawberry.type(description="The violation multiples a policy version changed (null: not changed).")
class ViolationMultipleChanges:
    split_admission: Decimal | None = _v("split_admission", CHANGED)
    bed_hanging: Decimal | None = _v("bed_hanging", CHANGED)
    no_indication: Decimal | None = _v("no_indication", CHANGED)
    outpatient_shift: Decimal | None = _v("outpatient_shift", CHANGED)
    own_pay_switch: Decimal | None = _v("own_pay_switch", CHANGED)
    upcoding: Decimal | None = _v("upcoding", CHANGED)
    fraud: Decimal | None = _v("fraud", CHANGED)


@strawberry.type(description="The parameters one policy version set (null: left as they were).")
class PolicyParameterChanges:
    high_band_1_max_points: Decimal | None = _f("high_band_1_max_points", CHANGED)
    high_band_2_max_points: Decimal | None = _f("high_band_2_max_points", CHANGED)
    high_k_1: Decimal | None = _f("high_k_1", CHANGED)
    high_k_2: Decimal | None = _f("high_k_2", CHANGED)
    high_k_3: Decimal | None = _f("high_k_3", CHANGED)
    low_ratio: Decimal | None = _f("low_ratio", CHANGED)
    incomplete_discharge_ways: list[int] | None = _f("incomplete_discharge_ways", CHANGED)
    incomplete_max_ratio: Decimal | None = _f("incomplete_max_ratio", CHANGED)
    itemized_factor: Decimal | None = _f("itemized_factor", CHANGED)
    bed_day_min_los: int | None = _f("bed_day_min_los", CHANGED)
    readmission_factor: Decimal | None = _f("readmission_factor", CHANGED)
    readmission_days: int | None = _f("readmission_days", CHANGED)
    readmission_exempt_adrgs: list[str] | None = _f("readmission_exempt_adrgs", CHANGED)
    readmission_same_hospital: bool | None = _f("readmission_same_hospital", CHANGED)
    new_technology_taper: list[Decimal] | None = _f("new_technology_taper", CHANGED)
    tcm_equivalence: bool | None = _f("tcm_equivalence", CHANGED)
    violation_multiples: ViolationMultipleChanges | None = _f("violation_multiples", CHANGED)
    withdrawn_points_leave_total: bool | None = _f("withdrawn_points_leave_total", CHANGED)
    reserve_ratio: Decimal | None = _f("reserve_ratio", CHANGED)
    saving_share_hospitals: Decimal | None = _f("saving_share_hospitals", CHANGED)
    overspend_share_fund: Decimal | None = _f("overspend_share_fund", CHANGED)
    prepay_ratio: Decimal | None = _f("prepay_ratio", CHANGED)
    min_prepay_ratio: Decimal | None = _f("min_prepay_ratio", CHANGED)
    merge_ledgers: bool | None = _f("merge_ledgers", CHANGED)
    rounding: Rounding | None = _f("rounding", CHANGED)
    carve_out_cross_province: bool | None = _f("carve_out_cross_province", CHANGED)
    provisional_pv_rule: ProvisionalPointValueRule | None = _f("provisional_pv_rule", CHANGED)
    provisional_point_value: Decimal | None = _f("provisional_point_value", CHANGED)
    review_quota_ratio: Decimal | None = _f("review_quota_ratio", CHANGED)
    review_min_experts: int | None = _f("review_min_experts", CHANGED)
    review_small_group_cases: int | None = _f("review_small_group_cases", CHANGED)
    review_long_stay_days: int | None = _f("review_long_stay_days", CHANGED)
    evaluation_peer_scope: EvaluationPeerScope | None = _f("evaluation_peer_scope", CHANGED)
    evaluation_coefficient_floors: list[Decimal] | None = _f("evaluation_coefficient_floors", CHANGED)
    evaluation_coefficients: list[Decimal] | None = _f("evaluation_coefficients", CHANGED)
    # Supervision rules (issue 12)
    supervision_split_days: int | None = _f("supervision_split_days", CHANGED)
    supervision_split_gap_min_days: int | None = _f("supervision_split_gap_min_days", CHANGED)
    supervision_split_gap_max_days: int | None = _f("supervision_split_gap_max_days", CHANGED)
    supervision_frequent_days: int | None = _f("supervision_frequent_days", CHANGED)
    supervision_low_standard_max_los: int | None = _f("supervision_low_standard_max_los", CHANGED)
    supervision_low_standard_exam_share: Decimal | None = _f("supervision_low_standard_exam_share", CHANGED)
    supervision_low_standard_max_treatment_share: Decimal | None = _f(
        "supervision_low_standard_max_treatment_share", CHANGED
    )
    supervision_bed_hanging_min_los: int | None = _f("supervision_bed_hanging_min_los", CHANGED)
    supervision_bed_hanging_daily_charges: Decimal | None = _f("supervision_bed_hanging_daily_charges", CHANGED)
    supervision_vent_min_hours: Decimal | None = _f("supervision_vent_min_hours", CHANGED)
    supervision_vent_max_hours: Decimal | None = _f("supervision_vent_max_hours", CHANGED)
    supervision_peer_percentile: Decimal | None = _f("supervision_peer_percentile", CHANGED)
    supervision_upcoding_share_margin: Decimal | None = _f("supervision_upcoding_share_margin", CHANGED)
    supervision_upcoding_cmi_margin: Decimal | None = _f("supervision_upcoding_cmi_margin", CHANGED)
    supervision_upcoding_jump: Decimal | None = _f("supervision_upcoding_jump", CHANGED)
    supervision_upcoding_z: Decimal | None = _f("supervision_upcoding_z", CHANGED)
    supervision_hospital_min_cases: int | None = _f("supervision_hospital_min_cases", CHANGED)
    supervision_own_pay_rise: Decimal | None = _f("supervision_own_pay_rise", CHANGED)
    supervision_own_pay_switch_share: Decimal | None = _f("supervision_own_pay_switch_share", CHANGED)
    supervision_shortfall_high_rw: Decimal | None = _f("supervision_shortfall_high_rw", CHANGED)
    supervision_shortfall_drop: Decimal | None = _f("supervision_shortfall_drop", CHANGED)
    supervision_shortfall_readmission_rise: Decimal | None = _f("supervision_shortfall_readmission_rise", CHANGED)
    supervision_high_cost_ratio: Decimal | None = _f("supervision_high_cost_ratio", CHANGED)
    supervision_own_pay_max_share: Decimal | None = _f("supervision_own_pay_max_share", CHANGED)
    signal_high_percentile: Decimal | None = _f("signal_high_percentile", CHANGED)
    signal_low_percentile: Decimal | None = _f("signal_low_percentile", CHANGED)
    signal_min_peers: int | None = _f("signal_min_peers", CHANGED)
    signal_years: int | None = _f("signal_years", CHANGED)
    signal_short_stay_max_los: int | None = _f("signal_short_stay_max_los", CHANGED)
    signal_readmission_short_days: int | None = _f("signal_readmission_short_days", CHANGED)
    signal_readmission_long_days: int | None = _f("signal_readmission_long_days", CHANGED)
    signal_error_prone_drgs: list[str] | None = _f("signal_error_prone_drgs", CHANGED)
    signal_anomaly_trees: int | None = _f("signal_anomaly_trees", CHANGED)
    signal_anomaly_max_samples: int | None = _f("signal_anomaly_max_samples", CHANGED)
    signal_anomaly_seed: int | None = _f("signal_anomaly_seed", CHANGED)
    signal_anomaly_gap_cap_days: int | None = _f("signal_anomaly_gap_cap_days", CHANGED)

    @classmethod
    def of_json(cls, parameters: dict[str, Any]) -> PolicyParameterChanges:
        """The parameter JSON a version stored (checked when it was set)."""
        known = {f.name for f in dataclasses.fields(Policy)}
        values: dict[str, Any] = {k: _typed(k, v) for k, v in parameters.items() if k in known and v is not None}
        if "violation_multiples" in values:
            kinds = {f.name: None for f in dataclasses.fields(ViolationMultipleChanges)}
            values["violation_multiples"] = ViolationMultipleChanges(**{**kinds, **values["violation_multiples"]})
        return cls(**{**{f.name: None for f in dataclasses.fields(cls)}, **values})


# ---- input ----------------------------------------------------------------------------------------


@strawberry.input(description="Violation multiples to change (leave a kind out to keep it).")
class ViolationMultiplesInput:
    split_admission: strawberry.Maybe[Decimal] = _v("split_admission", LEFT_OUT)
    bed_hanging: strawberry.Maybe[Decimal] = _v("bed_hanging", LEFT_OUT)
    no_indication: strawberry.Maybe[Decimal] = _v("no_indication", LEFT_OUT)
    outpatient_shift: strawberry.Maybe[Decimal] = _v("outpatient_shift", LEFT_OUT)
    own_pay_switch: strawberry.Maybe[Decimal] = _v("own_pay_switch", LEFT_OUT)
    upcoding: strawberry.Maybe[Decimal] = _v("upcoding", LEFT_OUT)
    fraud: strawberry.Maybe[Decimal] = _v("fraud", LEFT_OUT)


@strawberry.input(
    description="Policy parameters to change; every one is optional (left out: the value in force stays). Decimals "
    "as strings. Ranges and the rules between parameters are checked and refused by field."
)
class PolicyParametersInput:
    high_band_1_max_points: strawberry.Maybe[Decimal] = _f("high_band_1_max_points", LEFT_OUT)
    high_band_2_max_points: strawberry.Maybe[Decimal] = _f("high_band_2_max_points", LEFT_OUT)
    high_k_1: strawberry.Maybe[Decimal] = _f("high_k_1", LEFT_OUT)
    high_k_2: strawberry.Maybe[Decimal] = _f("high_k_2", LEFT_OUT)
    high_k_3: strawberry.Maybe[Decimal] = _f("high_k_3", LEFT_OUT)
    low_ratio: strawberry.Maybe[Decimal] = _f("low_ratio", LEFT_OUT)
    incomplete_discharge_ways: strawberry.Maybe[list[int]] = _f("incomplete_discharge_ways", LEFT_OUT)
    incomplete_max_ratio: strawberry.Maybe[Decimal] = _f("incomplete_max_ratio", LEFT_OUT)
    itemized_factor: strawberry.Maybe[Decimal] = _f("itemized_factor", LEFT_OUT)
    bed_day_min_los: strawberry.Maybe[int] = _f("bed_day_min_los", LEFT_OUT)
    readmission_factor: strawberry.Maybe[Decimal] = _f("readmission_factor", LEFT_OUT)
    readmission_days: strawberry.Maybe[int] = _f("readmission_days", LEFT_OUT)
    readmission_exempt_adrgs: strawberry.Maybe[list[str]] = _f("readmission_exempt_adrgs", LEFT_OUT)
    readmission_same_hospital: strawberry.Maybe[bool] = _f("readmission_same_hospital", LEFT_OUT)
    new_technology_taper: strawberry.Maybe[list[Decimal]] = _f("new_technology_taper", LEFT_OUT)
    tcm_equivalence: strawberry.Maybe[bool] = _f("tcm_equivalence", LEFT_OUT)
    violation_multiples: strawberry.Maybe[ViolationMultiplesInput] = _f("violation_multiples", LEFT_OUT)
    withdrawn_points_leave_total: strawberry.Maybe[bool] = _f("withdrawn_points_leave_total", LEFT_OUT)
    reserve_ratio: strawberry.Maybe[Decimal] = _f("reserve_ratio", LEFT_OUT)
    saving_share_hospitals: strawberry.Maybe[Decimal] = _f("saving_share_hospitals", LEFT_OUT)
    overspend_share_fund: strawberry.Maybe[Decimal] = _f("overspend_share_fund", LEFT_OUT)
    prepay_ratio: strawberry.Maybe[Decimal] = _f("prepay_ratio", LEFT_OUT)
    min_prepay_ratio: strawberry.Maybe[Decimal] = _f("min_prepay_ratio", LEFT_OUT)
    merge_ledgers: strawberry.Maybe[bool] = _f("merge_ledgers", LEFT_OUT)
    rounding: strawberry.Maybe[Rounding] = _f("rounding", LEFT_OUT)
    carve_out_cross_province: strawberry.Maybe[bool] = _f("carve_out_cross_province", LEFT_OUT)
    provisional_pv_rule: strawberry.Maybe[ProvisionalPointValueRule] = _f("provisional_pv_rule", LEFT_OUT)
    provisional_point_value: strawberry.Maybe[Decimal] = _f("provisional_point_value", LEFT_OUT)
    review_quota_ratio: strawberry.Maybe[Decimal] = _f("review_quota_ratio", LEFT_OUT)
    review_min_experts: strawberry.Maybe[int] = _f("review_min_experts", LEFT_OUT)
    review_small_group_cases: strawberry.Maybe[int] = _f("review_small_group_cases", LEFT_OUT)
    review_long_stay_days: strawberry.Maybe[int] = _f("review_long_stay_days", LEFT_OUT)
    evaluation_peer_scope: strawberry.Maybe[EvaluationPeerScope] = _f("evaluation_peer_scope", LEFT_OUT)
    evaluation_coefficient_floors: strawberry.Maybe[list[Decimal]] = _f("evaluation_coefficient_floors", LEFT_OUT)
    evaluation_coefficients: strawberry.Maybe[list[Decimal]] = _f("evaluation_coefficients", LEFT_OUT)
    # Supervision rules (issue 12)
    supervision_split_days: strawberry.Maybe[int] = _f("supervision_split_days", LEFT_OUT)
    supervision_split_gap_min_days: strawberry.Maybe[int] = _f("supervision_split_gap_min_days", LEFT_OUT)
    supervision_split_gap_max_days: strawberry.Maybe[int] = _f("supervision_split_gap_max_days", LEFT_OUT)
    supervision_frequent_days: strawberry.Maybe[int] = _f("supervision_frequent_days", LEFT_OUT)
    supervision_low_standard_max_los: strawberry.Maybe[int] = _f("supervision_low_standard_max_los", LEFT_OUT)
    supervision_low_standard_exam_share: strawberry.Maybe[Decimal] = _f("supervision_low_standard_exam_share", LEFT_OUT)
    supervision_low_standard_max_treatment_share: strawberry.Maybe[Decimal] = _f(
        "supervision_low_standard_max_treatment_share", LEFT_OUT
    )
    supervision_bed_hanging_min_los: strawberry.Maybe[int] = _f("supervision_bed_hanging_min_los", LEFT_OUT)
    supervision_bed_hanging_daily_charges: strawberry.Maybe[Decimal] = _f(
        "supervision_bed_hanging_daily_charges", LEFT_OUT
    )
    supervision_vent_min_hours: strawberry.Maybe[Decimal] = _f("supervision_vent_min_hours", LEFT_OUT)
    supervision_vent_max_hours: strawberry.Maybe[Decimal] = _f("supervision_vent_max_hours", LEFT_OUT)
    supervision_peer_percentile: strawberry.Maybe[Decimal] = _f("supervision_peer_percentile", LEFT_OUT)
    supervision_upcoding_share_margin: strawberry.Maybe[Decimal] = _f("supervision_upcoding_share_margin", LEFT_OUT)
    supervision_upcoding_cmi_margin: strawberry.Maybe[Decimal] = _f("supervision_upcoding_cmi_margin", LEFT_OUT)
    supervision_upcoding_jump: strawberry.Maybe[Decimal] = _f("supervision_upcoding_jump", LEFT_OUT)
    supervision_upcoding_z: strawberry.Maybe[Decimal] = _f("supervision_upcoding_z", LEFT_OUT)
    supervision_hospital_min_cases: strawberry.Maybe[int] = _f("supervision_hospital_min_cases", LEFT_OUT)
    supervision_own_pay_rise: strawberry.Maybe[Decimal] = _f("supervision_own_pay_rise", LEFT_OUT)
    supervision_own_pay_switch_share: strawberry.Maybe[Decimal] = _f("supervision_own_pay_switch_share", LEFT_OUT)
    supervision_shortfall_high_rw: strawberry.Maybe[Decimal] = _f("supervision_shortfall_high_rw", LEFT_OUT)
    supervision_shortfall_drop: strawberry.Maybe[Decimal] = _f("supervision_shortfall_drop", LEFT_OUT)
    supervision_shortfall_readmission_rise: strawberry.Maybe[Decimal] = _f(
        "supervision_shortfall_readmission_rise", LEFT_OUT
    )
    supervision_high_cost_ratio: strawberry.Maybe[Decimal] = _f("supervision_high_cost_ratio", LEFT_OUT)
    supervision_own_pay_max_share: strawberry.Maybe[Decimal] = _f("supervision_own_pay_max_share", LEFT_OUT)
    signal_high_percentile: strawberry.Maybe[Decimal] = _f("signal_high_percentile", LEFT_OUT)
    signal_low_percentile: strawberry.Maybe[Decimal] = _f("signal_low_percentile", LEFT_OUT)
    signal_min_peers: strawberry.Maybe[int] = _f("signal_min_peers", LEFT_OUT)
    signal_years: strawberry.Maybe[int] = _f("signal_years", LEFT_OUT)
    signal_short_stay_max_los: strawberry.Maybe[int] = _f("signal_short_stay_max_los", LEFT_OUT)
    signal_readmission_short_days: strawberry.Maybe[int] = _f("signal_readmission_short_days", LEFT_OUT)
    signal_readmission_long_days: strawberry.Maybe[int] = _f("signal_readmission_long_days", LEFT_OUT)
    signal_error_prone_drgs: strawberry.Maybe[list[str]] = _f("signal_error_prone_drgs", LEFT_OUT)
    signal_anomaly_trees: strawberry.Maybe[int] = _f("signal_anomaly_trees", LEFT_OUT)
    signal_anomaly_max_samples: strawberry.Maybe[int] = _f("signal_anomaly_max_samples", LEFT_OUT)
    signal_anomaly_seed: strawberry.Maybe[int] = _f("signal_anomaly_seed", LEFT_OUT)
    signal_anomaly_gap_cap_days: strawberry.Maybe[int] = _f("signal_anomaly_gap_cap_days", LEFT_OUT)


def input_json(value: Any) -> Any:
    """A typed input as the JSON the platform's strict readers take: snake_case keys as the Python
    names, decimals as strings, enums as their values; fields left out (None, or an unset Maybe)
    are left out. Nested inputs, lists and Some(...) are unwrapped."""
    if isinstance(value, strawberry.Some):
        return input_json(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None or v is strawberry.UNSET:
                continue
            out[f.name] = input_json(v)
        return out
    if isinstance(value, list | tuple):
        return [input_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def policy_json(parameters: PolicyParametersInput | None) -> dict[str, Any]:
    return input_json(parameters) if parameters is not None else {}


# ---- the parameter values as GraphQL outputs --------------------------------------------------------

_DEFAULTS = Policy()
_ENUMS = {
    "rounding": Rounding,
    "provisional_pv_rule": ProvisionalPointValueRule,
    "evaluation_peer_scope": EvaluationPeerScope,
}


def _typed(name: str, value: Any) -> Any:
    """A parameter's value (as Policy holds it, or as JSON) typed as its GraphQL field."""
    default = getattr(_DEFAULTS, name)
    if name in _ENUMS:
        return _ENUMS[name](value.value if isinstance(value, Enum) else value)
    if isinstance(default, dict):
        return {k: Decimal(str(v)) for k, v in dict(value).items() if k in default}
    if isinstance(default, tuple):
        kind = tuple_element(name)
        return [Decimal(str(x)) if kind is Decimal else kind(x) for x in value]
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, Decimal):
        return Decimal(str(value))
    if isinstance(default, int):
        return int(value)
    return value


@strawberry.type(description="The parameters a run used for one ledger, with the versions they came from.")
class LedgerPolicy:
    ledger: Ledger
    parameters: PolicyParameters
    city_version: int | None = strawberry.field(description="The city's defaults version (null: SPEC defaults).")
    region_version: int | None = strawberry.field(description="The region's own version (null: none).")

    @classmethod
    def of_json(cls, ledger: str, snapshot: dict[str, Any]) -> LedgerPolicy:
        return cls(
            ledger=Ledger(ledger),
            parameters=PolicyParameters.of_json(snapshot.get("parameters") or {}),
            city_version=snapshot.get("city_version"),
            region_version=snapshot.get("region_version"),
        )


@strawberry.type(description="A version of the city's defaults or of a region's parameters.")
class PolicyChange:
    version: int
    level: PolicyLevel
    parameters: PolicyParameterChanges = strawberry.field(description="What this version set.")
    reason: str
    created_by: str
    created_at: datetime.datetime


@strawberry.type(description="The parameters in force: SPEC defaults, then the city's, then the region's.")
class EffectivePolicy:
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    year: int
    ledger: Ledger
    parameters: PolicyParameters
    city_version: int | None = strawberry.field(description="The city's defaults version in force (null: none).")
    region_version: int | None = strawberry.field(description="The region's own version in force (null: none).")
    versions: strawberry.Private[list[tuple[str, Any]]]

    @strawberry.field(description="Every version of the city's defaults and the region's own, oldest first.")
    def changes(self, first: int | None = 50, after: str | None = None) -> Connection[PolicyChange]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, str, pagination.key_int)

        def key(x: tuple[str, Any]) -> tuple[datetime.datetime, str, int]:
            return (x[1].created_at, x[0], x[1].version)

        rows = sorted(self.versions, key=key)
        if cursor:
            rows = [x for x in rows if key(x) > (cursor[0], cursor[1], cursor[2])]
        return pagination.build(
            rows[: limit + 1],
            limit,
            lambda x: [x[1].created_at.isoformat(), x[0], x[1].version],
            lambda x: PolicyChange(
                version=x[1].version,
                level=PolicyLevel(x[0]),
                parameters=PolicyParameterChanges.of_json(x[1].parameters),
                reason=x[1].reason,
                created_by=x[1].created_by,
                created_at=x[1].created_at,
            ),
            after=after,
        )

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.input
class SetPolicyInput:
    tenant: str = strawberry.field(description="The city (its defaults) or a region (its own).")
    year: int
    ledger: Ledger
    parameters: PolicyParametersInput = strawberry.field(description="The parameters to change.")
    reason: str


@strawberry.type
class PolicyPayload:
    policy: EffectivePolicy
