"""Settlement runs in the database: monthly pre-settlement, annual clearing, publishing, re-runs and
the recall rule, on the hand-settled year of tests/settlement/world.py."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from dianshu.cases.service import RecallRefused
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.settlement.models import SettlementLine, SettlementRun
from dianshu.settlement.runs import budgets, policies, regional
from dianshu.settlement.runs.publish import RunRefused, publish_run, recall_case
from tests.conftest import scope_for
from tests.settlement.world import budgeted_year, settle
from tests.test_standards_db import builtin_versions  # noqa: F401


async def lines(db, tenant, run_id, scope=None):
    async with scoped_session(db, scope or Scope.system((tenant,))) as s:
        rows = (
            await s.execute(
                select(SettlementLine)
                .where(SettlementLine.run_id == uuid.UUID(run_id))
                .order_by(SettlementLine.hospital_id)
            )
        ).scalars()
        return {r.hospital_id: r for r in rows}


async def publish(db, scope, tenant, run_id):
    async with scoped_session(db, scope) as s:
        return await publish_run(s, scope, tenant, uuid.UUID(run_id))


@pytest.fixture
async def year(db, city, dispatcher, builtin_versions):  # noqa: F811
    # A first year: no clearing of 2024 to take the provisional point value from.
    region = await budgeted_year(
        db, city, builtin_versions["zhejiang_2022"], {"provisional_point_value": "100"}, "first year"
    )
    async with scoped_session(db, region) as s:
        await regional.set_evaluation_score(s, region, city.a, city.a2, 2025, "90")
    return region


async def test_a_year_monthly_then_annual_by_hand(db, city, year):
    region = year
    # March, year to date: a1 has: 200 points, S 4,000. Provisional PV 100:
    # due = 200 × 100 − 4,000 = 16,000.00; payable 95% = 15,200.00; holdback 800.00; paid now 15,200.00.
    march = await settle(db, region, city.a, "monthly", month=3)
    (run,) = march["runs"]
    assert run["ledger"] == "employee" and run["PV_provisional"] == "100.000000"
    got = await lines(db, city.a, run["id"])
    assert set(got) == {city.a1}
    a1 = got[city.a1]
    assert (a1.points, a1.due, a1.payable, a1.holdback, a1.payment) == (
        D(200),
        D("16000.00"),
        D("15200.00"),
        D("800.00"),
        D("15200.00"),
    )
    await publish(db, region, city.a, run["id"])
    # March is settled: A-1 can no longer be recalled.
    with pytest.raises(RecallRefused, match="already settled") as refused:
        async with scoped_session(db, region) as s:
            await recall_case(s, region, city.a, city.a1, "A-1", "wrong patient")
    # The API answers it as a state conflict (the case is there; its settled month forbids it).
    from dianshu_graphql.errors import StateConflict
    from dianshu_graphql.errors import refused as as_union

    answer = as_union(refused.value)
    assert isinstance(answer, StateConflict) and (answer.record, answer.field) == ("case A-1", "listId")

    # April: a1 unchanged (16,000 due, 15,200 paid before: pays 0); a2 arrives with A-4 (300 points,
    # S 2,000): due = 300 × 100 − 2,000 = 28,000.00; payable 26,600.00, paid now 26,600.00.
    april = await settle(db, region, city.a, "monthly", month=4)
    got = await lines(db, city.a, april["runs"][0]["id"])
    assert (got[city.a1].paid_before, got[city.a1].payment) == (D("15200.00"), D("0.00"))
    assert (got[city.a2].due, got[city.a2].payable, got[city.a2].payment) == (
        D("28000.00"),
        D("26600.00"),
        D("26600.00"),
    )
    await publish(db, region, city.a, april["runs"][0]["id"])
    # April is paid: a re-run of April is a new draft version, but the month cannot be paid twice.
    again = await settle(db, region, city.a, "monthly", month=4)
    assert again["runs"][0]["version"] == 2
    with pytest.raises(RunRefused, match="2025-04 of employee is already published"):
        await publish(db, region, city.a, again["runs"][0]["id"])

    # Annual clearing. T 60,000 (g 0), R 3,000, B 57,000. E = 3 × 6,000 + 38,000 = 56,000 ≤ B:
    # F = 56,000 + 0.85 × (57,000 − 56,000) = 56,850.00. P = 600, S = 8,000:
    # PV = (56,850 + 8,000) / 600 = 108.083333…
    # D_a1 = 300 × 108.08333… − 6,000 = 26,425.00; D_a2 = 300 × 108.08333… − 2,000 = 30,425.00; Σ = F.
    annual = await settle(db, region, city.a, "annual")
    (run,) = annual["runs"]
    assert (run["T"], run["R"], run["B"], run["E"], run["F"], run["P"], run["S"], run["PV"]) == (
        "60000.00",
        "3000.00",
        "57000.00",
        "56000.00",
        "56850.00",
        "600.0000",
        "8000.00",
        "108.083333",
    )
    got = await lines(db, city.a, run["id"])
    assert (got[city.a1].due, got[city.a2].due) == (D("26425.00"), D("30425.00"))
    # Prepaid = what the published April run made payable. a1: score 100: 26,425.00 − 15,200.00 = 11,225.00.
    # a2: score 90: 30,425 × (0.95 + 0.05 × 0.90) = 30,272.875 → 30,272.88; − 26,600.00 = 3,672.88;
    # withheld 30,425 − 30,272.88 = 152.12 stays in the fund.
    assert (got[city.a1].prepaid, got[city.a1].balance) == (D("15200.00"), D("11225.00"))
    assert (got[city.a2].prepaid, got[city.a2].score, got[city.a2].balance, got[city.a2].withheld) == (
        D("26600.00"),
        D("90.00"),
        D("3672.88"),
        D("152.12"),
    )


async def test_published_runs_are_frozen_and_a_rerun_is_a_new_version(db, city, year):
    region = year
    first = (await settle(db, region, city.a, "annual"))["runs"][0]
    await publish(db, region, city.a, first["id"])
    await publish(db, region, city.a, first["id"])  # retried: a no-op
    before = await lines(db, city.a, first["id"])
    # The database refuses any change to a published run, whoever asks.
    with pytest.raises(Exception, match="is published"):
        async with scoped_session(db, region) as s:
            await s.execute(
                text("update settlement_run set figures = '{}' where id = :i"), {"i": uuid.UUID(first["id"])}
            )
    with pytest.raises(Exception, match="permission denied"):
        async with scoped_session(db, region) as s:
            await s.execute(text("update settlement_line set due = 0 where run_id = :i"), {"i": uuid.UUID(first["id"])})
    # A re-run with the same inputs gives the same figures, as a new version; the old one reads the same.
    again = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert again["version"] == first["version"] + 1 and again["id"] != first["id"]
    assert {k: v for k, v in again.items() if k not in ("id", "version")} == {
        k: v for k, v in first.items() if k not in ("id", "version")
    }
    after = await lines(db, city.a, first["id"])
    assert {h: (x.due, x.balance) for h, x in after.items()} == {h: (x.due, x.balance) for h, x in before.items()}
    # The year's clearing is published once.
    with pytest.raises(RunRefused, match="already published"):
        await publish(db, region, city.a, again["id"])


async def test_each_role_sees_only_its_own_lines(db, city, year):
    run = (await settle(db, year, city.a, "annual"))["runs"][0]
    own = await lines(db, city.a, run["id"], scope_for(Role.hospital_user, (city.a,), city.a1))
    assert set(own) == {city.a1}
    assert await lines(db, city.a, run["id"], scope_for(Role.region_admin, (city.b,))) == {}
    assert await lines(db, city.a, run["id"], scope_for(Role.hospital_user, (city.b,), city.b1)) == {}
    assert set(await lines(db, city.a, run["id"], scope_for(Role.city_viewer, city.tenants))) == {city.a1, city.a2}
    async with scoped_session(db, scope_for(Role.region_viewer, (city.b,))) as s:
        assert (await s.execute(select(SettlementRun).where(SettlementRun.tenant_id == city.a))).first() is None


async def test_violation_and_alliance_flow_into_the_clearing(db, city, year):
    region = year
    async with scoped_session(db, region) as s:
        # A-2 was a split admission, serious: its 100 points are not counted and 1 × 100 more is deducted.
        await regional.confirm_violation(s, region, city.a, city.a1, "A-2", "split_admission", True, "audit 2025-07")
        await regional.confirm_violation(s, region, city.a, city.a1, "A-2", "split_admission", True, "retried")
        await regional.set_alliance(s, region, city.a, "M1", "Alliance", city.a1, {city.a1: "0.5", city.a2: "0.5"})
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    # P = a1 (100 + 0 + 100 − 100 = 100) + a2 300 = 400; S = 8,000; F = 56,850 as before.
    # PV = 64,850 / 400 = 162.125. One holder, M1: 400 × 162.125 − 8,000 = 56,850.00 (= F).
    # Members' fee-for-service fund: a1 18,000, a2 38,000 = 56,000: surplus 850.00, shared 0.5 / 0.5:
    # a1 18,000 + 425 = 18,425.00, a2 38,000 + 425 = 38,425.00.
    assert (run["P"], run["PV"]) == ("400.0000", "162.125000")
    assert run["alliances"]["M1"] == {"lead": city.a1, "points": "400.0000", "due": "56850.00", "surplus": "850.00"}
    got = await lines(db, city.a, run["id"])
    assert (got[city.a1].points, got[city.a1].deductions, got[city.a1].due) == (D(100), D(100), D("18425.00"))
    assert (got[city.a2].due, got[city.a2].alliance_id) == (D("38425.00"), "M1")


async def test_settlement_refuses_clearly(db, city, dispatcher, builtin_versions):  # noqa: F811
    region = scope_for(Role.region_admin, (city.a,))
    from dianshu.jobs import service as jobs
    from dianshu.settlement.runs.settle import SETTLE

    async with scoped_session(db, region) as s:
        job, _ = await jobs.submit(s, db, region, city.a, SETTLE, {"kind": "annual", "year": 2031})
    assert await jobs.execute(db, city.a, job.id) == "failed"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        err = (await s.execute(text("select error from job where id = :i"), {"i": job.id})).scalar_one()
    assert err["field"] == "standard" and "no published payment standard" in err["message"]


async def test_merged_ledgers_settle_as_one(db, city, year):
    region = year
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(s, region, city.city, city.a, 2025, "all", {"merge_ledgers": True}, "merge")
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "all", growth_rate="0", last_year_spending="60000", reason="merged"
        )
    # One ledger, "all": the same year as the employee ledger alone (every case here is an employee's).
    (run,) = (await settle(db, region, city.a, "annual"))["runs"]
    assert (run["ledger"], run["F"], run["PV"]) == ("all", "56850.00", "108.083333")


async def test_cross_province_cases_carved_out_leave_the_points(db, city, year, builtin_versions):  # noqa: F811
    from tests.cases.rows import csv_bytes
    from tests.cases.test_ingestion import send
    from tests.settlement.world import GROUP_CASES, run_job, stay

    region = year
    # a cross-province patient (insured place 3) treated by a1 in June.
    await send(db, region, city.a, csv_bytes([stay("A-9", city.a1, 8000, 6) | {"insu_place": "3"}]), "cross")
    await run_job(
        db, region, city.a, GROUP_CASES, {"from": "2025-06", "versions": [str(builtin_versions["zhejiang_2022"])]}
    )
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s,
            region,
            city.city,
            city.a,
            2025,
            "employee",
            {"provisional_point_value": "100", "carve_out_cross_province": True},
            "carve out",
        )
        b = await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="again"
        )
    # No cross-province cases in 2024: the carve-out line is there, for 0.00.
    assert b.carve_outs == [{"item": "cross-province cases of 2024", "amount": "0.00"}] and b.total == D("60000.00")
    # A-9 leaves the points and E: the same year as without it (P 600, E 56,000, F 56,850).
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert (run["P"], run["E"], run["F"]) == ("600.0000", "56000.00", "56850.00")


async def test_audit_deductions_come_off_the_due_and_stay_off(db, city, year):
    region = year
    async with scoped_session(db, region) as s:
        await regional.record_audit_deduction(
            s, region, city.a, city.a1, 2025, 3, "employee", "500.00", "AUD-2025-031", "duplicate charges"
        )
        await regional.record_audit_deduction(  # retried: a no-op
            s, region, city.a, city.a1, 2025, 3, "employee", "500.00", "AUD-2025-031", "duplicate charges"
        )
    with pytest.raises(regional.RegionalRefused, match="already recorded with other figures"):
        async with scoped_session(db, region) as s:
            await regional.record_audit_deduction(
                s, region, city.a, city.a1, 2025, 3, "employee", "600.00", "AUD-2025-031", "changed"
            )
    # March: a1's due = 200 × 100 − 4,000 − 500 = 15,500.00; payable 95% = 14,725.00.
    march = (await settle(db, region, city.a, "monthly", month=3))["runs"][0]
    a1 = (await lines(db, city.a, march["id"]))[city.a1]
    assert (a1.due, a1.payable, a1.audit_deductions) == (D("15500.00"), D("14725.00"), D("500.00"))
    await publish(db, region, city.a, march["id"])
    # The clearing: a1's due is 26,425.00 as before (the deduction is money, not points); prepaid
    # 14,725.00; balance = 26,425.00 − 14,725.00 − 500.00 = 11,200.00: the 500 stays deducted.
    annual = (await settle(db, region, city.a, "annual"))["runs"][0]
    a1 = (await lines(db, city.a, annual["id"]))[city.a1]
    assert (a1.due, a1.prepaid, a1.audit_deductions, a1.balance) == (
        D("26425.00"),
        D("14725.00"),
        D("500.00"),
        D("11200.00"),
    )
    assert annual["F"] == "56850.00"
