"""Each rule on hand-made stays sent through ingestion and grouped, with the figures worked out by
hand in the comments: what each rule finds, the figure, the threshold, and what it must leave alone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Role
from dianshu.settlement.runs import policies
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import run_job
from tests.supervision.helpers import findings, supervise
from tests.test_standards_db import builtin_versions  # noqa: F401

CHARGE = {"bed": 1, "exam": 3, "lab": 4, "treatment": 5, "surgery": 6, "nursing": 7, "drugs": 9}


def stay(list_id, hospital, *, start: date, los: int, patient=None, own=0, vent=None, **charges):
    """A pneumonia stay admitted `start` 09:00 for `los` days, its charges by category (yuan),
    its own-pay; the fund pays the rest (no co-payment)."""
    total = sum(charges.values())
    values = {f"med_chrgitm_{i:02d}": "0.00" for i in range(1, 15)}
    values |= {f"med_chrgitm_{CHARGE[k]:02d}": f"{v}.00" for k, v in charges.items()}
    end = start + timedelta(days=los)
    return row(
        list_id,
        hospital,
        psn_no=patient or f"P{list_id}",
        adm_time=f"{start.isoformat()} 09:00",
        dscg_time=f"{end.isoformat()} 10:00",
        act_ipt_days=str(los),
        medfee_sumamt=f"{total}.00",
        fund_pay_sumamt=f"{total - own}.00",
        psn_selfpay="0.00",
        psn_ownpay=f"{own}.00",
        **({"vent_used_dura": str(vent)} if vent is not None else {}),
        **values,
    )


async def load(db, city, zj, rows):
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes(rows), "rules")
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    return region


async def test_case_rules_by_hand(db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    may = date(2025, 5, 1)
    rows = [
        # Low-standard: 1 day, no procedure, no surgery; exam + lab = 3,000 + 2,000 = 5,000 of 6,000 =
        # 0.8333 ≥ 0.5; treatment 400 / 6,000 = 0.0667 ≤ 0.1: found, figure 0.8333.
        stay("LS-1", city.a1, start=may, los=1, bed=300, exam=3000, lab=2000, treatment=400, drugs=300),
        # Treatment 1,000 / 6,000 = 0.1667 > 0.1: not low-standard.
        stay("LS-2", city.a1, start=may, los=1, bed=300, exam=2400, lab=2000, treatment=1000, drugs=300),
        # Bed-hanging: 10 days, treatment + nursing + drugs = 100 + 100 + 200 = 400 = 40 a day < 50.
        stay("BH-1", city.a1, start=may, los=10, bed=3000, exam=1000, treatment=100, nursing=100, drugs=200),
        # 10 days with 60 + 100 + 400 = 560 = 56 a day: not bed-hanging.
        stay("BH-2", city.a1, start=may, los=10, bed=3000, exam=1000, treatment=60, nursing=100, drugs=400),
        # Ventilation 98 hours: in (96, 100]; 96 exactly and 101 are not.
        stay("V-98", city.a1, start=may, los=6, bed=500, treatment=2000, nursing=500, drugs=5000, vent=98),
        stay("V-96", city.a1, start=may, los=6, bed=500, treatment=2000, nursing=500, drugs=5000, vent=96),
        stay("V-101", city.a1, start=may, los=6, bed=500, treatment=2000, nursing=500, drugs=5000, vent=101),
        # Own-pay switch: 3,000 own-pay of 8,000 = 0.375 > 0.3; 2,400 = 0.3 exactly is not above.
        stay("O-1", city.a1, start=may, los=5, bed=500, treatment=2000, nursing=500, drugs=5000, own=3000),
        stay("O-2", city.a1, start=may, los=5, bed=500, treatment=2000, nursing=500, drugs=5000, own=2400),
        # Frequent: patient PF, three 40-day stays at a1 (gaps of 19 and 20 days: no split) = 120 > 100.
        *[
            stay(f"F-{i}", city.a1, start=s, los=40, patient="PF", bed=2000, treatment=2000, drugs=4000)
            for i, s in enumerate((date(2025, 1, 1), date(2025, 3, 1), date(2025, 5, 1)), start=1)
        ],
        # Patient PG: 60 days at a1 and 50 at a2: neither over 100, together 110: one finding each.
        stay("G-1", city.a1, start=date(2025, 7, 1), los=60, patient="PG", bed=2000, treatment=4000, drugs=4000),
        stay("G-2", city.a2, start=date(2025, 10, 1), los=50, patient="PG", bed=2000, treatment=4000, drugs=4000),
    ]
    region = await load(db, city, zj, rows)
    result = await supervise(db, region, city.a, version=str(zj))
    # No payment standard is in force: the two rules that need relative weights are skipped, said so.
    assert set(result["skipped"]) == {"upcoding_cmi", "service_shortfall"}
    got = {(f.rule, f.hospital_id, tuple(c)): f for f, c in await findings(db, (city.a,))}
    case_rules = {
        k
        for k in got
        if k[0]
        in (
            "low_standard_admission",
            "bed_hanging",
            "upcoding_ventilation",
            "own_pay_switch",
            "frequent_admission",
            "split_admission",
        )
    }
    assert case_rules == {
        ("low_standard_admission", city.a1, ("LS-1",)),
        ("bed_hanging", city.a1, ("BH-1",)),
        ("upcoding_ventilation", city.a1, ("V-98",)),
        ("own_pay_switch", city.a1, ("O-1",)),
        ("frequent_admission", city.a1, ("F-1", "F-2", "F-3")),
        ("frequent_admission", city.a1, ("G-1",)),
        ("frequent_admission", city.a2, ("G-2",)),
    }

    def ev(rule, hospital, cases):
        f = got[(rule, hospital, cases)]
        return f.figure, f.threshold, f.unit

    assert ev("low_standard_admission", city.a1, ("LS-1",)) == (D("0.8333"), D("0.5"), "share")
    assert ev("bed_hanging", city.a1, ("BH-1",)) == (D(40), D(50), "yuan_per_day")
    assert ev("upcoding_ventilation", city.a1, ("V-98",)) == (D(98), D(96), "hours")
    assert ev("own_pay_switch", city.a1, ("O-1",)) == (D("0.375"), D("0.3"), "share")
    assert ev("frequent_admission", city.a1, ("F-1", "F-2", "F-3")) == (D(120), D(100), "days")
    g1 = got[("frequent_admission", city.a1, ("G-1",))]
    assert (g1.figure, g1.evidence["variant"], g1.evidence["hospital_days"]) == (D(110), "all_hospitals", 60)


async def test_hospital_signals_by_hand(db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    rows = [
        # a1: 2 stays of 8,000 with own-pay 1,000 and 500: 1,500 / 16,000 = 0.09375 → 0.0938 > 0.08.
        stay("H-1", city.a1, start=date(2025, 2, 1), los=5, bed=500, treatment=2000, nursing=500, drugs=5000, own=1000),
        stay("H-2", city.a1, start=date(2025, 6, 1), los=5, bed=500, treatment=2000, nursing=500, drugs=5000, own=500),
        # a2: one stay of 20,000, own-pay 500 (0.025). Level 2's cost per case: (8,000 + 8,000 + 20,000)
        # / 3 = 12,000.00; over 12,000 × 1.2 = 14,400.00 is a2's 20,000.00: high cost.
        stay("H-3", city.a2, start=date(2025, 4, 1), los=5, bed=500, treatment=4000, nursing=500, drugs=15000, own=500),
    ]
    region = await load(db, city, zj, rows)
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "all", {"supervision_hospital_min_cases": 1}, "two-hospital test"
        )
    await supervise(db, region, city.a, version=str(zj))
    got = {(f.rule, f.hospital_id): f for f, _ in await findings(db, (city.a,)) if f.level == "hospital"}
    assert set(got) == {("own_pay_over", city.a1), ("high_cost", city.a2)}
    over = got[("own_pay_over", city.a1)]
    assert (over.figure, over.threshold, over.peer_value, over.unit) == (D("0.0938"), D("0.08"), None, "share")
    high = got[("high_cost", city.a2)]
    assert (high.figure, high.threshold, high.peer_value, high.unit) == (D(20000), D(14400), D(12000), "yuan")
    assert high.evidence["peers"] == 2 and high.evidence["level"] == 2
