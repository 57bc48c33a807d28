"""A small evaluated year for the computed indicators, built through the real paths (ingestion,
grouping, points runs, violations, reviews, audit deductions), with a few owner-side touches where
the real path cannot reach today (an ambiguous group: the published ZJ-DRG has QY disabled; arrival
and batch times: everything here arrives in the test's own today).

Region A: hospitals a1, a2 (level 2) and a3 (level 3, added here); region B: b1 (level 2, no cases).
Every stay: employee (310); charges in fixed shares of the total T (bed 5%, consultation 1%,
examination 7%, laboratory 11%, treatment 4%, surgery 6%, nursing 2%, materials 13%, western drugs
23%, herbal 3%, patent drugs 17%, general 2%, registration 1%, other 5%); fund 70%, self-pay 20%,
own-pay 10% of T. Age 64, male. Discharge at 10:00, admission at 09:00.

ZJ-DRG 2022 groups: J18.900 + I10 -> ES23; J18.900 alone -> ES25; I63.900 -> BR25;
C61.x00 + 60.5x02 -> MA15; K35.800x001 + 47.0100 -> GD19; B20.001 -> YR15; J18.900 + 47.0100 -> 0000.
The payment standard (in force from 2024-01-01), avg_cost_all 10,000:
  ES23 avg 8,000 b 80 (RW 0.8)   ES25 avg 5,000 b 50 (RW 0.5)   BR25 avg 20,000 b 200 (RW 2)
  MA15 avg 30,000 b 300 (RW 3, 3 cases in the standard: a small group)   GD19 avg 10,000 b 100 (RW 1)
  YR15 has no parameters (no RW; paid by item).

2025 stays (list id, patient, group, T, admitted -> discharged, LOS, discharge way; notes):
 a1 A1-01 P1  ES23  6,000 03-01 -> 03-06  5 1  readmitted by A1-02 after 9 days (same DRG)
    A1-02 P1  ES23  8,000 03-15 -> 03-20  5 1
    A1-03 P3  ES23  8,000 05-01 -> 05-06  5 5  died; confirmed upcoding, serious
    A1-04 P4  ES23  8,000 06-01 -> 06-06  5 1  confirmed bed_hanging; next stay A1-10 is planned
    A1-05 P5  ES23 10,000 07-01 -> 07-06  5 1  corrected once (version 2); A1-07 after 26 days
    A1-06 P6  ES25  5,000 08-01 -> 08-03  2 5  died
    A1-07 P5  BR25 20,000 08-01 -> 08-11 10 1
    A1-08 P8  MA15 30,000 10-01 -> 10-09  8 5  died; procedure 60.5x02 on 10-03, level 4; review refused
    A1-10 P4  ES25  5,000 06-10 -> 06-13  3 1  planned readmission
    A1-11 P11 ES25  5,000 11-01 -> 11-04  3 1  procedure-less
 a2 A2-01 P21 ES25  5,000 02-01 -> 02-04  3 1  confirmed no_indication, serious
    A2-02 P22 BR25 20,000 03-01 -> 03-13 12 5  died
    A2-03 P23 GD19 10,000 04-01 -> 04-07  6 5  died; 47.0100 on 04-02, level 3
    A2-04 P24 GD19 10,000 05-01 -> 05-05  4 1  47.0100 on 05-02, level 2
    A2-05 P25 ES23 40,000 06-01 -> 06-11 10 1  high outlier; review decided add_points
    A2-06 P26 ES25  1,000 07-01 -> 07-02  1 1  low outlier; confirmed split_admission
    A2-07 P27 ES23  8,000 12-15 -> 12-20  5 1  readmitted by A2-08 on 2026-01-05 (16 days)
 a3 A3-01 P31 ES23  8,000 03-01 -> 03-06  5 1
    A3-02 P32 YR15 12,000 04-01 -> 04-11 10 1  review submitted only
    A3-03 P33 0000  9,000 05-01 -> 05-04  3 1  47.0100 on 05-02, level 3
    A3-04 P34 EQY   6,000 06-01 -> 06-03  2 1  (grouped ES25, set to EQY by the owner)
2024: a1 L24-1 ES23 8,000 and L24-2 ES23 10,000 (June); a3 L24-3 ES23 8,000. 2026: a2 A2-08 P27 ES23
8,000 01-05 -> 01-10.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.reviews import service as reviews
from dianshu.scope import Role, Scope
from dianshu.settlement.runs import regional
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.policies import set_region_policy
from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
from dianshu.standards.service import publish_payment_standard
from dianshu.tenancy.service import upsert_hospitals, validate_roster
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import run_job

SHARES = (5, 1, 7, 11, 4, 6, 2, 13, 23, 3, 17, 2, 1, 5)
GROUP_CODES = {
    "ES23": dict(diag_codes="J18.900|I10.x00x002", adm_cond_types="1|1"),
    "ES25": dict(diag_codes="J18.900", adm_cond_types="1"),
    "BR25": dict(diag_codes="I63.900", adm_cond_types="1"),
    "MA15": dict(diag_codes="C61.x00", adm_cond_types="1", oprn_oprt_codes="60.5x02"),
    "GD19": dict(diag_codes="K35.800x001", adm_cond_types="1", oprn_oprt_codes="47.0100"),
    "YR15": dict(diag_codes="B20.001", adm_cond_types="1"),
    "0000": dict(diag_codes="J18.900", adm_cond_types="1", oprn_oprt_codes="47.0100"),
}
STANDARD = {  # drg: (avg_cost, base_points, cases in the standard)
    "ES23": (8000, 80, 100),
    "ES25": (5000, 50, 100),
    "BR25": (20000, 200, 100),
    "MA15": (30000, 300, 3),
    "GD19": (10000, 100, 100),
}


def stay(list_id, hospital, patient, group, total, admitted, discharged, way=1, proc=None, planned=False, **over):
    """`admitted`, `discharged`: dates; `proc`: (date, level) of the group's procedure."""
    t = D(total)
    fields = {f"med_chrgitm_{i:02d}": f"{t * s / 100:.2f}" for i, s in enumerate(SHARES, start=1)}
    fields.update(GROUP_CODES[group])
    if proc is not None:
        fields.update(oprn_oprt_dates=proc[0].isoformat(), oprn_oprt_lvs=str(proc[1]))
    fields.update(
        psn_no=patient,
        medfee_sumamt=f"{t:.2f}",
        fund_pay_sumamt=f"{t * 7 / 10:.2f}",
        psn_selfpay=f"{t * 2 / 10:.2f}",
        psn_ownpay=f"{t / 10:.2f}",
        adm_time=f"{admitted.isoformat()} 09:00",
        dscg_time=f"{discharged.isoformat()} 10:00",
        act_ipt_days=str((discharged - admitted).days),
        dscg_way=str(way),
        days_rinp_flag_31="1" if planned else "0",
        brdy="1961-01-01",
        age="64",
    )
    fields.update(over)
    return row(list_id, hospital, **fields)


def d(m, day, y=2025):
    return date(y, m, day)


def a_rows(city):
    a1, a2 = city.a1, city.a2
    return [
        stay("A1-01", a1, "P1", "ES23", 6000, d(3, 1), d(3, 6)),
        stay("A1-02", a1, "P1", "ES23", 8000, d(3, 15), d(3, 20)),
        stay("A1-03", a1, "P3", "ES23", 8000, d(5, 1), d(5, 6), way=5),
        stay("A1-04", a1, "P4", "ES23", 8000, d(6, 1), d(6, 6)),
        stay("A1-05", a1, "P5", "ES23", 10000, d(7, 1), d(7, 6), adm_caty="内科"),
        stay("A1-06", a1, "P6", "ES25", 5000, d(8, 1), d(8, 3), way=5),
        stay("A1-07", a1, "P5", "BR25", 20000, d(8, 1), d(8, 11)),
        stay("A1-08", a1, "P8", "MA15", 30000, d(10, 1), d(10, 9), way=5, proc=(d(10, 3), 4)),
        stay("A1-10", a1, "P4", "ES25", 5000, d(6, 10), d(6, 13), planned=True),
        stay("A1-11", a1, "P11", "ES25", 5000, d(11, 1), d(11, 4)),
        stay("A2-01", a2, "P21", "ES25", 5000, d(2, 1), d(2, 4)),
        stay("A2-02", a2, "P22", "BR25", 20000, d(3, 1), d(3, 13), way=5),
        stay("A2-03", a2, "P23", "GD19", 10000, d(4, 1), d(4, 7), way=5, proc=(d(4, 2), 3)),
        stay("A2-04", a2, "P24", "GD19", 10000, d(5, 1), d(5, 5), proc=(d(5, 2), 2)),
        stay("A2-05", a2, "P25", "ES23", 40000, d(6, 1), d(6, 11)),
        stay("A2-06", a2, "P26", "ES25", 1000, d(7, 1), d(7, 2)),
        stay("A2-07", a2, "P27", "ES23", 8000, d(12, 15), d(12, 20)),
        stay("A2-08", a2, "P27", "ES23", 8000, d(1, 5, 2026), d(1, 10, 2026)),
        stay("L24-1", a1, "Q1", "ES23", 8000, d(6, 1, 2024), d(6, 6, 2024)),
        stay("L24-2", a1, "Q2", "ES23", 10000, d(6, 1, 2024), d(6, 6, 2024)),
        # Refused: its charges do not sum to its total (a1's one refused row).
        stay("A1-BAD", a1, "P99", "ES23", 8000, d(9, 1), d(9, 6), medfee_sumamt="8100.00"),
    ]


def a3_rows(a3):
    return [
        stay("A3-01", a3, "P31", "ES23", 8000, d(3, 1), d(3, 6)),
        stay("A3-02", a3, "P32", "YR15", 12000, d(4, 1), d(4, 11)),
        stay("A3-03", a3, "P33", "0000", 9000, d(5, 1), d(5, 4), proc=(d(5, 2), 3)),
        stay("A3-04", a3, "P34", "ES25", 6000, d(6, 1), d(6, 3)),
        stay("L24-3", a3, "Q3", "ES23", 8000, d(6, 1, 2024), d(6, 6, 2024)),
    ]


async def add_level_3_hospital(db, city) -> str:
    a3 = f"H{city.a}00003"
    rows = validate_roster(city.a, [{"id": a3, "name": f"Hospital {a3}", "level": 3, "type": "general"}])
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await upsert_hospitals(s, rows)
    return a3


async def publish_standard(db, city, zj: uuid.UUID) -> uuid.UUID:
    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        std = PaymentStandard(
            city_code=city.city,
            scheme_version_id=zj,
            label=f"indicators {city.city}",
            avg_cost_all=D("10000.00"),
            source="import",
            parameters={},
            created_by="tests",
        )
        s.add(std)
        await s.flush()
        for drg, (avg, b, n) in STANDARD.items():
            s.add(PaymentStandardDrg(standard_id=std.id, drg=drg, cases=n, avg_cost=D(avg), base_points=D(b)))
        await s.flush()
        await publish_payment_standard(s, std.id, date(2024, 1, 1))
        return std.id


def expert(city, n):
    return Scope(Role.expert, (city.a,), None, f"ind-expert-{n}")


async def decide_review(db, city, region, review_id, outcome, points=None):
    async with scoped_session(db, region) as s:
        await reviews.precheck(s, region, city.a, review_id, True, "ok")
        await reviews.assign(s, region, city.a, review_id, "round 1")
    for n in range(3):
        sc = expert(city, n)
        async with scoped_session(db, sc) as s:
            await reviews.give_opinion(s, sc, city.a, review_id, outcome, points, "opinion")
    async with scoped_session(db, region) as s:
        await reviews.decide(s, region, city.a, review_id, outcome, points, "the experts agree")


async def build(db, owner_db, city, zj):
    """The world above; returns (a3, region scope)."""
    a3 = await add_level_3_hospital(db, city)
    await publish_standard(db, city, zj)
    region = scope_for(Role.region_admin, (city.a,))
    h3 = scope_for(Role.hospital_user, (city.a,), a3)
    await send(db, region, city.a, csv_bytes(a_rows(city)), f"ind-a-{uuid.uuid4()}")
    # A1-05 corrected: the same stay with its department fixed (version 2).
    fix = stay("A1-05", city.a1, "P5", "ES23", 10000, d(7, 1), d(7, 6), adm_caty="呼吸内科", correction="1")
    await send(db, region, city.a, csv_bytes([fix]), f"ind-fix-{uuid.uuid4()}")
    await send(db, h3, city.a, csv_bytes(a3_rows(a3)), f"ind-a3-{uuid.uuid4()}")
    # a3 again: A3-01 unchanged, and a row refused (its charges do not sum to its total).
    again = [a3_rows(a3)[0], stay("A3-BAD", a3, "P98", "ES23", 8000, d(9, 1), d(9, 6), medfee_sumamt="1.00")]
    await send(db, h3, city.a, csv_bytes(again), f"ind-a3b-{uuid.uuid4()}")
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2024-01", "to": "2026-12", "versions": [str(zj)]})

    async with scoped_session(owner_db, Scope.system((city.a,))) as s:
        # The published ZJ-DRG has QY disabled: A3-04 stands for an ambiguous case.
        await s.execute(
            text(
                "update case_grouping g set drg = 'EQY', adrg = null, status = 'ambiguous' from case_record c "
                "where c.tenant_id = g.tenant_id and c.id = g.case_id and c.tenant_id = :t and c.list_id = 'A3-04'"
            ),
            {"t": city.a},
        )
        # Arrival times (China time = UTC+8): late (40 days after discharge) unless listed.
        await s.execute(
            text(
                "update case_record set created_at = (discharge_time + interval '40 days') "
                "at time zone interval '+08:00' where tenant_id = :t"
            ),
            {"t": city.a},
        )
        ten = timedelta(days=10)
        timely = {"A1-01": ten, "A1-02": ten, "A1-03": ten, "A1-04": timedelta(days=30, hours=13), "A2-01": ten}
        for list_id, after in timely.items():
            await s.execute(
                text(
                    "update case_record set created_at = (discharge_time + cast(:after as interval)) "
                    "at time zone interval '+08:00' where tenant_id = :t and list_id = :l and version = 1"
                ),
                {"t": city.a, "l": list_id, "after": after},
            )
        # A1-05's first version arrived in time (its correction late); all of a3's in time.
        await s.execute(
            text(
                "update case_record set created_at = (discharge_time + interval '2 days') "
                "at time zone interval '+08:00' "
                "where tenant_id = :t and ((list_id = 'A1-05' and version = 1) or hospital_id = :a3)"
            ),
            {"t": city.a, "a3": a3},
        )
        await s.execute(
            text("update ingestion_batch set created_at = timestamptz '2025-07-01 12:00+08' where tenant_id = :t"),
            {"t": city.a},
        )

    async with scoped_session(db, region) as s:
        for y in (2024, 2025):
            await set_region_policy(s, region, city.city, city.a, y, "employee", {"review_quota_ratio": "1"}, "t")
        for n in range(3):
            await reviews.add_expert(s, region, city.a, f"ind-expert-{n}", f"Expert {n}")
    await run_job(db, region, city.a, POINTS, {"year": 2024, "month": 12})
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})  # version 1, before the findings
    async with scoped_session(db, region) as s:
        await regional.confirm_violation(s, region, city.a, city.a1, "A1-03", "upcoding", True, "t")
        await regional.confirm_violation(s, region, city.a, city.a1, "A1-04", "bed_hanging", False, "t")
        await regional.confirm_violation(s, region, city.a, city.a2, "A2-01", "no_indication", True, "t")
        await regional.confirm_violation(s, region, city.a, city.a2, "A2-06", "split_admission", False, "t")
        await regional.record_audit_deduction(s, region, city.a, city.a1, 2025, 3, "employee", "300.00", "ind-1", "t")
        await regional.record_audit_deduction(s, region, city.a, city.a1, 2024, 3, "employee", "99.00", "ind-0", "t")
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 6})  # an earlier month: not the latest
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})  # version 2: the latest

    submitted = {}
    for hospital, list_id in ((city.a1, "A1-08"), (city.a2, "A2-05"), (a3, "A3-02")):
        hs = scope_for(Role.hospital_user, (city.a,), hospital)
        async with scoped_session(db, hs) as s:
            submitted[list_id] = (await reviews.submit(s, hs, city.a, hospital, list_id, "please")).id
    await decide_review(db, city, region, submitted["A1-08"], "refuse")
    await decide_review(db, city, region, submitted["A2-05"], "add_points", "300")
    return a3, region
