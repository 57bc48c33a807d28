"""A small settlement year in region A of the test city, with figures simple enough to settle by hand.

Region A, 2025, all employee (insutype 310), all pneumonia stays (ZJ-DRG ES23), each with
self-pay + own-pay = 2,000 (so S = 2,000 a case):
  A-1  hospital a1  March   8,000  fund 6,000   ratio 1   normal        100 points
  A-2  hospital a1  March   8,000  fund 6,000   ratio 1   normal        100 points
  A-3  hospital a1  May     8,000  fund 6,000   ratio 1   normal        100 points
  A-4  hospital a2  April  40,000  fund 38,000  ratio 5   high outlier  100 + 100 × (5 − 3) = 300 points
The city's payment standard: ES23 avg cost 8,000, base points 100, stable; avg_cost_all 8,000."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.settle import SETTLE
from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
from dianshu.standards.service import publish_payment_standard
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for


def stay(list_id, hospital, total: int, month: int, patient=None, year=2025, day=6):
    return row(
        list_id,
        hospital,
        psn_no=patient or f"P{list_id}",
        med_chrgitm_09=f"{total - 4200}.00",
        medfee_sumamt=f"{total}.00",
        fund_pay_sumamt=f"{total - 2000}.00",
        adm_time=f"{year}-{month:02d}-{day - 5:02d} 09:00",
        dscg_time=f"{year}-{month:02d}-{day:02d} 10:00",
    )


def year_rows(city):
    return [
        stay("A-1", city.a1, 8000, 3),
        stay("A-2", city.a1, 8000, 3),
        stay("A-3", city.a1, 8000, 5),
        stay("A-4", city.a2, 40000, 4),
    ]


async def publish_standard(db, city, zj: uuid.UUID) -> uuid.UUID:
    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        std = PaymentStandard(
            city_code=city.city,
            scheme_version_id=zj,
            label=f"test {city.city}",
            avg_cost_all=D("8000.00"),
            source="import",
            parameters={},
            created_by="tests",
        )
        s.add(std)
        await s.flush()
        s.add(PaymentStandardDrg(standard_id=std.id, drg="ES23", cases=100, avg_cost=D(8000), base_points=D(100)))
        await s.flush()
        await publish_payment_standard(s, std.id, date(2025, 1, 1))
        return std.id


async def run_job(db, scope, tenant, kind, params):
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, tenant, kind, params)
    outcome = await jobs.execute(db, tenant, job.id)
    async with scoped_session(db, Scope.system((tenant,))) as s:
        j = (await s.execute(select(Job).where(Job.id == job.id))).scalar_one()
    assert outcome == "succeeded", j.error
    return j.result


async def load_year(db, city, zj, rows=None):
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes(rows or year_rows(city)), f"year-{uuid.uuid4()}")
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    return region


async def settle(db, scope, tenant, kind, **params):
    return await run_job(db, scope, tenant, SETTLE, {"kind": kind, "year": 2025, **params})


async def budgeted_year(db, city, zj, policy: dict, why: str):
    """The year loaded and grouped, the standard published, region A's employee policy set to
    `policy` and its budget T = 60,000 (g 0): R 3,000, B 57,000. Returns the region admin's scope."""
    from dianshu.settlement.runs import budgets, policies

    await publish_standard(db, city, zj)
    region = await load_year(db, city, zj)
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(s, region, city.city, city.a, 2025, "employee", policy, why)
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="2025"
        )
    return region


async def fill_region_inputs(db, region, city, tag: str):
    """Every settlement input of region `city.a`, through the services: policy, budget, a score, an
    alliance, a confirmed violation, an audit deduction, three experts, a special review drawn to
    experts, and a settled month. The loaded year must be in place (load_year). Returns the review."""
    from dianshu.reviews import service as reviews
    from dianshu.settlement.runs import budgets, regional
    from dianshu.settlement.runs.policies import set_region_policy

    async with scoped_session(db, region) as s:
        policy = {"provisional_point_value": "100", "review_quota_ratio": "1"}
        await set_region_policy(s, region, city.city, city.a, 2025, "employee", policy, f"{tag} world")
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0.02", last_year_spending="60000", reason="t"
        )
        await regional.set_evaluation_score(s, region, city.a, city.a1, 2025, "95")
        await regional.set_alliance(s, region, city.a, "M1", "Alliance", city.a1, {city.a1: "0.5", city.a2: "0.5"})
        await regional.confirm_violation(s, region, city.a, city.a1, "A-2", "bed_hanging", False, "t")
        await regional.record_audit_deduction(s, region, city.a, city.a1, 2025, 3, "employee", "10.00", f"{tag}-1", "t")
        for n in range(3):
            await reviews.add_expert(s, region, city.a, f"{tag}-expert-{n}", f"Expert {n}")
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    async with scoped_session(db, a2) as s:
        review = await reviews.submit(s, a2, city.a, city.a2, "A-4", "costly")
    async with scoped_session(db, region) as s:
        await reviews.precheck(s, region, city.a, review.id, True, "ok")
        await reviews.assign(s, region, city.a, review.id, "round 1")
    await settle(db, region, city.a, "monthly", month=4)
    return review
