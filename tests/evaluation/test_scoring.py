"""Peer-relative scoring (evaluation/scoring.py), every expected figure computed by hand below."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dianshu.evaluation.catalogue import Catalogue, Dimension, Indicator
from dianshu.evaluation.scoring import (
    MISSING,
    NOT_APPLICABLE,
    VALUE,
    Observed,
    coefficient,
    indicator_score,
    percentile_inc,
    q2,
    rank_band,
    score_all,
)

D = Decimal
P25, P75 = D("0.25"), D("0.75")


def ds(*xs):
    return [D(str(x)) for x in xs]


# ---- PERCENTILE.INC ---------------------------------------------------------------------------


def test_percentile_of_one_value_is_that_value():
    # n = 1: h = 0 × p = 0 → x[0], whatever p.
    assert percentile_inc(ds(5), P25) == 5
    assert percentile_inc(ds(5), P75) == 5


def test_percentile_of_two_values_interpolates():
    # n = 2, [10, 20]: P25 h = 1 × 0.25 = 0.25 → 10 + 0.25 × (20 − 10) = 12.5; P75 h = 0.75 → 17.5.
    assert percentile_inc(ds(20, 10), P25) == D("12.5")
    assert percentile_inc(ds(20, 10), P75) == D("17.5")
    # The extremes: p = 0 the least, p = 1 the greatest (h = 1 = n − 1: no next rank).
    assert percentile_inc(ds(20, 10), D(0)) == 10
    assert percentile_inc(ds(20, 10), D(1)) == 20


def test_percentile_with_ties():
    # [3, 3, 3, 7]: P25 h = 3 × 0.25 = 0.75 → 3 + 0.75 × (3 − 3) = 3; P75 h = 2.25 → 3 + 0.25 × (7 − 3) = 4.
    assert percentile_inc(ds(3, 7, 3, 3), P25) == 3
    assert percentile_inc(ds(3, 7, 3, 3), P75) == 4


def test_percentile_on_exact_ranks_and_between_them():
    # [1, 2, 3, 4, 5]: P25 h = 4 × 0.25 = 1 → x[1] = 2; P75 h = 3 → x[3] = 4 (no interpolation).
    assert percentile_inc(ds(5, 4, 3, 2, 1), P25) == 2
    assert percentile_inc(ds(5, 4, 3, 2, 1), P75) == 4
    # Excel: PERCENTILE.INC({10,20,30,40}, 0.25) = 17.5 (h = 0.75: 10 + 0.75 × 10);
    #        PERCENTILE.INC({10,20,30,40}, 0.75) = 32.5 (h = 2.25: 30 + 0.25 × 10).
    assert percentile_inc(ds(40, 10, 30, 20), P25) == D("17.5")
    assert percentile_inc(ds(40, 10, 30, 20), P75) == D("32.5")
    # Excel: PERCENTILE.INC({0.1234,0.5678,0.9},0.25): h = 0.5 → 0.1234 + 0.5 × 0.4444 = 0.3456.
    assert percentile_inc(ds("0.1234", "0.5678", "0.9"), P25) == D("0.3456")


def test_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError):
        percentile_inc([], P25)


# ---- indicator score ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # P25 = 10, P75 = 20, higher is better.
        ("20", "100"),  # at P75
        ("25", "100"),  # beyond
        ("10", "60"),  # at P25
        ("5", "60"),  # below
        ("15", "80"),  # 60 + 40 × (15 − 10) / (20 − 10) = 80
        ("12.5", "70"),  # 60 + 40 × 2.5 / 10 = 70
    ],
)
def test_higher_is_better(value, expected):
    assert indicator_score(D(value), D(10), D(20), "higher") == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # P25 = 10, P75 = 20, lower is better: mirrored.
        ("10", "100"),  # at P25
        ("2", "100"),
        ("20", "60"),  # at P75
        ("30", "60"),
        ("12.5", "90"),  # 60 + 40 × (20 − 12.5) / 10 = 90
        ("17.5", "70"),  # 60 + 40 × 2.5 / 10 = 70
    ],
)
def test_lower_is_better(value, expected):
    assert indicator_score(D(value), D(10), D(20), "lower") == D(expected)


def test_equal_percentiles_score_100_at_or_better_else_60():
    # P25 = P75 = 7: at or better than 7 → 100, worse → 60 (no division by P75 − P25 = 0).
    assert indicator_score(D(7), D(7), D(7), "higher") == 100
    assert indicator_score(D(8), D(7), D(7), "higher") == 100
    assert indicator_score(D("6.99"), D(7), D(7), "higher") == 60
    assert indicator_score(D(7), D(7), D(7), "lower") == 100
    assert indicator_score(D("6.5"), D(7), D(7), "lower") == 100
    assert indicator_score(D("7.01"), D(7), D(7), "lower") == 60


def test_a_third_is_kept_unrounded_and_shown_to_2_places():
    # P25 = 15, P75 = 30, higher, value 20: 60 + 40 × 5 / 15 = 73.333… (shown 73.33).
    s = indicator_score(D(20), D(15), D(30), "higher")
    assert s == D(60) + D(40) * D(5) / D(15)
    assert q2(s) == D("73.33")
    # Half-up (四舍五入): a 5 in the third place rounds up.
    assert q2(D("70.005")) == D("70.01")


# ---- a small catalogue -------------------------------------------------------------------------


def ind(code, dim, direction, weight, status="active", source="cases"):
    return Indicator(code, dim, code, code, code.lower(), direction, source, "percent", D(weight), status, "f", "f")


CAT = Catalogue(
    (Dimension("X", "X", "X", D(60)), Dimension("Y", "Y", "Y", D(40))),
    (
        ind("x1", "X", "higher", 70),
        ind("x2", "X", "lower", 30),
        ind("x3", "X", "higher", 0, status="monitor"),
        ind("y1", "Y", "higher", 100, source="entered"),
    ),
)


def v(x):
    return Observed(VALUE, D(str(x)))


def world():
    """Three hospitals of one level (L2) and one alone at its level (L3)."""
    return {
        ("H1", "x1"): v(10),
        ("H2", "x1"): v(20),
        ("H3", "x1"): v(30),
        ("H1", "x2"): v(1),
        ("H2", "x2"): v(2),
        ("H3", "x2"): Observed(NOT_APPLICABLE),  # its denominator was 0
        ("H1", "x3"): v(5),
        ("H2", "x3"): v(6),
        ("H3", "x3"): v(7),
        ("H1", "y1"): v(90),
        ("H2", "y1"): Observed(MISSING),  # entered, but nobody entered it
        ("H3", "y1"): v(80),
        ("H9", "x1"): v(1),
        ("H9", "x2"): v(50),
        ("H9", "y1"): v(10),
    }


GROUPS = {"H1": "L2", "H2": "L2", "H3": "L2", "H9": "L3"}


def test_the_worked_example():
    """Level L2, peers H1, H2, H3:
    x1 (higher, w 70): values 10, 20, 30 → P25 h = 0.5 → 15, P75 h = 1.5 → 25.
        H1 10 ≤ 15 → 60; H2 20 → 60 + 40 × 5 / 10 = 80; H3 30 ≥ 25 → 100.
    x2 (lower, w 30): H3 not applicable, left out of the peers: [1, 2] → P25 1.25, P75 1.75.
        H1 1 ≤ 1.25 → 100; H2 2 ≥ 1.75 → 60; H3 not scored, x1 carries all of X.
    x3 monitor-only: its value is kept, never scored.
    y1 (entered, higher, w 100): H2 missing (not a peer value): [80, 90] → P25 82.5, P75 87.5.
        H1 90 → 100; H2 missing → 60; H3 80 → 60.
    X = (70 × x1 + 30 × x2) / (70 + 30): H1 (4200 + 3000) / 100 = 72; H2 (5600 + 1800) / 100 = 74;
        H3 (70 × 100) / 70 = 100.
    Y: H1 100, H2 60, H3 60.
    total = (60 × X + 40 × Y) / 100: H1 (4320 + 4000) / 100 = 83.2; H2 (4440 + 2400) / 100 = 68.4;
        H3 (6000 + 2400) / 100 = 84.
    Rank bands (share of peers strictly above): H3 0/3 → Q1, H1 1/3 → Q2, H2 2/3 → Q3.
    H9 is alone at L3: n = 1, P25 = P75 = its own value → at or better than it → 100 everywhere."""
    r = score_all(CAT, world(), GROUPS)
    st = r.peer_stats
    assert (st[("L2", "x1")].n, st[("L2", "x1")].p25, st[("L2", "x1")].p75) == (3, 15, 25)
    assert (st[("L2", "x2")].n, st[("L2", "x2")].p25, st[("L2", "x2")].p75) == (2, D("1.25"), D("1.75"))
    assert (st[("L2", "y1")].n, st[("L2", "y1")].p25, st[("L2", "y1")].p75) == (2, D("82.5"), D("87.5"))
    assert (st[("L2", "x3")].p25, st[("L2", "x3")].p75) == (D("5.5"), D("6.5"))  # shown, though not scored
    assert (st[("L3", "x1")].n, st[("L3", "x1")].p25) == (1, 1)
    h1, h2, h3, h9 = (r.hospitals[h] for h in ("H1", "H2", "H3", "H9"))
    assert [h1.indicators[c].score for c in ("x1", "x2", "x3", "y1")] == [60, 100, None, 100]
    assert [h2.indicators[c].score for c in ("x1", "x2", "x3", "y1")] == [80, 60, None, 60]
    assert [h3.indicators[c].score for c in ("x1", "x2", "x3", "y1")] == [100, None, None, 60]
    assert h2.indicators["y1"].observed.status == MISSING
    assert h3.indicators["x2"].observed.status == NOT_APPLICABLE
    assert h1.indicators["x3"].observed.value == 5
    assert [h.dimensions["X"].score for h in (h1, h2, h3)] == [72, 74, 100]
    assert [h.dimensions["Y"].score for h in (h1, h2, h3)] == [100, 60, 60]
    assert [h.total for h in (h1, h2, h3)] == [D("83.20"), D("68.40"), D("84.00")]
    assert [h.rank_band for h in (h1, h2, h3)] == ["Q2", "Q3", "Q1"]
    assert not any(h.capped or h.renormalised for h in (h1, h2, h3))
    assert h9.total == 100 and h9.rank_band == "Q1"


def test_a_dimension_with_nothing_scored_is_left_out_and_weights_renormalised():
    # H3's y1 not applicable too: Y has nothing scored → left out; total = 60 × X / 60 = X = 100.
    obs = {**world(), ("H3", "y1"): Observed(NOT_APPLICABLE)}
    h3 = score_all(CAT, obs, GROUPS).hospitals["H3"]
    assert h3.dimensions["Y"].score is None
    assert h3.left_out == ("Y",) and h3.renormalised
    assert h3.total == D("100.00")
    assert "renormalised" in h3.notes[0]


def test_rounding_once_at_the_end():
    # One dimension (X, 60) with x1 only scored for H2: peers' x1 10, 20, 40 → P25 h 0.5 → 15,
    # P75 h 1.5 → 30; H2 20 → 60 + 40 × 5 / 15 = 73.333…; Y for H2 is missing → 60.
    # total = (60 × 73.333… + 40 × 60) / 100 = (4400 + 2400) / 100 = 68 exactly: from the unrounded X
    # (from the shown 73.33 it would be (4399.8 + 2400) / 100 = 67.998: the exact figure is kept
    # unrounded, 68 to 25 places, and rounded once).
    obs = {**world(), ("H3", "x1"): v(40), ("H1", "x2"): Observed(NOT_APPLICABLE)}
    obs[("H2", "x2")] = Observed(NOT_APPLICABLE)
    h2 = score_all(CAT, obs, GROUPS).hospitals["H2"]
    assert h2.dimensions["X"].shown == D("73.33")
    assert abs(h2.exact_total - 68) < D("1e-25")
    assert h2.total == D("68.00")


def test_proven_fraud_caps_the_total_at_59():
    r = score_all(CAT, world(), GROUPS, fraud={"H3", "H1"})
    # H3 84 → 59 (capped); H1 83.2 → 59. H2 (68.4, no fraud) stays.
    assert (r.hospitals["H3"].total, r.hospitals["H3"].capped) == (D("59.00"), True)
    assert (r.hospitals["H1"].total, r.hospitals["H1"].capped) == (D("59.00"), True)
    assert (r.hospitals["H2"].total, r.hospitals["H2"].capped) == (D("68.40"), False)
    assert r.hospitals["H3"].exact_total == 84  # the uncapped figure is kept
    # Bands from the capped totals: H2 68.4 above both 59s → Q1; H1 and H3 tie at 59: 1/3 → Q2.
    assert [r.hospitals[h].rank_band for h in ("H1", "H2", "H3")] == ["Q2", "Q1", "Q2"]


def test_fraud_caps_even_the_lowest_total():
    # H2 with every indicator at the bottom: x1 5 ≤ P25 → 60, x2 60, y1 missing 60: X 60, Y 60 →
    # total 60 (no total is below 60: every scored indicator is at least 60); fraud → 59.
    obs = {**world(), ("H2", "x1"): v(5)}
    r = score_all(CAT, obs, GROUPS, fraud={"H2"})
    assert r.hospitals["H2"].exact_total == 60
    assert r.hospitals["H2"].total == D("59.00") and r.hospitals["H2"].capped


def test_missing_entered_scores_60_and_is_shown_missing():
    h2 = score_all(CAT, world(), GROUPS).hospitals["H2"]
    y1 = h2.indicators["y1"]
    assert (y1.observed.status, y1.score, y1.shown) == (MISSING, 60, D("60.00"))


# ---- rank band and coefficient -------------------------------------------------------------------


def test_rank_bands_by_quartile():
    five = ds(90, 80, 70, 60, 50)
    # Share of peers strictly above: 0, 0.2, 0.4, 0.6, 0.8 → Q1, Q1, Q2, Q3, Q4.
    assert [rank_band(t, five) for t in five] == ["Q1", "Q1", "Q2", "Q3", "Q4"]
    four = ds(80, 80, 70, 60)
    # Ties share the better band: 80, 80 → 0/4; 70 → 2/4 = 0.5 → Q3; 60 → 3/4 = 0.75 → Q4.
    assert [rank_band(t, four) for t in four] == ["Q1", "Q1", "Q3", "Q4"]
    assert rank_band(D(1), [D(1)]) == "Q1"


FLOORS = ds(0, 60, 80, 90)
COEFS = ds("0.9", "1.0", "1.02", "1.05")


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("0", "0.9"),
        ("59.99", "0.9"),
        ("60", "1.0"),  # exactly on a floor: that floor's band
        ("79.99", "1.0"),
        ("80.00", "1.02"),
        ("89.99", "1.02"),
        ("90", "1.05"),
        ("100", "1.05"),
    ],
)
def test_coefficient_bands(score, expected):
    assert coefficient(D(score), FLOORS, COEFS) == D(expected)


def test_no_bands_or_no_score_is_a_coefficient_of_1():
    assert coefficient(D(50), (), ()) == 1
    assert coefficient(None, FLOORS, COEFS) == 1


def test_score_all_gives_each_hospital_its_coefficient():
    r = score_all(CAT, world(), GROUPS, floors=FLOORS, coefficients=COEFS)
    # H1 83.2 → 1.02; H2 68.4 → 1.0; H3 84 → 1.02; H9 100 → 1.05.
    assert {h: s.coefficient for h, s in r.hospitals.items()} == {
        "H1": D("1.02"),
        "H2": D("1.0"),
        "H3": D("1.02"),
        "H9": D("1.05"),
    }
