"""PEPPER-style hospital signals on a hand-built world (tests/supervision/world.py), every figure
worked out by hand below.

Region A, 2025: five level-2 hospitals, four stays each (discharged on 6 March, May, July, September;
8,000 yuan each), and a6 of level 3 with one one-day stay. Per hospital:

  hospital  one-day stays  ES21 (MCC)  ES23 (CC)  own-pay a stay  readmissions
  a1        0 of 4         2           1          500             -
  a2        1              0           0          400             -
  a3        2              0           1          300             stay 4 admitted 10 days after stay 3
  a4        3              1           1          200             stay 4 admitted 20 days after stay 3
  a5        4              0           2          100             -

Shares (value = numerator / denominator) and percentiles among the 5 peers, (rank − 1) / 4 × 100,
ties sharing the lowest rank:
  one_day_stay   0, .25, .5, .75, 1            -> percentiles 0, 25, 50, 75, 100
  mcc_cc         .75, 0, .25, .5, .5 (ES21+ES23 of the 4 ES2 cases)
                 sorted a2 0 < a3 .25 < a4 = a5 .5 < a1 .75 -> a1 100, a2 0, a3 25, a4 50, a5 50
  error_prone    ES21 / ES2 cases: .5, 0, 0, .25, 0 -> a1 100, a4 75, a2 = a3 = a5 0
  own_pay        4 × own / 32,000: .0625, .05, .0375, .025, .0125 -> a1 100 ... a5 0
  readmission_short (15 days): a3 1/4 = .25, the rest 0 -> a3 100, the rest 0
  readmission_long (31 days): a3 = a4 = .25 (rank 4: 75), the rest 0
Flags: high at >= 80, low at <= 20 (5 peers = signal_min_peers). Priority = |percentile − 50| / 50 ×
cases: a1 own_pay 1 × 4 = 4, a5 one_day_stay 1 × 4 = 4, a5 own_pay 1 × 4 = 4, a1 mcc_cc 1 × 3 = 3,
a1 error_prone 1 × 2 = 2, a3 readmission_short 1 × 1 = 1, the low flags with no cases 0.

a5 also has four stays in 2023, one of them a one-day stay, all ES25: one_day_stay .25 in 2023, so
the 2025 trend is 1 − .25 = .75, and mcc_cc 0 in 2023 (trend .5). Alone in 2023, it has no percentile."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.supervision.signals import service
from dianshu.supervision.signals.models import HospitalSignal, SignalRun
from tests.conftest import scope_for
from tests.settlement.world import run_job
from tests.supervision.world import load, provision, standard, stay
from tests.test_standards_db import builtin_versions  # noqa: F401

PLAN = {  # hospital: (one-day stays, dx of stays 1-4, own-pay, readmission gap of stay 4)
    "a1": (0, ("mcc", "mcc", "cc", "none"), 500, None),
    "a2": (1, ("none",) * 4, 400, None),
    "a3": (2, ("cc", "none", "none", "none"), 300, 10),
    "a4": (3, ("mcc", "cc", "none", "none"), 200, 20),
    "a5": (4, ("cc", "cc", "none", "none"), 100, None),
}
MONTHS = (3, 5, 7, 9)


def region_a_rows(w):
    rows = []
    for name, (short, dxs, own, gap) in PLAN.items():
        h = w.hospitals[name]
        for i, dx in enumerate(dxs):
            los = 1 if i < short else 5
            discharged = datetime.date(2025, MONTHS[i], 6)
            patient = f"P-{name}-{i}"
            if i == 3 and gap is not None:  # readmits stay 3 (discharged 6 July) `gap` days later
                patient = f"P-{name}-2"
                discharged = datetime.date(2025, 7, 6) + datetime.timedelta(days=gap + los)
            rows.append(stay(h, discharged, los=los, dx=dx, own=own, patient=patient))
    rows.append(stay(w.a6, datetime.date(2025, 4, 6), los=1))
    for i in range(4):  # a5 in 2023: one one-day stay of four
        rows.append(stay(w.a5, datetime.date(2023, MONTHS[i], 6), los=1 if i == 0 else 5))
    return rows


@pytest.fixture
async def world(owner_db, db, dispatcher, builtin_versions):  # noqa: F811
    w = await provision(owner_db, db)
    zj = builtin_versions["zhejiang_2022"]
    await standard(db, w, zj)
    await load(db, w.a, region_a_rows(w), zj)
    # Region B: b1 (level 2), four one-day stays in 2025.
    await load(db, w.b, [stay(w.b1, datetime.date(2025, m, 6), los=1) for m in MONTHS], zj)
    return w


async def run(db, w, tenant, role=Role.region_admin):
    scope = scope_for(role, w.tenants if tenant == w.city else (tenant,))
    return await run_job(db, scope, tenant, service.SIGNALS, {"year": 2025})


async def rows_of(db, tenant, run_id, scope=None, year=2025):
    async with scoped_session(db, scope or Scope.system((tenant,))) as s:
        H = HospitalSignal
        q = select(H).where(H.tenant_id == tenant, H.run_id == run_id, H.year == year)
        return {(r.hospital_id, r.area): r for r in (await s.execute(q)).scalars()}


def figures(r):
    return (r.value, r.percentile, r.flag)


async def test_shares_percentiles_and_flags_by_hand(db, world):
    w = world
    result = await run(db, w, w.a)
    assert result["peers"] == "region" and result["first_year"] == 2023 and result["regions"] == 1
    got = await rows_of(db, w.a, uuid.UUID(result["signal_run"]))
    h = w.hospitals
    expected = {
        "one_day_stay": [
            ("0.0000", "0.00", "low"),
            ("0.2500", "25.00", None),
            ("0.5000", "50.00", None),
            ("0.7500", "75.00", None),
            ("1.0000", "100.00", "high"),
        ],
        "mcc_cc": [
            ("0.7500", "100.00", "high"),
            ("0.0000", "0.00", "low"),
            ("0.2500", "25.00", None),
            ("0.5000", "50.00", None),
            ("0.5000", "50.00", None),
        ],
        "error_prone": [
            ("0.5000", "100.00", "high"),
            ("0.0000", "0.00", "low"),
            ("0.0000", "0.00", "low"),
            ("0.2500", "75.00", None),
            ("0.0000", "0.00", "low"),
        ],
        "own_pay": [
            ("0.0625", "100.00", "high"),
            ("0.0500", "75.00", None),
            ("0.0375", "50.00", None),
            ("0.0250", "25.00", None),
            ("0.0125", "0.00", "low"),
        ],
        "readmission_short": [("0.0000", "0.00", "low")] * 2
        + [("0.2500", "100.00", "high")]
        + [("0.0000", "0.00", "low")] * 2,
        "readmission_long": [("0.0000", "0.00", "low")] * 2
        + [("0.2500", "75.00", None)] * 2
        + [("0.0000", "0.00", "low")],
    }
    for area, per in expected.items():
        for name, (value, pct, flag) in zip(("a1", "a2", "a3", "a4", "a5"), per, strict=True):
            r = got[(h[name], area)]
            assert figures(r) == (D(value), D(pct), flag), (name, area)
            assert r.peers == 5 and r.level == 2
    # Numerators and denominators: own-pay in yuan (a1: 4 × 500 of 4 × 8,000), counts for the others.
    own = got[(h["a1"], "own_pay")]
    assert (own.numerator, own.denominator, own.cases) == (D("2000.00"), D("32000.00"), 4)
    assert (got[(h["a1"], "mcc_cc")].numerator, got[(h["a1"], "mcc_cc")].denominator) == (D(3), D(4))
    # a6 (level 3) is alone at its level: a value, no percentile, no flag.
    a6 = got[(h["a6"], "one_day_stay")]
    assert (a6.value, a6.peers, a6.percentile, a6.flag) == (D(1), 1, None, None)


async def test_three_year_trend_and_history(db, world):
    w = world
    result = await run(db, w, w.a)
    run_id = uuid.UUID(result["signal_run"])
    got = await rows_of(db, w.a, run_id)
    a5 = w.a5
    assert got[(a5, "one_day_stay")].trend == D("0.7500")  # 1 − .25 (2023)
    assert got[(a5, "mcc_cc")].trend == D("0.5000")  # .5 − 0 (2023)
    assert got[(w.a1, "one_day_stay")].trend is None  # no earlier year
    old = await rows_of(db, w.a, run_id, year=2023)
    assert figures(old[(a5, "one_day_stay")]) == (D("0.2500"), None, None) and old[(a5, "one_day_stay")].peers == 1
    async with scoped_session(db, Scope.system((w.a,))) as s:
        r = await service.latest_run(s, w.a, 2025)
        flagged = {x.row.area: x for x in await service.signals(s, r, hospital=a5, flagged_only=True)}
    # a5: high on one_day_stay; low on own_pay, error_prone and both readmissions (0, with its peers'
    # shares above); mcc_cc (50) is not flagged.
    assert set(flagged) == {"one_day_stay", "own_pay", "error_prone", "readmission_short", "readmission_long"}
    history = [(h.year, h.value) for h in flagged["one_day_stay"].history]
    assert history == [(2023, D("0.2500")), (2025, D("1.0000"))]


async def test_audit_queue_order(db, world):
    w = world
    await run(db, w, w.a)
    async with scoped_session(db, Scope.system((w.a,))) as s:
        r = await service.latest_run(s, w.a, 2025)
        q = await service.queue(s, r)
    head = [(x.row.hospital_id, x.row.area, x.row.priority) for x in q[:6]]
    assert head == [
        (w.a1, "own_pay", D("4.0000")),
        (w.a5, "one_day_stay", D("4.0000")),
        (w.a5, "own_pay", D("4.0000")),
        (w.a1, "mcc_cc", D("3.0000")),
        (w.a1, "error_prone", D("2.0000")),
        (w.a3, "readmission_short", D("1.0000")),
    ]
    assert all(x.row.priority == 0 for x in q[6:]) and all(x.row.flag for x in q)


async def test_city_peers_include_every_region(db, world):
    # City run: one_day_stay of level 2 over a1..a5 and b1 (1.0): a1 0, a2 .25, a3 .5, a4 .75, a5 = b1 1:
    # ranks 1, 2, 3, 4, 5, 5 of 6 -> (rank − 1) / 5 × 100: 0, 20, 40, 60, 80, 80. At or below 20: low
    # (a1, a2); at or above 80: high (a5, b1).
    w = world
    result = await run(db, w, w.city, Role.city_admin)
    assert result["peers"] == "city" and result["regions"] == 2
    run_id = uuid.UUID(result["signal_run"])
    a = await rows_of(db, w.a, run_id)
    b = await rows_of(db, w.b, run_id)
    got = {n: figures(a[(w.hospitals[n], "one_day_stay")])[1:] for n in ("a1", "a2", "a3", "a4", "a5")}
    assert got == {
        "a1": (D(0), "low"),
        "a2": (D(20), "low"),
        "a3": (D(40), None),
        "a4": (D(60), None),
        "a5": (D(80), "high"),
    }
    assert figures(b[(w.b1, "one_day_stay")]) == (D(1), D(80), "high") and b[(w.b1, "one_day_stay")].peers == 6
    async with scoped_session(db, Scope.system((w.b,))) as s:
        assert (await service.latest_run(s, w.b, 2025)).peers == "city"


async def test_a_hospital_sees_only_its_own_signals(db, world):
    w = world
    result = await run(db, w, w.a)
    run_id = uuid.UUID(result["signal_run"])
    a1 = scope_for(Role.hospital_user, (w.a,), w.a1)
    mine = await rows_of(db, w.a, run_id, scope=a1)
    assert mine and {h for h, _ in mine} == {w.a1}
    a2 = scope_for(Role.hospital_user, (w.a,), w.a2)
    assert w.a1 not in {h for h, _ in await rows_of(db, w.a, run_id, scope=a2)}
    other = scope_for(Role.region_admin, (w.b,))
    assert await rows_of(db, w.a, run_id, scope=other) == {}
    async with scoped_session(db, other) as s:
        assert (await s.execute(text("select count(*) from signal_run where tenant_id = :t"), {"t": w.a})).scalar() == 0
    async with scoped_session(db, a1) as s:
        r = await service.latest_run(s, w.a, 2025)
        assert isinstance(r, SignalRun)
        assert {x.row.hospital_id for x in await service.queue(s, r)} == {w.a1}
