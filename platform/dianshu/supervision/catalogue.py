"""The rule catalogue (智能监管规则目录): every rule's stable code, names, level, default severity, the
violation kind a confirmation writes on its cases (None: a hospital-level signal with no case to
mark, or a pattern that is no violation of its own; for a hospital-level upcoding signal, on the
evidence cases the confirming auditor names) and its policy parameters
(dianshu.settlement.arithmetic.policy.Policy, prefixed supervision_). Printed by `dianshu supervision
rules`, served as supervisionRules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name_zh: str
    name_en: str
    level: str  # case | hospital
    severity: str  # low | medium | high
    violation: str | None  # the case_violation kind a confirmation writes (hospital-level: on the named cases)
    parameters: tuple[str, ...]
    description: str


RULES: tuple[Rule, ...] = (
    Rule(
        "split_admission",
        "分解住院",
        "Split admission",
        "case",
        "high",
        "split_admission",
        ("supervision_split_days", "supervision_split_gap_min_days", "supervision_split_gap_max_days"),
        "The same patient readmitted to the same hospital within supervision_split_days of discharge to the "
        "same DRG or ADRG without a planned-readmission flag; or readmitted after a gap of "
        "supervision_split_gap_min_days to supervision_split_gap_max_days days whatever the group. Cases: the "
        "first stay and the readmission; a confirmation marks the readmission.",
    ),
    Rule(
        "frequent_admission",
        "频繁住院",
        "Frequent admission",
        "case",
        "medium",
        None,
        ("supervision_frequent_days",),
        "A patient with more than supervision_frequent_days inpatient days (sum of LOS) in the year, at one "
        "hospital, or over all hospitals of the region (one finding per hospital the patient stayed in). "
        "Across regions of a city is not checked: a run is per region.",
    ),
    Rule(
        "low_standard_admission",
        "低标准入院",
        "Low-standard admission",
        "case",
        "medium",
        "no_indication",
        (
            "supervision_low_standard_max_los",
            "supervision_low_standard_exam_share",
            "supervision_low_standard_max_treatment_share",
        ),
        "A stay of at most supervision_low_standard_max_los days with no procedure and no surgery charges, "
        "treatment charges at most supervision_low_standard_max_treatment_share of the cost (0: none) and "
        "examination + laboratory charges at least supervision_low_standard_exam_share of it.",
    ),
    Rule(
        "bed_hanging",
        "挂床住院",
        "Bed-hanging",
        "case",
        "medium",
        "bed_hanging",
        ("supervision_bed_hanging_min_los", "supervision_bed_hanging_daily_charges"),
        "A stay of at least supervision_bed_hanging_min_los days whose treatment + nursing + drug charges per "
        "day are below supervision_bed_hanging_daily_charges yuan. An approximation: the settlement list has "
        "charges per stay, not per day, so days without such charges cannot be seen one by one.",
    ),
    Rule(
        "upcoding_ventilation",
        "高套编码(呼吸机时长)",
        "Upcoding: ventilation hours just over 96",
        "case",
        "medium",
        "upcoding",
        ("supervision_vent_min_hours", "supervision_vent_max_hours"),
        "Invasive ventilation hours above supervision_vent_min_hours and at most supervision_vent_max_hours: "
        "just over the 96-hour line that moves a stay to a higher-paying group.",
    ),
    Rule(
        "upcoding_mcc_share",
        "高套编码(并发症比例)",
        "Upcoding: MCC/CC share far above peers",
        "hospital",
        "high",
        "upcoding",
        (
            "supervision_peer_percentile",
            "supervision_upcoding_share_margin",
            "supervision_upcoding_jump",
            "supervision_upcoding_z",
            "supervision_hospital_min_cases",
        ),
        "Among a hospital's cases in split ADRGs (DRG ending 1, 3 or 5), its share grouped with MCC (ending 1) "
        "or with MCC or CC (ending 1 or 3) above its level peers' supervision_peer_percentile percentile plus "
        "supervision_upcoding_share_margin, or up supervision_upcoding_jump on last year; in either case by at "
        "least supervision_upcoding_z binomial standard errors (the excess is not chance in a small hospital). "
        "Cases: the year's MCC cases (MCC or CC cases for the MCC/CC share), as evidence; a confirmation marks "
        "those the audit found upcoded, named by the auditor.",
    ),
    Rule(
        "upcoding_cmi",
        "高套编码(CMI)",
        "Upcoding: CMI far above peers",
        "hospital",
        "medium",
        "upcoding",
        ("supervision_peer_percentile", "supervision_upcoding_cmi_margin", "supervision_hospital_min_cases"),
        "A hospital's CMI (mean RW = base points / 100 of the standard in force) above its level peers' "
        "supervision_peer_percentile percentile × (1 + supervision_upcoding_cmi_margin). Needs a published "
        "payment standard in force; without one the rule is skipped. Cases: the year's cases whose RW is above the "
        "peers' CMI, as evidence; a confirmation marks those the audit found upcoded, named by the auditor.",
    ),
    Rule(
        "own_pay_rise",
        "转嫁费用(自费比例上升)",
        "Cost shifting: own-pay share rising",
        "hospital",
        "medium",
        None,
        ("supervision_own_pay_rise", "supervision_hospital_min_cases"),
        "A hospital's own-pay share of total cost up at least supervision_own_pay_rise on last year. Outpatient "
        "costs just before admission (门诊转嫁) need outpatient claims, which the platform does not hold: that "
        "variant is left out.",
    ),
    Rule(
        "own_pay_switch",
        "转嫁费用(自费转换)",
        "Cost shifting: switching to own-pay",
        "case",
        "medium",
        "own_pay_switch",
        ("supervision_own_pay_switch_share",),
        "A stay whose own-pay (outside the catalogue) share of its cost is above supervision_own_pay_switch_share.",
    ),
    Rule(
        "service_shortfall",
        "服务不足",
        "Service shortfall",
        "hospital",
        "medium",
        None,
        (
            "supervision_shortfall_high_rw",
            "supervision_shortfall_drop",
            "supervision_shortfall_readmission_rise",
            "supervision_hospital_min_cases",
        ),
        "A hospital whose share of high-weight cases (RW ≥ supervision_shortfall_high_rw) fell at least "
        "supervision_shortfall_drop on last year while its share of stays followed by an unplanned readmission "
        "within 31 days (looked for into the next January) rose at least supervision_shortfall_readmission_rise. "
        "Needs a payment standard.",
    ),
    Rule(
        "high_cost",
        "次均费用超标",
        "Cost per case above the level's average",
        "hospital",
        "low",
        None,
        ("supervision_high_cost_ratio", "supervision_hospital_min_cases"),
        "A hospital's cost per case more than supervision_high_cost_ratio above the average of the hospitals of "
        "its level in the region (their total cost over their cases).",
    ),
    Rule(
        "own_pay_over",
        "政策外自费超标",
        "Own-pay outside the policy over its share",
        "hospital",
        "low",
        None,
        ("supervision_own_pay_max_share", "supervision_hospital_min_cases"),
        "A hospital's own-pay (自费, outside the catalogue) above supervision_own_pay_max_share of its total cost.",
    ),
)
BY_CODE = {r.code: r for r in RULES}


def rule(code: str) -> Rule:
    return BY_CODE[code]
