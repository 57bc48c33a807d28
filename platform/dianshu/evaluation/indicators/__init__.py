"""Computed evaluation indicators (catalogue.csv: every indicator whose source is not entered or
training), per hospital and year, set-wise in SQL (queries.py) with the formulas as plain
arithmetic (formulas.py). The one entry point:

    async def compute_indicators(session, tenants, year) -> IndicatorSet

IndicatorSet.values[(hospital_id, computation)] = Measure(value, numerator, denominator): Decimals,
the value rounded half-up to 4 places once (percent indicators × 100), None when the denominator is
0 or there is nothing to measure; .cases[hospital_id] the year's cases; .hospitals[hospital_id] =
(tenant, level). Every hospital of the tenants appears (the hospital table), with or without cases.

Scope. It runs under the caller's scope (row-level security applies) and needs a scope that sees
every hospital of its tenants: a region admin (its region), the city admin (its regions), a job's
system scope. A hospital's scope is refused: it would see only its own cases, so the peers of
time_index and of the risk groups (and nothing else but its own values) would be computed wrongly.

Definitions (each formula is catalogue.csv's formula_en; the words below pin down its terms):
- The year's cases: the current, active version of each stay (cases/current.py) of a hospital of
  the tenants, discharged in the year (discharge_month). Last year's cases likewise (A08, F03, F08).
- Grouping: case_grouping under the scheme version of the payment standard in force on the year's
  last day in the tenant's city (standards/in_force.py; the annual clearing's standard). A case not
  grouped under that version counts as not grouped. "Grouped into a DRG" = grouped and neither
  ungroupable (0000) nor ambiguous (xQY) (grouping/drg_codes.py). RW = the standard's base_points of
  the DRG / 100 and the DRG's standard average cost = its avg_cost; a DRG the standard has no
  parameters for has no RW: its cases are left out of A01, A04 and A05 (and count in B11's
  denominator, never in its numerator).
- A02 drg_count, A04 total_weight: the value is the count / sum itself (no denominator); None for a
  hospital without cases.
- A06 time_index: Σ days of the hospital's DRG-grouped cases ÷ Σ over its DRGs (cases × the DRG's
  average LOS over all peer cases). Peers: the hospitals of the same level among all hospitals of
  `tenants` (the hospital itself included).
- B12 cost_cv: over the hospital's DRGs with at least 5 cases, the case-weighted mean of sample
  standard deviation (n − 1, as the standard's calibration computes cv) ÷ mean of the cases' cost.
- D01 / D04: per level, each DRG's mortality = its peer cases that died (discharge way 5) ÷ its
  peer cases; over the level's DRGs with at least one death (each once), the mean and population
  standard deviation of ln(mortality) (the national tertiary hospital performance method; a DRG
  without a death is risk level 0, in neither band). Low-risk: ln(mortality) < mean − 1 SD;
  mid/high-risk: ln(mortality) > mean + 1 SD. The indicator: the hospital's deaths ÷ its cases in
  those DRGs × 100.
- D02 / D03: a stay counts (once, as the first stay) when the same patient's next stay at the same
  hospital (by admission time) is admitted 0 to 15 (D02, in the same DRG, the stay grouped into a
  DRG) or 0 to 31 (D03, any group) calendar days after this discharge, and that next stay is not
  flagged as a planned readmission. The next stay may be discharged after the year (stays admitted
  by 31 January of the next year are looked at). No group is exempt (settlement's exempt ADRGs are
  a payment rule, not this indicator's).
- Points (B01 B02 B04 B08 B09 C02): the tenant's latest points run of the year (highest
  through_month, then highest version); "cases" there are the run's cases of the hospital.
  B01/B02/B04: case_point.type high_outlier / low_outlier / itemized. B08 and B09: Σ case points
  (case_point.points, the points counted, before the hospital's deductions); B09 against last
  year's latest run. C02: (Σ original of the run's cases withdrawn by a confirmed violation (points
  0 and a case_violation row) + Σ deduction) ÷ Σ original × 100. No run: None.
- Findings (C01 C06 C07 C09 C10): case_violation (confirmed violations, one per list id) joined to
  the year's cases by (hospital, list id): any kind, no_indication, split_admission, serious,
  upcoding. C03: the year's audit_deduction amounts ÷ Σ fund_pay of the year's cases × 100.
- Reviews (B06 B07): special_review joined to the year's cases by (hospital, list id). B06 counts
  every application (any state) ÷ DRG-grouped cases. B07: decided = an outcome is set and the
  review was not rejected (decided, appealed, final); accepted = outcome add_points or pay_by_item.
- C04: ingestion batches created in the year (China time, UTC+8) that finished (done or refused;
  pending and failed ones are not judged). A hospital's own batch: (rows_accepted + rows_corrected +
  rows_unchanged) ÷ rows_total. A region's batch (hospital_id null) is counted per row hospital as
  far as it is recorded per hospital: the case versions it created (accepted + corrected) passed,
  and its refused rows (ingestion_error.row_hospital) were sent; its unchanged rows and the good
  rows of a batch refused whole are recorded for no hospital and are left out.
- C05: the stay's version 1 arrived (created_at, China time) within 30 calendar days after the
  discharge date.
- Charges (F01 F02 F05): case_record.charges in the order of cases/layout.py: examination (3rd) +
  laboratory (4th); materials (8th); western (9th) + herbal (10th) + patent drugs (11th).
- F06: cases with a dated procedure: the earliest procedure date − the admission date (in days).
- B10: cases with any procedure; of them, those with a procedure of level 3 or 4.
- Performance: a handful of set-wise statements, never per hospital or per case in Python: one
  statement reads and joins the year's stays once (a materialized CTE, in parallel workers) and
  groups them per hospital, per patient sequence (the readmission window) and per hospital × DRG
  (the peers); one small statement each for corrected stays' arrival, reviews, points runs, last
  year's cases, audit deductions and ingestion batches. work_mem is raised for these statements
  only (and restored). No index is added.
- Growth (A08 F03 F08 B09): (this ÷ last − 1) × 100, None without last year's figure; F03's
  numerator and denominator are the two costs per case (4 places), its value from the exact totals."""

from dianshu.evaluation.indicators.compute import IndicatorSet, IndicatorsRefused, compute_indicators
from dianshu.evaluation.indicators.formulas import COMPUTATIONS, FORMULAS, Figures, Measure, measures

__all__ = [
    "COMPUTATIONS",
    "FORMULAS",
    "Figures",
    "IndicatorSet",
    "IndicatorsRefused",
    "Measure",
    "compute_indicators",
    "measures",
]
