"""The year engine: add-ons, TCM equivalence, special-review outcomes, readmission detection and
medical alliances, each with its arithmetic written out."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dianshu.settlement.arithmetic.clearing import budget
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.year import (
    AllianceIn,
    CaseIn,
    HospitalIn,
    LedgerBudget,
    NewTechnology,
    Review,
    SettlementInputError,
    Stay,
    YearInputs,
    case_results,
    find_readmissions,
    settle_year,
)

P = Policy()
AVG_ALL = D(10000)
G1 = DrgParams("G1", avg_cost=D(10000), base_points=D(100))
TCM = DrgParams("T1", avg_cost=D(8000), base_points=D(80), tcm=True)
GROUPS = {"G1": G1, "T1": TCM}
HOSPS = {
    "H1": HospitalIn("H1", coefficient=D("1.1")),
    "TC": HospitalIn("TC", coefficient=D("1.0"), type="tcm"),
}


def case(id="C", hospital="H1", drg="G1", cost="10000", **kw):
    base = dict(los_days=5, discharge_way=1, self_pay=D(0), fund_type="employee")
    base.update(kw)
    return CaseIn(id=id, hospital=hospital, drg=drg, total_cost=D(cost), **base)


def one(c, hospitals=HOSPS, policy=P):
    return case_results([c], GROUPS, AVG_ALL, hospitals, policy)[c.id]


def test_new_technology_add_on_tapers_by_year():
    # A normal G1 case at H1 (c = 1.1): 100 × 1.1 = 110 points. A technology costing 3000 yuan adds
    # 3000 / 10000 × 100 = 30 points × taper: year 1 × 1.0 = 30, year 2 × 0.7 = 21, year 3 × 0.4 = 12,
    # year 4: nothing.
    for year, addon in ((1, "30.0000"), (2, "21.0000"), (3, "12.0000"), (4, "0")):
        r = one(case(new_technologies=(NewTechnology("T01", D(3000), year),)))
        assert r.addon == D(addon)
        assert r.points == D(110) + D(addon)
    # Itemized cases are paid on their whole cost, which includes the technology: no add-on.
    r = one(case(drg="0000", cost="12000", new_technologies=(NewTechnology("T01", D(3000), 1),)))
    assert (r.type, r.points, r.addon) == ("itemized", D("120.0000"), D(0))


def test_tcm_group_treated_with_tcm_is_paid_at_the_western_equivalent():
    # T1: b = 80, avg 8000. A TCM hospital's case costing 2000 (ratio 0.25 < 0.4) would be a low outlier
    # at 80 × 0.25 = 20 points; TCM equivalence pays the group's full 80 × 1.0 = 80 points instead.
    r = one(case(hospital="TC", drg="T1", cost="2000"))
    assert (r.type, r.points) == ("normal", D("80.0000"))
    assert "Western-medicine equivalent" in r.reason
    # The same case at a general hospital without a TCM treatment flag stays a low outlier.
    r = one(case(hospital="H1", drg="T1", cost="2000"))
    assert (r.type, r.points) == ("low_outlier", D("20.0000"))
    # ... and with the flag (TCM treatment in a general hospital), c = 1.1: 80 × 1.1 = 88.
    r = one(case(hospital="H1", drg="T1", cost="2000", tcm_treatment=True))
    assert (r.type, r.points) == ("normal", D("88.0000"))
    # The policy can switch it off.
    off = P.with_overrides({"tcm_equivalence": False})
    assert one(case(hospital="TC", drg="T1", cost="2000"), policy=off).type == "low_outlier"


@pytest.mark.parametrize(
    ("review", "points", "type_"),
    [
        # add_points: the review sets the points.
        (Review("add_points", D("250")), D("250.0000"), "special_review"),
        # pay_by_item: 45000 / 10000 × 100 × f 1.0 = 450.
        (Review("pay_by_item"), D("450.0000"), "special_review"),
        # keep / refuse: the DRG points stand: ratio 4.5 > 3, 100 × 1.1 + 100 × (4.5 − 3) = 260.
        (Review("keep"), D("260.0000"), "high_outlier"),
        (Review("refuse"), D("260.0000"), "high_outlier"),
    ],
)
def test_special_review_outcomes(review, points, type_):
    r = one(case(cost="45000", review=review))
    assert (r.points, r.type) == (points, type_)


def test_readmission_detection():
    t = datetime
    stays = [
        # P1 at H1: discharged 1 March, back 10 March (9 days) to the same DRG, unplanned: readmission.
        Stay("a1", "H1", "P1", t(2026, 2, 25), t(2026, 3, 1), "G1", "G1", False),
        Stay("a2", "H1", "P1", t(2026, 3, 10), t(2026, 3, 15), "G1", "G1", False),
        # back again 1 April (17 days after 15 March): outside the 15 days.
        Stay("a3", "H1", "P1", t(2026, 4, 1), t(2026, 4, 3), "G1", "G1", False),
        # P2: planned readmission: not counted.
        Stay("b1", "H1", "P2", t(2026, 1, 1), t(2026, 1, 5), "G1", "G1", False),
        Stay("b2", "H1", "P2", t(2026, 1, 8), t(2026, 1, 9), "G1", "G1", True),
        # P3: chemotherapy (ADRG RE1) is exempt.
        Stay("c1", "H1", "P3", t(2026, 1, 1), t(2026, 1, 3), "RE15", "RE1", False),
        Stay("c2", "H1", "P3", t(2026, 1, 20), t(2026, 1, 22), "RE15", "RE1", False),
        # P4: another DRG, and another hospital: neither counts.
        Stay("d1", "H1", "P4", t(2026, 1, 1), t(2026, 1, 3), "G1", "G1", False),
        Stay("d2", "H1", "P4", t(2026, 1, 5), t(2026, 1, 7), "G2", "G2", False),
        Stay("d3", "H2", "P4", t(2026, 1, 9), t(2026, 1, 10), "G2", "G2", False),
        # P5: 15 calendar days counts, whatever the hours (discharged 2 Jan 12:00, back 17 Jan 18:00).
        Stay("e1", "H1", "P5", t(2026, 1, 1), t(2026, 1, 2, 12), "G1", "G1", False),
        Stay("e2", "H1", "P5", t(2026, 1, 17, 18), t(2026, 1, 20), "G1", "G1", False),
    ]
    assert find_readmissions(stays, P) == {"a2": "a1", "e2": "e1"}
    # A 20-day window catches a3 (17 days) too; c2 (chemotherapy) stays exempt whatever the window.
    assert find_readmissions(stays, P.with_overrides({"readmission_days": 20})) == {"a2": "a1", "a3": "a2", "e2": "e1"}
    assert "c2" not in find_readmissions(stays, P.with_overrides({"readmission_days": 30}))


def _alliance_inputs(shares=None):
    """Three hospitals; A1 (lead) and A2 form alliance M, settled as one holder; H3 alone."""
    hospitals = {
        "A1": HospitalIn("A1", prepaid={"employee": D("30000")}),
        "A2": HospitalIn("A2", score=D(90), prepaid={"employee": D("20000")}),
        "H3": HospitalIn("H3", prepaid={"employee": D("40000")}),
    }
    cases = []
    n = 0
    # A1: 3 normal cases (300 points), S 2000 each, fund paid 8000 each.
    # A2: 2 normal cases (200 points), S 1000 each, fund paid 6000 each.
    # H3: 4 normal cases (400 points), S 2000 each, fund paid 8000 each.
    for h, k, s, f in (("A1", 3, "2000", "8000"), ("A2", 2, "1000", "6000"), ("H3", 4, "2000", "8000")):
        for _ in range(k):
            n += 1
            cases.append(case(id=f"C{n}", hospital=h, self_pay=D(s), fund_pay=D(f)))
    alliance = AllianceIn("M", "A1", shares or {"A1": D("0.6"), "A2": D("0.4")})
    return YearInputs(
        P,
        AVG_ALL,
        GROUPS,
        hospitals,
        [alliance],
        cases,
        {"employee": LedgerBudget(budget(D(110000), P), D(68000))},
    )


def test_medical_alliance_settled_as_one_holder_and_sharing_its_surplus():
    led = settle_year(_alliance_inputs()).ledgers["employee"]
    # T 110000, R 5500, B 104500; E = 3×8000 + 2×6000 + 4×8000 = 68000 ≤ B:
    # F = 68000 + 0.85 × (104500 − 68000) = 68000 + 31025 = 99025.
    assert (led.T, led.R, led.B, led.E, led.F) == (D(110000), D(5500), D(104500), D(68000), D(99025))
    # P = 300 + 200 + 400 = 900; S = 6000 + 2000 + 8000 = 16000; PV = (99025 + 16000) / 900 = 127.80555…
    assert led.P == D(900) and led.S == D(16000)
    # Holders: M = 500 points, S 8000: 500 × 127.805555… − 8000 = 55902.777…
    #          H3 = 400 points, S 8000: 400 × 127.805555… − 8000 = 43122.222…
    # Floors 55902.77 + 43122.22 = 99024.99: one fen missing, to the larger remainder (M: .777 > .222).
    m = led.alliances["M"]
    assert (m.points, m.due) == (D(500), D("55902.78"))
    assert led.hospitals["H3"].due == D("43122.22")
    # M's members were paid fee-for-service 24000 (A1) + 12000 (A2) = 36000: surplus 19902.78,
    # shared 0.6 / 0.4: A1 24000 + 11941.668 = 35941.668, A2 12000 + 7961.112 = 19961.112.
    # Floors 35941.66 + 19961.11 = 55902.77: one fen to the larger remainder (A1: .008 > .002).
    assert m.surplus == D("19902.78")
    a1, a2 = led.hospitals["A1"], led.hospitals["A2"]
    assert (a1.due, a2.due) == (D("35941.67"), D("19961.11"))
    assert a1.due + a2.due + led.hospitals["H3"].due == led.F
    assert (a1.alliance, a2.alliance, led.hospitals["H3"].alliance) == ("M", "M", None)
    # Balances: A1 score 100: 35941.67 − 30000 = 5941.67.
    # A2 score 90: 19961.11 × (0.95 + 0.05 × 0.9) = 19961.11 × 0.995 = 19861.30445 → 19861.30;
    #   − 20000 = −138.70 (the hospital pays back); withheld 19961.11 − 20000 + 138.70 = 99.81.
    # H3: 43122.22 − 40000 = 3122.22.
    assert (a1.balance, a2.balance, led.hospitals["H3"].balance) == (D("5941.67"), D("-138.70"), D("3122.22"))
    assert a2.withheld == D("99.81")


def test_alliance_shares_are_checked():
    with pytest.raises(SettlementInputError, match=r"alliance M.shares: must sum to 1"):
        settle_year(_alliance_inputs({"A1": D("0.6"), "A2": D("0.3")}))
    with pytest.raises(SettlementInputError, match=r"alliance M.lead: A1 is not a member"):
        settle_year(_alliance_inputs({"A2": D(1)}))


def test_holdback_release_by_evaluation_score():
    # One hospital, due = F. T 100000, R 5000, B 95000, E 95000: F = 95000.
    # 10 normal cases of 100 points, S 0: PV = 95000 / 1000 = 95; due = 95000.
    # Score 80: 95000 × (0.95 + 0.05 × 0.80) = 95000 × 0.99 = 94050; prepaid 90000 → balance 4050;
    # withheld 950 stays in the fund.
    inp = YearInputs(
        P,
        AVG_ALL,
        GROUPS,
        {"H1": HospitalIn("H1", score=D(80), prepaid={"employee": D(90000)})},
        [],
        [case(id=f"C{i}") for i in range(10)],
        {"employee": LedgerBudget(budget(D(100000), P), D(95000))},
    )
    line = settle_year(inp).ledgers["employee"].hospitals["H1"]
    # c = 1.0 for this hospital (default HospitalIn)
    assert (line.due, line.balance, line.withheld) == (D(95000), D(4050), D(950))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["H1", "H2", "H3", "H4"]),
            st.sampled_from(["G1", "0000", "T1"]),
            st.integers(100, 80000),
            st.integers(0, 3000),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(50_000, 500_000),
    st.integers(10_000, 600_000),
)
def test_sum_of_dues_is_F_and_one_hospitals_cases_touch_no_other(rows, t, e):
    hospitals = {h: HospitalIn(h, coefficient=D("1.05")) for h in ("H1", "H2", "H3", "H4")}
    cases = [
        case(id=f"C{i}", hospital=h, drg=g, cost=str(cost), self_pay=D(sp).min(D(cost)))
        for i, (h, g, cost, sp) in enumerate(rows)
    ]
    inp = YearInputs(P, AVG_ALL, GROUPS, hospitals, [], cases, {"employee": LedgerBudget(budget(D(t), P), D(e))})
    res = settle_year(inp)
    led = res.ledgers["employee"]
    assert sum(x.due for x in led.hospitals.values()) == led.F
    assert all(c.points >= 0 for c in res.cases.values())
    assert settle_year(inp) == res
    # Change every case of the first hospital: the others' points do not move.
    first = rows[0][0]
    changed = [replace(c, total_cost=c.total_cost * 3) if c.hospital == first else c for c in cases]
    res2 = settle_year(YearInputs(P, AVG_ALL, GROUPS, hospitals, [], changed, inp.budgets))
    for h, line in res2.ledgers["employee"].hospitals.items():
        if h != first:
            assert line.points == led.hospitals[h].points


def test_a_prepaid_hospital_without_cases_pays_back():
    # H2 was prepaid 5,000 but has no case left in the ledger: due 0, balance −5,000.00. H1 alone:
    # T 100,000, B 95,000, E 95,000: F = 95,000; 10 cases × 100 points: PV 95; due 95,000.
    hospitals = {
        "H1": HospitalIn("H1", prepaid={"employee": D(90000)}),
        "H2": HospitalIn("H2", prepaid={"employee": D(5000)}),
    }
    from dianshu.settlement.arithmetic.year import PointsTotals, clear_ledger, totals_by_hospital

    results = case_results([case(id=f"C{i}") for i in range(10)], GROUPS, AVG_ALL, {"H1": HospitalIn("H1")}, P)
    totals = totals_by_hospital(results.values())["employee"] | {"H2": PointsTotals()}
    led = clear_ledger("employee", totals, LedgerBudget(budget(D(100000), P), D(95000)), hospitals, [], P)
    assert (led.hospitals["H1"].due, led.hospitals["H1"].balance) == (D(95000), D(5000))
    assert (led.hospitals["H2"].due, led.hospitals["H2"].balance) == (D(0), D(-5000))
