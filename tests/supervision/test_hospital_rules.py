"""The hospital-level rules upcoding_mcc_share, upcoding_cmi, own_pay_rise and service_shortfall on
small hand-built worlds (tests/supervision/world.py: pneumonia stays of 8,000 yuan; dx "mcc" groups
to ES21, "cc" to ES23, "none" to ES25, all of the split ADRG ES2), every figure worked out by hand
below: for each rule (and each variant), a hospital that crosses its threshold and one just under.

The policy's defaults (Policy, supervision_*): peer percentile 0.9, MCC/CC share margin 0.1, jump
0.1, z 3, CMI margin 0.1, own-pay rise 0.02, high RW 2, high-RW share drop 0.02, readmission rise
0.01; the minimum of cases is set to 10 for these small hospitals (every hospital here has 10 or 11).

The project's percentile (hospitals.py): percentile_disc(0.9) over the k peers of the same level
(the hospital itself left out), the first value whose cumulative share i / k reaches 0.9, i.e. the
ceil(0.9 k)-th smallest: with 2 peers the 2nd (ceil 1.8), with 3 the 3rd (ceil 2.7): the highest.
The binomial test: count − n p ≥ z · sqrt(n p (1 − p)), with p the peers' share (or last year's).

Then confirming a hospital-level upcoding signal: the auditor names the evidence cases the audit
found upcoded; those get the `upcoding` violation that the evaluation's C10 and the points run read."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.evaluation.indicators import Measure, compute_indicators
from dianshu.scope import Role, Scope
from dianshu.settlement.models import CaseViolation
from dianshu.settlement.runs import budgets, policies
from dianshu.settlement.runs.points import POINTS
from dianshu.supervision import service
from dianshu.supervision.models import SupervisionFindingCase
from tests.api import Api
from tests.conftest import scope_for
from tests.settlement.world import run_job
from tests.supervision.helpers import findings, supervise
from tests.supervision.test_findings import points_of
from tests.supervision.world import load, provision, stay, weighted_standard
from tests.test_standards_db import builtin_versions  # noqa: F401


def lid(name: str, year: int, i: int) -> str:
    return f"{name}-{year}-{i:02d}"


def series(w, name: str, year: int, dxs, *, own: int = 500, readmit: bool = False, totals=None):
    """Hospital `name`'s stays of `year`, stay i discharged on the 6th of month i + 1 (list id
    name-year-ii), dx by stay, 8,000 yuan (or totals[i]). `readmit`: stay 1 is stay 0's patient
    again, discharged 20 January after 5 days: admitted 15 January, 9 days after stay 0's discharge
    (6 January), unplanned."""
    rows = []
    for i, dx in enumerate(dxs):
        discharged = datetime.date(year, i + 1, 6)
        patient = f"P-{name}-{year}-{i}"
        if readmit and i == 1:
            discharged, patient = datetime.date(year, 1, 20), f"P-{name}-{year}-0"
        total = (totals or {}).get(i, 8000)
        rows.append(
            stay(
                w.hospitals[name], discharged, dx=dx, own=own, patient=patient, list_id=lid(name, year, i), total=total
            )
        )
    return rows


def dx(mcc: int, cc: int, none: int = 0) -> list[str]:
    return ["mcc"] * mcc + ["cc"] * cc + ["none"] * none


async def small_hospitals(db, region, w, tenant):
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, w.city, tenant, 2025, "all", {"supervision_hospital_min_cases": 10}, "small hospitals"
        )


def by_rule(got, rule):
    return {f.hospital_id: (f, cases) for f, cases in got if f.rule == rule}


# ---------------------------------------------------------------------------------------------------
# upcoding_mcc_share. Every stay not with MCC is with CC, so the MCC/CC share is 1 everywhere (this
# year and last): its two variants (above the peers' 1 + 0.1, up 0.1 on last year's 1) never fire and
# the MCC share alone is judged.
#
# Region A, 2025, 10 stays each; three level groups, so each test hospital has its own peers:
#   level 2: a1 6 MCC (0.6; its stay 05 costs 9,000), a2 2 (0.2), a3 1 (0.1)
#     a1: peers a2, a3: percentile the 2nd of (0.1, 0.2) = 0.2; 0.6 > 0.2 + 0.1 = 0.3, and
#         6 − 10 × 0.2 = 4 ≥ 3 × sqrt(10 × 0.2 × 0.8) = 3 × 1.264911 = 3.794733 (z = 4 / 1.264911 = 3.16):
#         FOUND, variant mcc_peers, figure 0.6, threshold 0.3, peers' value 0.2.
#     a2: peers a1, a3: 0.6: 0.2 is not above 0.7; a3 likewise.
#   level 3: a4 1 MCC (0.1), a5 0, a6 0
#     a4: peers' percentile 0: threshold 0 + 0.1 = 0.1; 0.1 is not above 0.1: JUST UNDER (the margin
#         alone: with p = 0 the standard error is 0 and the binomial test, 1 − 0 ≥ 0, holds).
#     a5 (and a6): peers (0.1, 0): 0.1 + 0.1 = 0.2; 0 is not above. a5's stays 0 and 1 are one
#     patient 9 days apart in ES23: a case-level split admission (for the refusals below).
#   level 1: a7 5 MCC (0.5), a8 2 (0.2), a9 1 (0.1, own-pay 700 a stay: 0.0875 > 0.08, own_pay_over)
#     a7: peers' percentile 0.2, threshold 0.3: 0.5 is above, but 5 − 2 = 3 < 3.794733
#         (z = 3 / 1.264911 = 2.37 < 3): the excess may be chance: JUST UNDER the z-score.
# Region B, level 2, the year-over-year jump (last year's share p):
#   b1 2024 1 MCC of 10 (0.1), 2025 4 of 10 (0.4): up 0.3 ≥ 0.1, and 4 − 10 × 0.1 = 3 ≥
#      3 × sqrt(10 × 0.1 × 0.9) = 3 × 0.948683 = 2.846050 (z = 3.16): FOUND, variant mcc_jump,
#      figure 0.4, threshold 0.1 + 0.1 = 0.2; peers b2 (0.0909), b3 (0.3), b4 (0.3): the 3rd = 0.3, and
#      0.4 is not above 0.3 + 0.1 (so mcc_jump alone); the peers' value shown is 0.3.
#   b2 2024 0 of 10, 2025 1 of 11 = 0.0909 (4 places): up 0.0909 < 0.1: JUST UNDER the jump (p = 0: the
#      binomial test holds, 1 − 0 ≥ 0).
#   b3 2025 3 of 10 (0.3), no 2024: peers' 0.4, threshold 0.5: nothing.
#   b4 2024 1 of 10, 2025 3 of 10: up 0.2 ≥ 0.1, but 3 − 1 = 2 < 2.846050 (z = 2.11): JUST UNDER the
#      z-score of the jump; peers (0.4, 0.0909, 0.3): 0.4 + 0.1: nothing.
# Region B, level 3, the MCC/CC share (no MCC at all: the MCC share is 0 against peers' 0, never above
# 0 + 0.1), 2025 only:
#   b5 6 CC + 4 none (MCC/CC share 0.6), b6 2 CC + 8 none (0.2), b7 1 CC + 9 none (0.1)
#   b5: peers' percentile the 2nd of (0.1, 0.2) = 0.2; 0.6 > 0.3 and 6 − 2 = 4 ≥ 3.794733: FOUND,
#       variant mcc_cc_peers, figure 0.6, threshold 0.3, peers' value 0.2; its evidence: the MCC or
#       CC cases, its six CC stays. b6: peers (0.6, 0.1): 0.6 + 0.1: nothing; b7 neither.
PLAN_M_A = {
    "a1": dx(6, 4),
    "a2": dx(2, 8),
    "a3": dx(1, 9),
    "a4": dx(1, 9),
    "a5": dx(0, 10),
    "a6": dx(0, 10),
    "a7": dx(5, 5),
    "a8": dx(2, 8),
    "a9": dx(1, 9),
}
PLAN_M_B = {  # name: (2024, 2025)
    "b1": (dx(1, 9), dx(4, 6)),
    "b2": (dx(0, 10), dx(1, 10)),
    "b3": (None, dx(3, 7)),
    "b4": (dx(1, 9), dx(3, 7)),
    "b5": (None, dx(0, 6, 4)),
    "b6": (None, dx(0, 2, 8)),
    "b7": (None, dx(0, 1, 9)),
}


@pytest.fixture
async def mcc_world(owner_db, db, dispatcher, builtin_versions):  # noqa: F811
    w = await provision(owner_db, db, levels_a=(2, 2, 2, 3, 3, 3, 1, 1, 1), levels_b=(2, 2, 2, 2, 3, 3, 3))
    zj = builtin_versions["zhejiang_2022"]
    await weighted_standard(db, w, zj)
    rows_a = []
    for name, dxs in PLAN_M_A.items():
        totals = {5: 9000} if name == "a1" else None  # a1's last MCC stay the costliest (the evidence's order)
        rows_a += series(w, name, 2025, dxs, own=700 if name == "a9" else 500, readmit=name == "a5", totals=totals)
    rows_b = []
    for name, (last, this) in PLAN_M_B.items():
        rows_b += series(w, name, 2025, this) + (series(w, name, 2024, last) if last else [])
    region_a = await load(db, w.a, rows_a, zj)
    region_b = await load(db, w.b, rows_b, zj)
    for region, tenant in ((region_a, w.a), (region_b, w.b)):
        await small_hospitals(db, region, w, tenant)
        await supervise(db, region, tenant)
    return w, region_a, region_b


async def test_upcoding_mcc_share_by_hand(db, mcc_world, monkeypatch):
    w, region_a, _ = mcc_world
    got = by_rule(await findings(db, (w.a, w.b)), "upcoding_mcc_share")
    # a4 (just under the margin), a7 (under the z-score), b2 (just under the jump), b4 (under the
    # jump's z-score) and the peers have none.
    assert set(got) == {w.a1, w.b1, w.b5}

    f, cases = got[w.a1]
    assert (f.figure, f.threshold, f.peer_value, f.unit, f.level) == (D("0.6"), D("0.3"), D("0.2"), "share", "hospital")
    e = f.evidence
    assert e["variant"] == "mcc_peers"
    assert (e["split_cases"], e["mcc_cases"], e["mcc_cc_cases"], e["peers"], e["level"]) == (10, 6, 10, 2, 2)
    assert (D(str(e["mcc_share"])), D(str(e["peers_mcc_share"])), D(str(e["percentile"]))) == (
        D("0.6"),
        D("0.2"),
        D("0.9"),
    )
    assert (D(str(e["mcc_cc_share"])), e["last_year_mcc_share"]) == (D(1), None)
    # The evidence: its six MCC cases of the year (stays 0-5), none a subject until a confirmation.
    assert cases == [lid("a1", 2025, i) for i in range(6)] and e["evidence_cases"] == 6
    async with scoped_session(db, Scope.system((w.a,))) as s:
        subjects = (
            await s.execute(select(SupervisionFindingCase.subject).where(SupervisionFindingCase.finding_id == f.id))
        ).scalars()
        assert set(subjects) == {False}

    f, cases = got[w.b1]
    assert (f.figure, f.threshold, f.peer_value, f.unit) == (D("0.4"), D("0.2"), D("0.3"), "share")
    e = f.evidence
    assert e["variant"] == "mcc_jump" and e["peers"] == 3
    assert (D(str(e["last_year_mcc_share"])), D(str(e["mcc_share"])), e["mcc_cases"]) == (D("0.1"), D("0.4"), 4)
    # This year's MCC cases only (2024's one is last year's figure).
    assert cases == [lid("b1", 2025, i) for i in range(4)]

    f, cases = got[w.b5]
    assert (f.figure, f.threshold, f.peer_value, f.unit) == (D("0.6"), D("0.3"), D("0.2"), "share")
    e = f.evidence
    assert (e["variant"], e["mcc_cases"], e["mcc_cc_cases"], D(str(e["peers_mcc_share"]))) == ("mcc_cc_peers", 0, 6, 0)
    assert cases == [lid("b5", 2025, i) for i in range(6)]  # the MCC-or-CC cases (its CC stays)

    # The evidence is bounded (EVIDENCE_CASES, here 3): the costliest first, then by list id: a1's
    # stay 05 (9,000 yuan), then 00 and 01 (8,000). The open finding follows the re-run.
    monkeypatch.setattr("dianshu.supervision.run.EVIDENCE_CASES", 3)
    await supervise(db, region_a, w.a)
    f, cases = by_rule(await findings(db, (w.a,)), "upcoding_mcc_share")[w.a1]
    assert cases == [lid("a1", 2025, i) for i in (0, 1, 5)]
    assert (f.evidence["evidence_cases"], f.evidence["mcc_cases"]) == (3, 6)


# ---------------------------------------------------------------------------------------------------
# upcoding_cmi, own_pay_rise and service_shortfall. RW = base points / 100 of the standard in force
# (world.WEIGHTS): ES21 2, ES23 1, ES25 0.5.
#
# Region A, 2025, 10 stays each, CMI = mean RW:
#   level 2: a1 3 MCC + 7 CC: (3 × 2 + 7 × 1) / 10 = 1.3; a2 10 CC: 1.0; a3 5 CC + 5 none: 0.75
#     a1: peers' percentile the 2nd of (0.75, 1.0) = 1.0; 1.3 > 1.0 × 1.1 = 1.1: FOUND, figure 1.3,
#         threshold 1.1, peers' value 1.0; evidence: its cases with RW above 1.0, the 3 ES21 stays.
#     a2: peers (1.3, 0.75): 1.3 × 1.1 = 1.43: nothing; a3 neither.
#   level 3: a4 1 MCC + 9 CC: (2 + 9) / 10 = 1.1; a5 1.0; a6 0.75
#     a4: peers' 1.0, threshold 1.1: 1.1 is not above 1.1: JUST UNDER. a5: 1.1 × 1.1 = 1.21: nothing.
# Region B, level 1, 2024 and 2025, 10 stays each unless said:
#   own-pay share = Σ own-pay / Σ cost, 4 places; 500 of 8,000 = 0.0625.
#   b1 own-pay 500 (2024) then 660: 6,600 / 80,000 = 0.0825; up 0.02 ≥ 0.02: FOUND (at the threshold
#      exactly: ≥), figure 0.0825, threshold 0.0625 + 0.02 = 0.0825.
#   b2 500 then 659: 6,590 / 80,000 = 0.082375 → 0.0824; up 0.0199 < 0.02: JUST UNDER.
#   Service shortfall: high-RW share = cases with RW ≥ 2 (ES21) ÷ cases with an RW; readmission rate
#   = stays followed by the same patient's unplanned stay at the hospital within 31 days ÷ cases.
#   b3 2024 2 MCC + 8 CC (high 0.2, no readmission); 2025 1 MCC + 9 CC (0.1), stay 1 readmits stay
#      0 after 9 days (0.1): down 0.1 ≥ 0.02 and up 0.1 ≥ 0.01: FOUND, figure 0.1, threshold
#      0.2 − 0.02 = 0.18, the value compared with last year's 0.2.
#   b4 2024 2 + 8 (0.2); 2025 11 stays, 2 MCC + 9 CC: 2 / 11 = 0.1818, down 0.0182 < 0.02 (its
#      readmission, 1 / 11 = 0.0909, is up enough): JUST UNDER the drop.
#   b5 2024 2 + 8; 2025 1 + 9 with no readmission: down 0.1, readmissions up 0 < 0.01: nothing.
#   b6 as b3 but its readmission crosses the year: 2025's stay 9 discharged 6 December, its patient
#      admitted again 5 January 2026 (30 days later): 2025's readmission rate 1 / 10 = 0.1: FOUND
#      like b3 (the next stay is looked for into January; the 2026 stay itself counts in no figure).
#   (b3–b5 keep own-pay 500, b1 and b2 have no ES21: neither rule's other hospitals move.)
PLAN_W_A = {
    "a1": dx(3, 7),
    "a2": dx(0, 10),
    "a3": dx(0, 5, 5),
    "a4": dx(1, 9),
    "a5": dx(0, 10),
    "a6": dx(0, 5, 5),
}
PLAN_W_B = {  # name: ((2024 dx, own), (2025 dx, own, readmission))
    "b1": ((dx(0, 10), 500), (dx(0, 10), 660, False)),
    "b2": ((dx(0, 10), 500), (dx(0, 10), 659, False)),
    "b3": ((dx(2, 8), 500), (dx(1, 9), 500, True)),
    "b4": ((dx(2, 8), 500), (dx(2, 9), 500, True)),
    "b5": ((dx(2, 8), 500), (dx(1, 9), 500, False)),
}


async def test_upcoding_cmi_own_pay_rise_and_service_shortfall_by_hand(owner_db, db, dispatcher, builtin_versions):  # noqa: F811
    w = await provision(owner_db, db, levels_a=(2, 2, 2, 3, 3, 3), levels_b=(1, 1, 1, 1, 1, 1))
    zj = builtin_versions["zhejiang_2022"]
    await weighted_standard(db, w, zj)
    rows_a = [r for name, dxs in PLAN_W_A.items() for r in series(w, name, 2025, dxs)]
    rows_b = []
    for name, ((last, own_last), (this, own, readmit)) in PLAN_W_B.items():
        rows_b += series(w, name, 2024, last, own=own_last) + series(w, name, 2025, this, own=own, readmit=readmit)
    b6 = w.hospitals["b6"]
    rows_b += series(w, "b6", 2024, dx(2, 8)) + series(w, "b6", 2025, dx(1, 8))
    rows_b += [
        stay(b6, datetime.date(2025, 12, 6), dx="cc", patient="P-b6-dec", list_id=lid("b6", 2025, 9)),
        stay(b6, datetime.date(2026, 1, 10), dx="cc", patient="P-b6-dec", list_id=lid("b6", 2026, 0)),
    ]
    for tenant, rows in ((w.a, rows_a), (w.b, rows_b)):
        region = await load(db, tenant, rows, zj)
        await small_hospitals(db, region, w, tenant)
        result = await supervise(db, region, tenant)
        assert result["skipped"] == {}  # the standard is in force: nothing skipped
    got = await findings(db, (w.a, w.b))

    cmi = by_rule(got, "upcoding_cmi")
    assert set(cmi) == {w.a1}  # a4 at 1.1 exactly is not above 1.1
    f, cases = cmi[w.a1]
    assert (f.figure, f.threshold, f.peer_value, f.unit) == (D("1.3"), D("1.1"), D("1.0"), "cmi")
    assert (f.evidence["rw_cases"], f.evidence["peers"], f.evidence["last_year"]) == (10, 2, None)
    assert D(str(f.evidence["percentile"])) == D("0.9") and f.evidence["evidence_cases"] == 3
    assert cases == [lid("a1", 2025, i) for i in range(3)]  # its ES21 stays, RW 2 > 1.0

    rise = by_rule(got, "own_pay_rise")
    assert set(rise) == {w.b1}  # b2, up 0.0199, is not
    f, cases = rise[w.b1]
    assert (f.figure, f.threshold, f.peer_value, f.unit, cases) == (D("0.0825"), D("0.0825"), None, "share", [])
    assert D(str(f.evidence["last_year"])) == D("0.0625")
    assert (D(str(f.evidence["own_pay"])), D(str(f.evidence["cost"]))) == (D(6600), D(80000))

    short = by_rule(got, "service_shortfall")
    assert set(short) == {w.b3, w.b6}  # b4 fell 0.0182, b5's readmissions did not rise
    for h in (w.b3, w.b6):
        f, cases = short[h]
        assert (f.figure, f.threshold, f.peer_value, f.unit, cases) == (D("0.1"), D("0.18"), D("0.2"), "share", [])
        e = {k: D(str(v)) for k, v in f.evidence.items() if k.startswith(("high_rw", "readmission"))}
        assert e == {
            "high_rw_share": D("0.1"),
            "high_rw_share_last_year": D("0.2"),
            "readmission_rate": D("0.1"),
            "readmission_rate_last_year": D(0),
        }
        assert f.evidence["cases"] == 10  # b6's January 2026 stay is not one of 2025's


# ---------------------------------------------------------------------------------------------------
# Confirming a hospital-level upcoding signal (mcc_world's a1: 10 stays, its MCC stays a1-2025-00..05
# as evidence) names the cases the audit found upcoded.


async def _audits(db, w, finding_id):
    async with scoped_session(db, Scope.system((w.a, w.b))) as s:
        q = select(AuditEntry).where(AuditEntry.target == f"finding:{finding_id}")
        return list((await s.execute(q)).scalars())


async def _violations(db, w):
    async with scoped_session(db, Scope.system((w.a, w.b))) as s:
        rows = (await s.execute(select(CaseViolation).order_by(CaseViolation.list_id))).scalars()
        return [(v.hospital_id, v.list_id, v.kind, v.serious) for v in rows]


async def test_confirming_an_upcoding_signal_with_named_cases_feeds_c10_and_the_points_run(db, mcc_world):
    w, region, region_b = mcc_world
    got = await findings(db, (w.a, w.b))
    mcc = by_rule(got, "upcoding_mcc_share")
    f, _ = mcc[w.a1]
    (split, _), (over, _) = by_rule(got, "split_admission")[w.a5], by_rule(got, "own_pay_over")[w.a9]
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, w.city, w.a, 2025, "employee", {"provisional_point_value": "100"}, "t"
        )
        await budgets.set_budget(
            s, region, w.city, w.a, 2025, "employee", growth_rate="0", last_year_spending="600000", reason="t"
        )
    before = await points_of(db, w, (await run_job(db, region, w.a, POINTS, {"year": 2025}))["points_run"])
    named = [lid("a1", 2025, 0), lid("a1", 2025, 1)]
    # ES21: b = 200 points, coefficient 1, cost 8,000 / 8,000 = ratio 1: a normal case of 200 points.
    assert [before[x] for x in named] == [(D(200), D(0))] * 2

    async def refused(finding_id, **kw):
        async with scoped_session(db, region) as s:
            with pytest.raises(service.FindingRefused) as e:
                await service.decide(s, region, finding_id, kw.pop("state", "confirmed"), "audit 2025-09", **kw)
        return e.value

    # Naming cases on a case-level rule (its cases are its own) or on a rule with no violation kind.
    e = await refused(split.id, cases=[lid("a5", 2025, 1)])
    assert (e.field, e.kind) == ("cases", "invalid") and "case-level" in e.reason
    e = await refused(over.id, cases=[lid("a9", 2025, 0)])
    assert (e.field, e.kind) == ("cases", "invalid") and "writes no violation" in e.reason
    # A case not among the finding's: a1's CC stay a1-2025-09, and another hospital's stay.
    for outside in (lid("a1", 2025, 9), lid("a2", 2025, 0)):
        e = await refused(f.id, cases=[named[0], outside])
        assert e.field == "cases" and e.reason == f"case {outside}: not one of the finding's cases"
    e = await refused(f.id, cases=[named[0], named[0]])
    assert (e.field, e.reason) == ("cases", "each case once")
    e = await refused(f.id, cases=named, state="dismissed")
    assert e.field == "cases"
    # Serious with no case named: nothing to deduct.
    e = await refused(f.id, serious=True)
    assert e.field == "serious"
    assert await _violations(db, w) == [] and await _audits(db, w, f.id) == []

    async with scoped_session(db, region) as s:
        done = await service.decide(
            s, region, f.id, "confirmed", "audit 2025-09: MCCs not in the notes", True, cases=named
        )
    assert (done.state, done.serious) == ("confirmed", True)
    assert await _violations(db, w) == [(w.a1, x, "upcoding", True) for x in named]
    (entry,) = await _audits(db, w, f.id)
    assert (entry.details["cases"], entry.details["violations"]) == (named, named)
    # The named cases are now the finding's subjects; the other evidence cases are not.
    async with scoped_session(db, Scope.system((w.a,))) as s:
        rows = (
            await s.execute(select(SupervisionFindingCase).where(SupervisionFindingCase.finding_id == f.id))
        ).scalars()
        assert {c.list_id: c.subject for c in rows} == {lid("a1", 2025, i): i < 2 for i in range(6)}

    # The same decision again (a retried request): nothing written, nothing audited. Other cases: a
    # state conflict naming what was decided.
    async with scoped_session(db, region) as s:
        again = await service.decide(s, region, f.id, "confirmed", "retried", True, cases=list(reversed(named)))
    assert again.reason == "audit 2025-09: MCCs not in the notes"
    assert len(await _audits(db, w, f.id)) == 1 and len(await _violations(db, w)) == 2
    e = await refused(f.id, serious=True, cases=[lid("a1", 2025, 2)])
    assert (e.field, e.kind) == ("state", "state") and f"on cases {named[0]}, {named[1]}" in e.reason

    # C10 (upcoding_share): cases with a confirmed upcoding ÷ cases × 100 = 2 / 10 × 100 = 20.
    async with scoped_session(db, region) as s:
        indicators = await compute_indicators(s, (w.a,), 2025)
    assert indicators.values[(w.a1, "upcoding_share")] == Measure(D("20.0000"), D(2), D(10))
    assert indicators.values[(w.a2, "upcoding_share")].value == D(0)

    # SPEC section 5: a confirmed violation counts 0 points and, serious, deducts multiple × b =
    # 2 (upcoding) × 200 = 400 points; the hospital's other cases are as before.
    after = await points_of(db, w, (await run_job(db, region, w.a, POINTS, {"year": 2025}))["points_run"])
    assert [after[x] for x in named] == [(D(0), D(400))] * 2
    assert {k: v for k, v in after.items() if k not in named} == {k: v for k, v in before.items() if k not in named}

    # b1's signal confirmed with no case named: the signal only, no violation, said so in the audit.
    fb, _ = mcc[w.b1]
    async with scoped_session(db, region_b) as s:
        await service.decide(s, region_b, fb.id, "confirmed", "the share is real; no case proven")
    assert len(await _violations(db, w)) == 2
    (entry,) = await _audits(db, w, fb.id)
    assert entry.details["cases"] == [] and entry.details["note"].startswith("signal only")


CONFIRM = """mutation($i: ConfirmFindingInput!) { confirmFinding(input: $i) { __typename
  ... on FindingPayload { finding { state serious cases { listId subject } } }
  ... on ValidationError { errors { field reason } } ... on StateConflict { field reason } } }"""


async def test_confirming_with_cases_through_the_typed_api(settings, db, mcc_world):
    w, _, _ = mcc_world
    f, _ = by_rule(await findings(db, (w.a,)), "upcoding_mcc_share")[w.a1]
    api = Api(settings, db)
    try:
        region = api.token(Role.region_admin, [w.a])
        ask = {"tenant": w.a, "finding": str(f.id), "serious": False, "reason": "audit: upcoded"}
        bad = (await api.gql(region, CONFIRM, {"i": {**ask, "cases": [lid("a1", 2025, 9)]}}))["confirmFinding"]
        assert bad == {
            "__typename": "ValidationError",
            "errors": [
                {"field": "input.cases", "reason": f"case {lid('a1', 2025, 9)}: not one of the finding's cases"}
            ],
        }
        ok = (await api.gql(region, CONFIRM, {"i": {**ask, "cases": [lid("a1", 2025, 3)]}}))["confirmFinding"]
        assert ok["finding"]["state"] == "confirmed"
        assert [c["listId"] for c in ok["finding"]["cases"] if c["subject"]] == [lid("a1", 2025, 3)]
        assert len(ok["finding"]["cases"]) == 6
    finally:
        await api.client.aclose()
    assert await _violations(db, w) == [(w.a1, lid("a1", 2025, 3), "upcoding", False)]
    async with scoped_session(db, scope_for(Role.region_admin, (w.a,))) as s:
        n = (await s.execute(select(func.count()).select_from(CaseViolation))).scalar()
    assert n == 1
