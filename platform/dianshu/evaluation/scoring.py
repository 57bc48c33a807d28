"""Peer-relative scoring of hospitals (SPEC section 8), pure: values in, scores out, Decimal throughout.

Per active indicator, against the peers of the hospital's level (their values, the hospital's own
included; peers with no value are left out):
  P25, P75   the peers' 25th and 75th percentiles by Excel's PERCENTILE.INC (percentile_inc)
  higher     value ≥ P75 → 100, value ≤ P25 → 60, else 60 + 40 × (value − P25) / (P75 − P25)
  lower      value ≤ P25 → 100, value ≥ P75 → 60, else 60 + 40 × (P75 − value) / (P75 − P25)
  P25 = P75  at or better than it → 100, else 60
An indicator whose denominator was 0 (not applicable) is left out and its weight shared by its
dimension's other indicators; an entered indicator with no entry scores 60 (missing, shown so).

dimension score  Σ weight × score / Σ weight over the dimension's scored active indicators
total            Σ dimension weight × dimension score / Σ dimension weight (= / 100 when every
                 dimension has a score; a dimension with nothing scored is left out, the others'
                 weights renormalised, and the result says so)
Rounded half-up to 2 places once, at the end: indicator and dimension scores are shown rounded, the
total is computed from the unrounded ones. Proven fraud (a confirmed fraud violation in the year)
caps the total at 59. The rank band is the hospital's quartile among its peers by total, and the
points coefficient (奖惩系数) the policy's band the total falls in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from dianshu.evaluation.catalogue import Catalogue, Indicator

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
SIXTY = Decimal(60)
FORTY = Decimal(40)
P25 = Decimal("0.25")
P75 = Decimal("0.75")
FRAUD_CAP = Decimal(59)
SCORE_PLACES = Decimal("0.01")

# Observation statuses of a hospital's indicator.
VALUE = "value"  # a value: scored against the peers
NOT_APPLICABLE = "not_applicable"  # the denominator was 0 (or no figure at all): left out, weight shared
MISSING = "missing"  # an entered indicator without an entry: scores 60

# Rank bands among peers by total: the share of peers with a strictly higher total (ties share the
# better band).
BANDS = ("Q1", "Q2", "Q3", "Q4")
BAND_LABELS = {"Q1": "前25%", "Q2": "25–50%", "Q3": "50–75%", "Q4": "后25%"}


def q2(x: Decimal) -> Decimal:
    return x.quantize(SCORE_PLACES, ROUND_HALF_UP)


def percentile_inc(values: Iterable[Decimal], p: Decimal) -> Decimal:
    """The p-th percentile (0 ≤ p ≤ 1) of `values` as Excel's PERCENTILE.INC computes it (bureaus
    check the figures in Excel): the values sorted ascending x[0..n−1], rank h = (n − 1) × p, and
    x[⌊h⌋] + (h − ⌊h⌋) × (x[⌊h⌋+1] − x[⌊h⌋]) (linear interpolation between the closest ranks; n = 1
    gives the one value). Exact in Decimal; no values is an error (there is no percentile)."""
    x = sorted(values)
    if not x:
        raise ValueError("no values: the percentile is undefined")
    if not ZERO <= p <= ONE:
        raise ValueError(f"p must be between 0 and 1 (got {p})")
    h = (len(x) - 1) * p
    k = int(h.to_integral_value(ROUND_FLOOR))
    if k + 1 >= len(x):
        return x[k]
    return x[k] + (h - k) * (x[k + 1] - x[k])


def indicator_score(value: Decimal, p25: Decimal, p75: Decimal, direction: str) -> Decimal:
    """An indicator's score 0..100 (unrounded) against the peers' P25 and P75 (module docstring)."""
    if direction == "higher":
        if value >= p75:
            return HUNDRED
        if value <= p25:
            return SIXTY
        return SIXTY + FORTY * (value - p25) / (p75 - p25)
    if direction == "lower":
        if value <= p25:
            return HUNDRED
        if value >= p75:
            return SIXTY
        return SIXTY + FORTY * (p75 - value) / (p75 - p25)
    raise ValueError(f"direction must be higher or lower (got {direction!r})")


def coefficient(score: Decimal | None, floors: Sequence[Decimal], coefficients: Sequence[Decimal]) -> Decimal:
    """The points coefficient (奖惩系数) of a total: the coefficient of the highest band whose lower
    bound the score reaches (a score exactly on a floor is in that floor's band). No bands: 1; no
    score (none published, none entered): 1."""
    if not floors or score is None:
        return ONE
    chosen = coefficients[0]
    for floor, c in zip(floors, coefficients, strict=True):
        if score >= floor:
            chosen = c
    return chosen


def rank_band(total: Decimal, peer_totals: Iterable[Decimal]) -> str:
    """The quartile band of `total` among its peers' totals (itself included): by the share of peers
    with a strictly higher total: below 25% Q1 (前25%), below 50% Q2, below 75% Q3, else Q4 (后25%)."""
    peers = list(peer_totals)
    n = len(peers) or 1
    above = Decimal(sum(1 for t in peers if t > total))
    share = above / n
    for band, limit in zip(BANDS, (P25, Decimal("0.5"), P75), strict=False):
        if share < limit:
            return band
    return BANDS[-1]


@dataclass(frozen=True)
class Observed:
    """A hospital's figure for one indicator: the value (4 places) and what it came from."""

    status: str  # value | not_applicable | missing
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class PeerStat:
    n: int  # peers with a value
    p25: Decimal | None
    p75: Decimal | None


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    dimension: str
    observed: Observed
    active: bool
    weight: Decimal
    score: Decimal | None  # unrounded; None when not scored (monitor-only or not applicable)

    @property
    def shown(self) -> Decimal | None:
        return None if self.score is None else q2(self.score)


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    weight: Decimal
    score: Decimal | None  # unrounded; None: nothing scored in it (left out of the total)
    indicators_scored: int

    @property
    def shown(self) -> Decimal | None:
        return None if self.score is None else q2(self.score)


@dataclass(frozen=True)
class HospitalScore:
    hospital: str
    peer_group: Hashable
    indicators: dict[str, IndicatorScore]
    dimensions: dict[str, DimensionScore]
    exact_total: Decimal  # before rounding and the cap
    total: Decimal  # rounded half-up to 2 places, capped at 59 under proven fraud
    capped: bool
    left_out: tuple[str, ...]  # dimensions with nothing scored: their weight renormalised away
    rank_band: str = "Q1"
    coefficient: Decimal = ONE
    notes: tuple[str, ...] = field(default=())

    @property
    def renormalised(self) -> bool:
        return bool(self.left_out)


@dataclass(frozen=True)
class Scored:
    hospitals: dict[str, HospitalScore]
    peer_stats: dict[tuple[Hashable, str], PeerStat]  # (peer group, indicator code) → n, P25, P75


def peer_stats(
    catalogue: Catalogue, observed: Mapping[tuple[str, str], Observed], groups: Mapping[str, Hashable]
) -> dict[tuple[Hashable, str], PeerStat]:
    """Per peer group and indicator: how many peers have a value and their P25 and P75."""
    values: dict[tuple[Hashable, str], list[Decimal]] = defaultdict(list)
    for (h, code), o in observed.items():
        if o.status == VALUE and o.value is not None and h in groups:
            values[(groups[h], code)].append(o.value)
    out = {}
    for g in sorted(set(groups.values()), key=str):
        for ind in catalogue.indicators:
            v = values.get((g, ind.code), [])
            out[(g, ind.code)] = (
                PeerStat(len(v), percentile_inc(v, P25), percentile_inc(v, P75)) if v else PeerStat(0, None, None)
            )
    return out


def _indicator(ind: Indicator, o: Observed, stat: PeerStat) -> IndicatorScore:
    score: Decimal | None = None
    if ind.active:
        if o.status == MISSING:
            score = SIXTY
        elif o.status == VALUE and o.value is not None and stat.p25 is not None and stat.p75 is not None:
            score = indicator_score(o.value, stat.p25, stat.p75, ind.direction)
    return IndicatorScore(ind.code, ind.dimension, o, ind.active, ind.weight, score)


def score_hospital(
    catalogue: Catalogue,
    hospital: str,
    group: Hashable,
    observed: Mapping[tuple[str, str], Observed],
    stats: Mapping[tuple[Hashable, str], PeerStat],
    fraud: bool,
) -> HospitalScore:
    """One hospital's indicator, dimension and total scores (no band or coefficient yet)."""
    none = Observed(NOT_APPLICABLE)
    indicators = {
        i.code: _indicator(i, observed.get((hospital, i.code), none), stats[(group, i.code)])
        for i in catalogue.indicators
    }
    dimensions = {}
    for d in catalogue.dimensions:
        scored = [s for s in indicators.values() if s.dimension == d.code and s.score is not None]
        weight = sum((s.weight for s in scored), ZERO)
        value = sum((s.weight * s.score for s in scored if s.score is not None), ZERO) / weight if weight else None
        dimensions[d.code] = DimensionScore(d.code, d.weight, value, len(scored))
    present = [d for d in dimensions.values() if d.score is not None]
    left_out = tuple(d.dimension for d in dimensions.values() if d.score is None)
    weights = sum((d.weight for d in present), ZERO)
    exact = sum((d.weight * d.score for d in present if d.score is not None), ZERO) / weights if weights else ZERO
    total = q2(exact)
    capped = fraud and total > FRAUD_CAP
    notes = []
    if left_out:
        notes.append(f"nothing scored in {', '.join(left_out)}: left out, the other dimensions' weights renormalised")
    if capped:
        notes.append(f"proven fraud: the total {total} is capped at {FRAUD_CAP}")
        total = q2(FRAUD_CAP)
    return HospitalScore(hospital, group, indicators, dimensions, exact, total, capped, left_out, notes=tuple(notes))


def score_all(
    catalogue: Catalogue,
    observed: Mapping[tuple[str, str], Observed],
    groups: Mapping[str, Hashable],
    fraud: Iterable[str] = (),
    floors: Sequence[Decimal] = (),
    coefficients: Sequence[Decimal] = (),
) -> Scored:
    """Every hospital of `groups` (hospital → its peer group: the same level within the peer scope),
    scored against its group; then its rank band in the group and its points coefficient."""
    stats = peer_stats(catalogue, observed, groups)
    proven = set(fraud)
    scores = {h: score_hospital(catalogue, h, g, observed, stats, h in proven) for h, g in sorted(groups.items())}
    by_group: dict[Hashable, list[Decimal]] = defaultdict(list)
    for s in scores.values():
        by_group[s.peer_group].append(s.total)
    out = {}
    for h, s in scores.items():
        out[h] = HospitalScore(
            s.hospital,
            s.peer_group,
            s.indicators,
            s.dimensions,
            s.exact_total,
            s.total,
            s.capped,
            s.left_out,
            rank_band(s.total, by_group[s.peer_group]),
            coefficient(s.total, floors, coefficients),
            s.notes,
        )
    return Scored(out, stats)
