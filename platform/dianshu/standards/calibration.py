"""Calibration (SPEC section 2): a draft payment standard from one to three history years.

Pure arithmetic on plain values, exact in Decimal:
- Each DRG's costs are trimmed per year: a stay outside Q1 − k·IQR … Q3 + k·IQR (k default 1.5;
  quartiles by linear interpolation between order statistics) is left out; fewer than 4 stays are
  kept as they are.
- Year weights (default 1:2:7, oldest to newest; with fewer years the newest weights are used):
  a DRG's average cost is the weighted mean of its yearly trimmed means over the years it has
  stays; avg_cost_all is the weighted mean of the yearly trimmed means over all stays.
- Averages are published to the fen (half-up); base points are computed from the published
  figures, b = avg_cost_g / avg_cost_all × 100, to 4 places half-up, so anyone can reproduce them.
- A DRG is stable when its trimmed stays (all years) number more than 5 and their coefficient of
  variation (sample standard deviation / mean) is below 1.
- Bed-day DRGs: average daily cost = weighted mean over years of Σ cost / Σ LOS of trimmed stays;
  b_day = avg_daily_cost / avg_cost_all × 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
POINT = Decimal("0.0001")
DEFAULT_YEAR_WEIGHTS = (Decimal(1), Decimal(2), Decimal(7))


@dataclass(frozen=True)
class Stay:
    year: int
    drg: str
    cost: Decimal
    los: int


@dataclass(frozen=True)
class CalibrationParams:
    years: tuple[int, ...]
    year_weights: tuple[Decimal, ...] | None = None  # default: the last len(years) of 1:2:7
    iqr_k: Decimal = Decimal("1.5")
    min_cases: int = 5  # stable needs more than this many trimmed stays
    max_cv: Decimal = Decimal(1)
    bed_day_drgs: frozenset[str] = frozenset()

    def weights(self) -> dict[int, Decimal]:
        years = sorted(self.years)
        if not 1 <= len(years) <= 3:
            raise ValueError("years: one to three history years")
        w = self.year_weights or DEFAULT_YEAR_WEIGHTS[-len(years) :]
        if len(w) != len(years) or any(x <= 0 for x in w):
            raise ValueError("year_weights: one positive weight per year")
        return dict(zip(years, w, strict=True))


@dataclass
class DrgCalibration:
    drg: str
    cases: int  # trimmed stays, all years
    cases_trimmed: int  # stays left out as outliers
    avg_cost: Decimal
    avg_los: Decimal
    cv: Decimal | None
    stable: bool
    base_points: Decimal = Decimal(0)
    bed_day: bool = False
    avg_daily_cost: Decimal | None = None
    base_points_per_day: Decimal | None = None


@dataclass
class CalibrationResult:
    avg_cost_all: Decimal
    groups: dict[str, DrgCalibration]
    stays: int
    stays_trimmed: int
    weights: dict[int, Decimal] = field(default_factory=dict)


def quartile(sorted_values: Sequence[Decimal], q: Decimal) -> Decimal:
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    frac = pos - lo
    if lo + 1 >= len(sorted_values):
        return sorted_values[lo]
    return sorted_values[lo] + (sorted_values[lo + 1] - sorted_values[lo]) * frac


def trim(stays: Sequence[Stay], k: Decimal) -> tuple[list[Stay], int]:
    """Keep the stays inside Q1 − k·IQR … Q3 + k·IQR (all kept when fewer than 4)."""
    if len(stays) < 4:
        return list(stays), 0
    costs = sorted(s.cost for s in stays)
    q1, q3 = quartile(costs, Decimal("0.25")), quartile(costs, Decimal("0.75"))
    lo, hi = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    kept = [s for s in stays if lo <= s.cost <= hi]
    return kept, len(stays) - len(kept)


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _weighted(per_year: dict[int, Decimal], weights: dict[int, Decimal]) -> Decimal:
    total_w = sum(weights[y] for y in per_year)
    return sum((weights[y] * v for y, v in per_year.items()), Decimal(0)) / total_w


def _cv(values: Sequence[Decimal]) -> Decimal | None:
    if len(values) < 2:
        return None
    m = _mean(values)
    if m == 0:
        return None
    var = sum(((v - m) ** 2 for v in values), Decimal(0)) / (len(values) - 1)
    return var.sqrt() / m


class Calibrator:
    """Feed stays one DRG at a time (e.g. streamed from the database ordered by DRG), then finish."""

    def __init__(self, params: CalibrationParams) -> None:
        self.p = params
        self.w = params.weights()
        self.groups: dict[str, DrgCalibration] = {}
        self.daily: dict[str, dict[int, Decimal]] = {}
        self.year_sum: dict[int, Decimal] = {y: Decimal(0) for y in self.w}
        self.year_n: dict[int, int] = dict.fromkeys(self.w, 0)
        self.stays = self.trimmed = 0

    def add_drg(self, drg: str, stays: Iterable[Stay]) -> None:
        by_year: dict[int, list[Stay]] = {}
        for s in stays:
            if s.year not in self.w:
                raise ValueError(f"stay of {s.year} is outside the calibration years {sorted(self.w)}")
            by_year.setdefault(s.year, []).append(s)
        kept_all: list[Stay] = []
        cost_mean: dict[int, Decimal] = {}
        los_mean: dict[int, Decimal] = {}
        daily: dict[int, Decimal] = {}
        out = 0
        with localcontext() as ctx:
            ctx.prec = 34
            for year, year_stays in by_year.items():
                kept, dropped = trim(year_stays, self.p.iqr_k)
                out += dropped
                kept_all += kept
                cost_mean[year] = _mean([s.cost for s in kept])
                los_mean[year] = _mean([Decimal(s.los) for s in kept])
                days = sum(s.los for s in kept)
                if days:
                    daily[year] = sum((s.cost for s in kept), Decimal(0)) / days
                self.year_sum[year] += sum((s.cost for s in kept), Decimal(0))
                self.year_n[year] += len(kept)
            cv = _cv([s.cost for s in kept_all])
            group = DrgCalibration(
                drg=drg,
                cases=len(kept_all),
                cases_trimmed=out,
                avg_cost=_weighted(cost_mean, self.w).quantize(CENT, ROUND_HALF_UP),
                avg_los=_weighted(los_mean, self.w).quantize(CENT, ROUND_HALF_UP),
                cv=cv.quantize(POINT, ROUND_HALF_UP) if cv is not None else None,
                stable=len(kept_all) > self.p.min_cases and cv is not None and cv < self.p.max_cv,
                bed_day=drg in self.p.bed_day_drgs,
            )
        if group.bed_day and daily:
            self.daily[drg] = daily
        self.groups[drg] = group
        self.stays += len(kept_all) + out
        self.trimmed += out

    def finish(self) -> CalibrationResult:
        with localcontext() as ctx:
            ctx.prec = 34
            per_year = {y: self.year_sum[y] / self.year_n[y] for y in self.w if self.year_n[y]}
            if not per_year:
                raise ValueError("no stays to calibrate on")
            avg_all = _weighted(per_year, self.w).quantize(CENT, ROUND_HALF_UP)
            for g in self.groups.values():
                g.base_points = (g.avg_cost / avg_all * 100).quantize(POINT, ROUND_HALF_UP)
                if g.drg in self.daily:
                    g.avg_daily_cost = _weighted(self.daily[g.drg], self.w).quantize(CENT, ROUND_HALF_UP)
                    g.base_points_per_day = (g.avg_daily_cost / avg_all * 100).quantize(POINT, ROUND_HALF_UP)
        return CalibrationResult(avg_all, self.groups, self.stays, self.trimmed, self.w)


def calibrate(stays: Iterable[Stay], params: CalibrationParams) -> CalibrationResult:
    """Calibrate in memory (tests, small data); the job streams DRG by DRG through Calibrator."""
    by_drg: dict[str, list[Stay]] = {}
    for s in stays:
        by_drg.setdefault(s.drg, []).append(s)
    c = Calibrator(params)
    for drg in sorted(by_drg):
        c.add_drg(drg, by_drg[drg])
    return c.finish()
