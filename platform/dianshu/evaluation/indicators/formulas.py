"""The computed indicators' formulas as plain arithmetic on a hospital's figures (no database).

`Figures` holds one hospital's sums and counts for the year (what the set-wise queries return, by
name); each computation of the catalogue is a function from Figures to a Measure. A value is formed
from exact Decimals and rounded half-up to 4 places once; it is None when its denominator is 0 or
there is nothing to measure (a growth without last year's figure, a count without cases)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)
ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Measure:
    """An indicator's value with the numerator and denominator it was formed from."""

    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None


def q4(x: Decimal) -> Decimal:
    return x.quantize(PLACES, ROUND_HALF_UP)


def _d(x: object) -> Decimal | None:
    if x is None:
        return None
    return x if isinstance(x, Decimal) else Decimal(x)  # type: ignore[arg-type]


def ratio(numerator: object, denominator: object, scale: Decimal = ONE) -> Measure:
    """numerator ÷ denominator × scale (100 for a percent); None when the denominator is 0 or missing."""
    n, d = _d(numerator), _d(denominator)
    n = ZERO if n is None and d else n
    if n is None or d is None or d == 0:
        return Measure(None, n, d)
    with localcontext() as ctx:
        ctx.prec = 40
        return Measure(q4(n / d * scale), n, d)


def growth(this: object, last: object) -> Measure:
    """(this ÷ last − 1) × 100; None without last year's figure (or when it is 0)."""
    t, la = _d(this), _d(last)
    if t is None or la is None or la == 0:
        return Measure(None, t, la)
    with localcontext() as ctx:
        ctx.prec = 40
        return Measure(q4((t / la - ONE) * HUNDRED), t, la)


def growth_per_case(cost: object, cases: object, last_cost: object, last_cases: object) -> Measure:
    """(this year's cost per case ÷ last year's − 1) × 100, from the exact totals; the measure's
    numerator and denominator are the two costs per case (to 4 places, for display)."""
    c, n, lc, ln = (_d(x) for x in (cost, cases, last_cost, last_cases))
    if not n or not ln or c is None or lc is None:
        return Measure(None, None if not n or c is None else q4(c / n), None if not ln or lc is None else q4(lc / ln))
    with localcontext() as ctx:
        ctx.prec = 40
        if lc == 0:
            return Measure(None, q4(c / n), ZERO)
        return Measure(q4((c * ln / (n * lc) - ONE) * HUNDRED), q4(c / n), q4(lc / ln))


def amount(value: object, cases: object) -> Measure:
    """A count or sum as the value itself (no denominator); None for a hospital without cases."""
    if not cases:
        return Measure(None, None, None)
    v = _d(value) or ZERO
    return Measure(q4(v), v, None)


class Figures(Mapping[str, object]):
    """One hospital's figures by name; a figure no query produced is 0 (or None for `optional`)."""

    OPTIONAL = frozenset({"last_points", "last_cases", "last_cost"})

    def __init__(self, values: Mapping[str, object]) -> None:
        self._v = dict(values)

    def __getitem__(self, key: str) -> object:
        if key in self._v and self._v[key] is not None:
            return self._v[key]
        return None if key in self.OPTIONAL else 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._v)

    def __len__(self) -> int:
        return len(self._v)


def _pct(num: str, den: str) -> Callable[[Figures], Measure]:
    return lambda f: ratio(f[num], f[den], HUNDRED)


def _per(num: str, den: str) -> Callable[[Figures], Measure]:
    return lambda f: ratio(f[num], f[den])


def _sum(*names: str) -> Callable[[Figures], object]:
    return lambda f: sum((_d(f[n]) or ZERO for n in names), ZERO)


def _pct_of(parts: Callable[[Figures], object], den: str) -> Callable[[Figures], Measure]:
    return lambda f: ratio(parts(f), f[den], HUNDRED)


# computation name (catalogue.csv) -> its formula. The names the figures come from are those of the
# queries (queries.py); the package docstring defines each figure.
FORMULAS: dict[str, Callable[[Figures], Measure]] = {
    # A: comprehensive
    "cmi": _per("rw_sum", "weighed"),
    "drg_count": lambda f: amount(f["drgs"], f["cases"]),
    "grouping_rate": _pct("grouped", "cases"),
    "total_weight": lambda f: amount(f["rw_sum"], f["cases"]),
    "cost_index": _per("weighed_cost", "expected_cost"),
    "time_index": _per("peer_days", "expected_days"),
    "admissions_per_patient": _per("cases", "patients"),
    "total_cost_growth": lambda f: growth(f["cost"], f["last_cost"] if f["last_cases"] else None),
    # B: DRG
    "high_outlier_share": _pct("high_outliers", "run_cases"),
    "low_outlier_share": _pct("low_outliers", "run_cases"),
    "ambiguous_share": _pct("qy", "cases"),
    "itemized_share": _pct("itemized", "run_cases"),
    "cc_mcc_share": _pct("cc_mcc", "grouped"),
    "review_share": _pct("reviews", "grouped"),
    "review_acceptance_rate": _pct("reviews_accepted", "reviews_decided"),
    "points_per_case": _per("points", "run_cases"),
    "points_growth": lambda f: growth(f["points"] if f["run_cases"] else None, f["last_points"]),
    "major_surgery_share": _pct("major_cases", "proc_cases"),
    "high_rw_share": _pct("high_rw", "grouped"),
    "cost_cv": _per("cv_sum", "cv_cases"),
    # C: audit
    "violation_share": _pct("violations", "cases"),
    "deducted_points_share": _pct_of(_sum("withdrawn", "deducted"), "original"),
    "audit_deduction_share": _pct("audit_deductions", "fund_pay"),
    "list_qc_pass_rate": _pct("rows_passed", "rows_total"),
    "list_timeliness": _pct("timely", "cases"),
    "low_standard_share": _pct("no_indication", "cases"),
    "split_admission_share": _pct("split_admission", "cases"),
    "serious_violation_share": _pct("serious", "cases"),
    "upcoding_share": _pct("upcoding", "cases"),
    # D: outcome
    "low_risk_mortality": _pct("low_deaths", "low_cases"),
    "readmit_15_same_drg": _pct("readmit_15", "cases"),
    "readmit_31_unplanned": _pct("readmit_31", "cases"),
    "mid_high_risk_mortality": _pct("high_deaths", "high_cases"),
    "personal_burden_share": _pct_of(_sum("self_pay", "own_pay"), "cost"),
    "own_pay_share": _pct("own_pay", "cost"),
    "avg_los": _per("days", "cases"),
    # F: process
    "drug_share": _pct("drugs", "cost"),
    "consumables_share": _pct("materials", "cost"),
    "cost_per_case_growth": lambda f: growth_per_case(f["cost"], f["cases"], f["last_cost"], f["last_cases"]),
    "short_stay_share": _pct("short_stays", "cases"),
    "exam_share": _pct("exam", "cost"),
    "preop_los": _per("preop_days", "preop_cases"),
    "admissions_growth": lambda f: growth(f["cases"], f["last_cases"]),
}

COMPUTATIONS: tuple[str, ...] = tuple(FORMULAS)


def measures(figures: Figures) -> dict[str, Measure]:
    """Every computed indicator of one hospital."""
    return {name: formula(figures) for name, formula in FORMULAS.items()}
