"""The rules as set-wise SQL: each rule is one statement that inserts its hits (a hospital, the key
that makes the finding's fingerprint, the cases, the figures) into the run's staging table
`sup_hits`, over the period's current, active cases and their grouping under the run's scheme
version; nothing is judged case by case in Python. cases.py holds the case-level rules, hospitals.py
the hospital-level signals (over the per-hospital figures staged once in `sup_hstats`)."""

from __future__ import annotations

from collections.abc import Callable

from dianshu.supervision.rules import cases, hospitals

# code -> the statement's SQL (binds: see run.py's params()), in the catalogue's order.
RULES: dict[str, Callable[[], str]] = {
    "split_admission": cases.split_admission,
    "frequent_admission": cases.frequent_admission,
    "low_standard_admission": cases.low_standard_admission,
    "bed_hanging": cases.bed_hanging,
    "upcoding_ventilation": cases.upcoding_ventilation,
    "upcoding_mcc_share": hospitals.upcoding_mcc_share,
    "upcoding_cmi": hospitals.upcoding_cmi,
    "own_pay_rise": hospitals.own_pay_rise,
    "own_pay_switch": cases.own_pay_switch,
    "service_shortfall": hospitals.service_shortfall,
    "high_cost": hospitals.high_cost,
    "own_pay_over": hospitals.own_pay_over,
}
# Rules that need the relative weights of a payment standard in force.
NEEDS_STANDARD = frozenset({"upcoding_cmi", "service_shortfall"})
# Case-level rules judged over the whole year (not one case of a month): a months-limited run
# re-judges them for the year.
YEAR_WIDE = frozenset({"frequent_admission"})

HITS_TABLE = """
create temporary table sup_hits (
  tenant_id text not null, hospital_id text not null, rule text not null, level text not null,
  severity text not null, key text not null, patient_id text, month int,
  list_ids text[] not null, case_ids bigint[] not null, subjects text[] not null,
  figure numeric, threshold numeric, peer_value numeric, unit text not null, evidence jsonb not null,
  fingerprint text
) on commit drop"""
