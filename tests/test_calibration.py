"""Calibration with hand-computed expected values (SPEC section 2)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dianshu.standards.calibration import CalibrationParams, Stay, calibrate, quartile, trim


def stays(year, drg, costs, los):
    return [Stay(year, drg, D(c), n) for c, n in zip(costs, los, strict=True)]


DATA = [
    # AA11 2023: three stays (fewer than 4: no trimming): mean cost 200, mean LOS 4.
    *stays(2023, "AA11", [100, 200, 300], [2, 4, 6]),
    # AA11 2024: sorted 100 110 120 130 1000; Q1 = x[1] = 110, Q3 = x[3] = 130, IQR 20;
    # kept 80 … 160 -> 1000 is trimmed; mean of the rest 115, mean LOS 1.
    *stays(2024, "AA11", [100, 110, 120, 130, 1000], [1, 1, 1, 1, 10]),
    # BB15 2024 only: 50, 50 (LOS 1 each).
    *stays(2024, "BB15", [50, 50], [1, 1]),
]


def test_two_years_weighted_trimmed_and_rounded_by_hand():
    r = calibrate(DATA, CalibrationParams(years=(2023, 2024), bed_day_drgs=frozenset({"BB15"})))
    # Two years: the newest two of 1:2:7, i.e. 2:7.
    assert r.weights == {2023: D(2), 2024: D(7)}
    aa, bb = r.groups["AA11"], r.groups["BB15"]
    # AA11: (2 × 200 + 7 × 115) / 9 = 1205 / 9 = 133.888… -> 133.89; LOS (2 × 4 + 7 × 1) / 9 = 1.666… -> 1.67
    assert (aa.avg_cost, aa.avg_los) == (D("133.89"), D("1.67"))
    assert (aa.cases, aa.cases_trimmed) == (7, 1)
    # CV of 100 200 300 100 110 120 130: sample sd 74.0325 / mean 151.4286 = 0.4889 -> stable (7 > 5, < 1)
    assert aa.cv == D("0.4889") and aa.stable
    # BB15: 50.00, two stays: not stable (needs more than 5).
    assert (bb.avg_cost, bb.cases, bb.stable) == (D("50.00"), 2, False)
    # avg_cost_all: 2023 mean 200 (AA11's three); 2024: (100+110+120+130+50+50) / 6 = 93.333…;
    # (2 × 200 + 7 × 93.333…) / 9 = 117.037… -> 117.04
    assert r.avg_cost_all == D("117.04")
    # Base points from the published figures: 133.89 / 117.04 × 100 = 114.39678… -> 114.3968;
    # 50.00 / 117.04 × 100 = 42.72043… -> 42.7204
    assert (aa.base_points, bb.base_points) == (D("114.3968"), D("42.7204"))
    # BB15 is a bed-day group: daily cost 2024 = 100 / 2 days = 50.00; b_day = 42.7204
    assert (bb.avg_daily_cost, bb.base_points_per_day) == (D("50.00"), D("42.7204"))
    assert aa.avg_daily_cost is None
    assert (r.stays, r.stays_trimmed) == (10, 1)


def test_one_and_three_years_use_the_newest_default_weights():
    assert CalibrationParams(years=(2024,)).weights() == {2024: D(7)}
    assert CalibrationParams(years=(2024, 2022, 2023)).weights() == {2022: D(1), 2023: D(2), 2024: D(7)}
    with pytest.raises(ValueError, match="one to three"):
        CalibrationParams(years=(2020, 2021, 2022, 2023)).weights()
    with pytest.raises(ValueError, match="one positive weight per year"):
        CalibrationParams(years=(2023, 2024), year_weights=(D(1),)).weights()
    # One year: plain trimmed means.
    r = calibrate([s for s in DATA if s.year == 2024], CalibrationParams(years=(2024,)))
    assert r.groups["AA11"].avg_cost == D("115.00") and r.avg_cost_all == D("93.33")


def test_quartiles_interpolate_and_small_groups_are_not_trimmed():
    xs = [D(1), D(2), D(3), D(4), D(5), D(6)]
    # positions (6 − 1) × 0.25 = 1.25 and 3.75: 2 + 0.25 × 1 = 2.25, 4 + 0.75 × 1 = 4.75
    assert (quartile(xs, D("0.25")), quartile(xs, D("0.75"))) == (D("2.25"), D("4.75"))
    kept, dropped = trim(stays(2024, "X", [1, 1000, 5], [1, 1, 1]), D("1.5"))
    assert (len(kept), dropped) == (3, 0)


def test_a_stay_outside_the_years_is_refused():
    with pytest.raises(ValueError, match="outside the calibration years"):
        calibrate(DATA, CalibrationParams(years=(2024,)))
