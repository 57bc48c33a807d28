"""Hospital analytics: the reviewer's gaps (issue 13), on the hand-built year of test_analytics.py
(its module docstring works out the world): staleness and its reasons, the same for every role;
expected payment as settlement pays it; the time index's peers as the evaluation's; concurrent
refreshes; what a hospital sees of the status; strict inputs; and the figures the first tests left
out, each worked out by hand in the comments."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from decimal import Decimal as D

import openpyxl
from sqlalchemy import select, text

from dianshu.analytics import views
from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Role, Scope
from dianshu.settlement.models import SettlementLine, SettlementRun
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.policies import set_region_policy
from tests.analytics.test_analytics import refresh, view
from tests.cases.rows import csv_bytes
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import run_job, stay


async def statuses(db, city, year_):
    """The status as the region administrator, a region viewer and each of A's hospitals see it."""
    scopes = [
        scope_for(Role.region_admin, (city.a,)),
        scope_for(Role.region_viewer, (city.a,)),
        scope_for(Role.hospital_user, (city.a,), city.a1),
        scope_for(Role.hospital_user, (city.a,), city.a2),
    ]
    return [await views.status(db, s, city.a, year_) for s in scopes]


async def stale(db, city, year_=2025):
    """(stale, reason), asserted to be the same for every role."""
    answers = {(st.stale, st.reason) for st in await statuses(db, city, year_)}
    assert len(answers) == 1, answers
    return answers.pop()


async def set_pv(db, scope, city, value, year_=2025, why="analytics review"):
    async with scoped_session(db, scope) as s:
        await set_region_policy(s, scope, city.city, city.a, year_, "employee", {"provisional_point_value": value}, why)


# ---- 1, 2, 3: staleness ------------------------------------------------------------------------


async def test_a_no_change_refresh_clears_a_grouping_staleness(db, city, year, builtin_versions):
    """A grouping of 2025 after the refresh makes it stale (for every role); the refresh that
    follows changes nothing (the same groups), writes no cell, and the status is no longer stale.
    Before the fix the refresh returned without a trace and the year stayed stale for ever."""
    await refresh(db, year, city.a, 2025)
    assert await stale(db, city) == (False, None)
    zj = builtin_versions["zhejiang_2022"]
    await run_job(db, year, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    assert await stale(db, city) == (True, "a grouping job covering the year finished after the refresh")
    again = await refresh(db, year, city.a, 2025)
    assert again["changed"] == 0
    assert await stale(db, city) == (False, None)


async def test_a_grouping_of_another_year_does_not_make_the_year_stale(db, city, year, builtin_versions):
    await refresh(db, year, city.a, 2025)
    await refresh(db, year, city.a, 2024)
    zj = builtin_versions["zhejiang_2022"]
    await run_job(db, year, city.a, GROUP_CASES, {"from": "2024-01", "to": "2024-12", "versions": [str(zj)]})
    # 2024's period is not 2025's: 2025 stays fresh; 2024 is stale.
    assert await stale(db, city, 2025) == (False, None)
    assert (await stale(db, city, 2024))[0] is True


async def test_a_point_value_change_makes_it_stale_and_a_refresh_reprices(db, city, year):
    """The policy's provisional point value 100 → 0.123457 (the policy change queues a refresh,
    test_analytics_finish; until it runs): stale with the reason, for every role; the refresh
    reprices, rounding once per sum (not per case):
      a1: 237.5 points × 0.123457 = 29.3210375 → 29.32. Per case it would be 100 × 0.123457 =
      12.3457 → 12.35 twice, 37.5 × 0.123457 = 4.6296375 → 4.63: 29.33, a fen more."""
    await refresh(db, year, city.a, 2025)
    await set_pv(db, year, city, "0.123457")
    assert await stale(db, city) == (
        True,
        "the point value of employee changed (provisional 100 → provisional 0.123457)",
    )
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    assert await stale(db, city) == (False, None)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    (total,) = await view(db, a1, [city.a], 2025, [])
    assert total.summary.expected_payment == D("29.32")
    # Profit or loss from the rounded payment: 29.32 − 23,000.00 = −22,970.68.
    assert total.summary.profit_loss == D("-22970.68")


async def test_new_cases_make_it_stale_for_every_role(db, city, year):
    """A 2025 case of a2 arrives after the refresh: the region's year is stale, and a1's user (who
    cannot read a2's cases) gets the same answer as the region administrator; a 2024 case does not
    make 2025 stale. A recall after the refresh does too."""
    await refresh(db, year, city.a, 2025)
    _, outcome, _, _ = await send(db, year, city.a, csv_bytes([stay("L-2", city.a2, 8000, 7, year=2024)]), "k-2024")
    assert outcome == "succeeded"
    assert await stale(db, city) == (False, None)
    _, outcome, _, _ = await send(db, year, city.a, csv_bytes([stay("A-5", city.a2, 8000, 7)]), "k-2025")
    assert outcome == "succeeded"
    assert await stale(db, city) == (True, "cases of the year arrived, were corrected or recalled after the refresh")
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    assert await stale(db, city) == (False, None)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(
            text(
                "update case_record set status = 'recalled', recalled_at = now() "
                "where tenant_id = :t and list_id = 'A-5'"
            ),
            {"t": city.a},
        )
    assert (await stale(db, city))[0] is True


async def test_a_newer_points_run_and_a_published_clearing_make_it_stale(db, city, year):
    await refresh(db, year, city.a, 2025)
    await run_job(db, year, city.a, POINTS, {"year": 2025, "month": 12})
    assert await stale(db, city) == (True, "a newer points run exists")


# ---- 4: expected payment as settlement pays it --------------------------------------------------


async def test_a_cleared_year_pays_what_the_clearing_pays(db, city, year):
    """A serious bed_hanging violation is confirmed on A-2 (a1): its points are not counted (0) and
    1 × its base points 100 are deducted from a1. A published 2025 annual clearing (budget T =
    60,000, growth 0) then prices the cases at its PV_exact (basis cleared). Settlement pays a1 on
    paid points (settlement.arithmetic.year.paid_points: points × coefficient − deductions) =
    (100 + 0 + 37.5) × 1 − 100 = 37.5, not on the 137.5 counted points (the old figure); a2 on
    300. Each hospital's expected payment equals its clearing line's due + self-pay (the clearing
    pays due = paid points × PV − self-pay) to the fen."""
    from dianshu.settlement.runs import budgets, regional
    from dianshu.settlement.runs.publish import publish_run

    await refresh(db, year, city.a, 2025)
    async with scoped_session(db, year) as s:
        await regional.confirm_violation(s, year, city.a, city.a1, "A-2", "bed_hanging", True, "review")
        await budgets.set_budget(
            s, year, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    settled = await run_job(db, year, city.a, "settlement.settle", {"kind": "annual", "year": 2025})
    (run,) = settled["runs"]
    async with scoped_session(db, year) as s:
        await publish_run(s, year, city.a, uuid.UUID(run["id"]))
    # The clearing computed its own points run (and its point value is now the cleared one): stale.
    assert await stale(db, city) == (True, "a newer points run exists")
    await refresh(db, year, city.a, 2025)
    assert await stale(db, city) == (False, None)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        r = (await s.execute(select(SettlementRun).where(SettlementRun.id == uuid.UUID(run["id"])))).scalar_one()
        lines = {
            x.hospital_id: x
            for x in (await s.execute(select(SettlementLine).where(SettlementLine.run_id == r.id))).scalars()
        }
    pv = D(r.figures["PV_exact"])
    region = scope_for(Role.region_admin, (city.a,))
    by_hospital = {g.key["hospital"]: g.summary for g in await view(db, region, [city.a], 2025, ["hospital"])}
    # The employee ledger is cleared (the resident ledger has no point value: nothing of it is priced).
    assert (await statuses(db, city, 2025))[0].refresh.point_values["employee"]["basis"] == "cleared"
    for h, points in ((city.a1, D("37.5")), (city.a2, D("300"))):
        line = lines[h]
        assert by_hospital[h].points == points == line.points
        # The clearing's due + the hospital's self-pay is what its points are paid (PV × points).
        assert by_hospital[h].expected_payment == line.due + line.self_pay, (h, pv, line.due, line.self_pay)


# ---- 5: time index peers as the evaluation's -----------------------------------------------------


async def test_city_peers_make_the_time_index(db, city, year, builtin_versions):
    """Region A's policy sets evaluation_peer_scope city: the peers of level 2's ES23 are the city's
    grouped level-2 ES23 stays of 2025, region B's B-1 (LOS 10) with A's four: (5 + 10 + 5 + 5 + 10)
    / 5 = 7. Region A's time index: its LOS 25 ÷ (4 × 7 = 28) = 0.892857… → 0.8929 (with its own
    peers it would be 25 ÷ 25 = 1 by construction). a1: 20 ÷ (3 × 7 = 21) = 0.952380… → 0.9524.
    The region administrator's refresh computes the same: the platform reads B's stays for the peer
    averages only, in a session of their own (the administrator's scope stays its region), so the
    city's refresh after it finds nothing to change."""
    b = scope_for(Role.region_admin, (city.b,))
    long = stay("B-1", city.b1, 8000, 3, day=15)
    long.update(adm_time="2025-03-05 09:00", act_ipt_days="10")
    _, outcome, _, _ = await send(db, b, city.b, csv_bytes([long]), "b-1")
    assert outcome == "succeeded"
    zj = builtin_versions["zhejiang_2022"]
    await run_job(db, b, city.b, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    async with scoped_session(db, year) as s:
        await set_region_policy(
            s, year, city.city, city.a, 2025, "all", {"evaluation_peer_scope": "city"}, "city peers"
        )
    region_admin = scope_for(Role.region_admin, (city.a,))
    by_region = await refresh(db, region_admin, city.a, 2025)
    assert (by_region["changed"], by_region["skipped"]) == (1, [])
    admin = scope_for(Role.city_admin, city.tenants)
    (a,) = [g for g in await view(db, admin, [city.a, city.b], 2025, ["region"]) if g.key["region"] == city.a]
    assert a.summary.time_index == D("0.8929")
    # The region administrator still sees its own region only.
    assert {g.key["region"] for g in await view(db, region_admin, [city.a], 2025, ["region"])} == {city.a}
    result = await refresh(db, admin, city.city, 2025)
    assert [r for r in result["skipped"]] == [] and (await views.status(db, admin, city.a, 2025)).stale is False
    (a,) = [g for g in await view(db, admin, [city.a, city.b], 2025, ["region"]) if g.key["region"] == city.a]
    assert a.summary.time_index == D("0.8929")
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    (total,) = await view(db, a1, [city.a], 2025, [])
    assert total.summary.time_index == D("0.9524")


# ---- 6: concurrent refreshes ---------------------------------------------------------------------


async def test_two_concurrent_refreshes_both_succeed_as_one(db, city, year):
    """Two refreshes of the same region-year in two transactions at once: the second waits for the
    first's advisory lock, then finds the cells the first wrote (its digest) and changes nothing.
    Without the lock the second would compute too, block on the first's new cells and, once the
    first commits, fail on their primary key. The cells equal one refresh's: 3 cells, 4 cases."""
    from dianshu.analytics.refresh import refresh_region

    async def second():
        async with scoped_session(db, year) as s:
            return await refresh_region(s, year, None, city.city, city.a, 2025)

    async with scoped_session(db, year) as s:
        first = await refresh_region(s, year, None, city.city, city.a, 2025)
        other = asyncio.create_task(second())
        await asyncio.sleep(1)
        assert not other.done()  # waiting for the first transaction
    again = await asyncio.wait_for(other, 30)
    assert (first["changed"], again["changed"]) == (True, False)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        cells = (
            await s.execute(
                text("select count(*), sum(cases) from analytics_cell where tenant_id = :t and year = 2025"),
                {"t": city.a},
            )
        ).one()
    assert tuple(cells) == (3, 4)


# ---- 8: strict inputs ----------------------------------------------------------------------------

Q = """query($t: String!, $by: [AnalyticsDimension!], $after: String, $dept: String) {
  analytics(tenant: $t, year: 2025, groupBy: $by, first: 1, after: $after, department: $dept) {
    nodes { key { region hospital department month drg } figures { cases } }
    pageInfo { hasNextPage endCursor } } }"""


def cursor(*parts):
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


async def test_inputs_are_refused_by_field(api, db, city, year):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    headers = {"Authorization": f"Bearer {a1}"}
    # "²" is a digit to str.isdigit() but not to int(): refused, not a 500.
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?month=%C2%B2", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "month"
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?month=13", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "month"
    # A NUL never reaches PostgreSQL.
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?department=a%00b", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "department"
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?drg=ES%0023", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "drg"
    resp = await api.post(a1, Q, {"t": city.a, "by": ["department"], "dept": "a\x00b"})
    assert resp.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "department"}
    # A crafted cursor's month 70,000 (a bigint, not a month) is refused as `after`.
    resp = await api.post(a1, Q, {"t": city.a, "by": ["month"], "after": cursor(70000)})
    assert resp.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    # A tenant outside the scope: FORBIDDEN.
    resp = await api.post(a1, Q, {"t": city.b, "by": []})
    assert resp.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# ---- 9: the figures the first tests left out -----------------------------------------------------


async def test_paging_over_two_columns(api, db, city, year):
    """Region A by (hospital, month), one a page: (a1, 3) A-1 + A-2, (a1, 5) A-3, (a2, 4) A-4; each
    page's cursor carries both columns."""
    await refresh(db, year, city.a, 2025)
    region = api.token(Role.region_admin, [city.a])
    seen, after = [], None
    for _ in range(4):
        page = (await api.gql(region, Q, {"t": city.a, "by": ["hospital", "month"], "after": after}))["analytics"]
        seen += [(n["key"]["hospital"], n["key"]["month"], n["figures"]["cases"]) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(city.a1, 3, 2), (city.a1, 5, 1), (city.a2, 4, 1)]


async def test_points_and_payment_growth(db, city, year):
    """2024: L-1 (a1, 8,000, ES23 ratio 1) with a 2024 points run and PV 100: 100 points, 10,000.00.
    2025 a1: 237.5 points, 23,750.00: points growth (237.5 ÷ 100 − 1) × 100 = 137.5; payment
    (23,750 ÷ 10,000 − 1) × 100 = 137.5."""
    await set_pv(db, year, city, "100", year_=2024)
    await run_job(db, year, city.a, POINTS, {"year": 2024, "month": 12})
    await refresh(db, year, city.a, 2025)
    await refresh(db, year, city.a, 2024)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    async with db.reading(a1) as conn:
        (c,) = await views.year_over_year(conn.fetch, [city.a], 2025, [])
    assert (c.previous.points, c.previous.expected_payment) == (D("100.0000"), D("10000.00"))
    assert (c.points_growth, c.payment_growth) == (D("137.5000"), D("137.5000"))


async def test_cases_outside_the_points_run(db, city, year):
    """A-5 (a2, 2025-07) arrives after the points run and the grouping: it counts in a2's cases (2)
    but not in the run (run cases 1), is not priced (priced 1) and adds no points (300). Not grouped
    under the standard's version, it is in DRG '' and neither grouped nor weighed: grouped 1,
    weighed 1, CMI RW 1.0 ÷ 1 = 1.0000 (not ÷ 2), time index A-4's LOS 5 ÷ 6.25 = 0.8000."""
    _, outcome, _, _ = await send(db, year, city.a, csv_bytes([stay("A-5", city.a2, 8000, 7)]), "late")
    assert outcome == "succeeded"
    await refresh(db, year, city.a, 2025)
    region = scope_for(Role.region_admin, (city.a,))
    (a2,) = await view(db, region, [city.a], 2025, [], hospital=city.a2)
    s = a2.summary
    assert (s.cases, s.run_cases, s.priced_cases, s.points) == (2, 1, 1, D("300.0000"))
    assert (s.grouped, s.weighed, s.cmi, s.time_index) == (1, 1, D("1.0000"), D("0.8000"))
    by_drg = [
        (g.key["drg"], g.summary.cases) for g in await view(db, region, [city.a], 2025, ["drg"], hospital=city.a2)
    ]
    assert by_drg == [("", 1), ("ES23", 1)]
    # Its cost counts in the cost (48,000) but not in the priced cost (40,000): loss 30,000 − 40,000.
    assert (s.cost, s.priced_cost, s.profit_loss) == (D("48000.00"), D("40000.00"), D("-10000.00"))


async def test_xlsx_cells_are_numbers_and_the_city_download_names_regions(api, db, city, year):
    await refresh(db, year, city.a, 2025)
    admin = api.token(Role.city_admin, [city.city])
    headers = {"Authorization": f"Bearer {admin}"}
    r = await api.client.get(f"/downloads/analytics/{city.city}/2025?by=region&lang=en", headers=headers)
    assert r.status_code == 200, r.text
    lines = r.content.decode("utf-8").lstrip("\ufeff").split("\r\n")
    assert lines[1].startswith(f"{city.a},Region {city.a},4,"), lines[:2]
    r = await api.client.get(f"/downloads/analytics/{city.city}/2025?by=region&format=xlsx", headers=headers)
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    row = next(iter(ws.iter_rows(min_row=2, max_row=2)))
    cases = row[header.index("病例数")]
    assert (cases.value, cases.data_type) == (4, "n")


async def publish_at(db, city, zj, avg_cost, on):
    """A payment standard of ES23 with `avg_cost`, base points 100, in force from `on`."""

    from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
    from dianshu.standards.service import publish_payment_standard

    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        std = PaymentStandard(
            city_code=city.city,
            scheme_version_id=zj,
            label=f"analytics {avg_cost} {city.city}",
            avg_cost_all=D(avg_cost),
            source="import",
            parameters={},
            created_by="tests",
        )
        s.add(std)
        await s.flush()
        s.add(PaymentStandardDrg(standard_id=std.id, drg="ES23", cases=100, avg_cost=D(avg_cost), base_points=D(100)))
        await s.flush()
        await publish_payment_standard(s, std.id, on)


async def test_severe_cases_at_an_average_of_10000_take_twice(db, city, year, builtin_versions):
    """A new standard in force from 2025 sets ES23's average cost to 10,000 (stale: another standard
    is in force at the year's end). At 10,000 or more a severe case costs more than 2 × the average
    = 20,000 (under 3 × = 30,000 it would be below 10,000). a2: A-4 40,000 (severe), A-6 25,000
    (severe: over 20,000, not over 30,000), A-7 20,000 (not severe: exactly 2 ×). 2 severe cases,
    40,000 + 25,000 = 65,000. a1's A-2 12,000 is not severe. Overspend over 10,000: a2's A-4
    (30,000), A-6 (15,000), A-7 (10,000): 3 cases, 55,000; a1's A-2 (2,000)."""
    import datetime

    zj = builtin_versions["zhejiang_2022"]
    await refresh(db, year, city.a, 2025)
    await publish_at(db, city, zj, "10000", datetime.date(2025, 1, 1))
    assert await stale(db, city) == (True, "another payment standard is in force at the year's end")
    rows = [stay("A-6", city.a2, 25000, 8), stay("A-7", city.a2, 20000, 9)]
    _, outcome, _, _ = await send(db, year, city.a, csv_bytes(rows), "severe")
    assert outcome == "succeeded"
    await run_job(db, year, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    await refresh(db, year, city.a, 2025)
    region = scope_for(Role.region_admin, (city.a,))
    by = {g.key["hospital"]: g.summary for g in await view(db, region, [city.a], 2025, ["hospital"])}
    a1, a2 = by[city.a1], by[city.a2]
    assert (a2.cases, a2.severe_cases, a2.severe_cost) == (3, 2, D("65000.00"))
    assert (a2.over_cases, a2.over_amount) == (3, D("55000.00"))
    assert (a1.severe_cases, a1.over_cases, a1.over_amount) == (0, 1, D("2000.00"))


async def test_a_correction_supersedes_the_old_version(db, city, year, builtin_versions):
    """A-1 is corrected (cost 8,000 → 9,000): its new version replaces the old one in the cells, so
    a1 has still 3 cases, cost 23,000 − 8,000 + 9,000 = 24,000. The new version is not the case the
    points run priced: a1's run cases 2 (A-2, A-3), points 100 + 37.5 = 137.5, priced cost 12,000 +
    3,000 = 15,000, payment 13,750.00."""
    zj = builtin_versions["zhejiang_2022"]
    _, outcome, result, _ = await send(
        db, year, city.a, csv_bytes([{**stay("A-1", city.a1, 9000, 3), "correction": "1"}]), "fix"
    )
    assert outcome == "succeeded" and result["corrected"] == 1, result
    await run_job(db, year, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    await refresh(db, year, city.a, 2025)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    (total,) = await view(db, a1, [city.a], 2025, [])
    s = total.summary
    assert (s.cases, s.cost, s.run_cases, s.points) == (3, D("24000.00"), 2, D("137.5000"))
    assert (s.priced_cost, s.expected_payment) == (D("15000.00"), D("13750.00"))


async def test_an_ungroupable_case_counts_in_cases_only(db, city, year, builtin_versions):
    """A-8 (a1, 2025-06, 5,000) groups into 0000 (pneumonia with an appendectomy, as the evaluation's
    world): a1 has 4 cases but 3 grouped and 3 weighed; CMI 3 × 1.0 ÷ 3 = 1.0000 (not ÷ 4); cost
    index over the weighed cases only: 23,000 ÷ 24,000 = 0.9583; time index over the grouped: 20 ÷
    18.75 = 1.0667; cost 23,000 + 5,000 = 28,000. By DRG: 0000 1 case, ES23 3."""
    zj = builtin_versions["zhejiang_2022"]
    ungroupable = {
        **stay("A-8", city.a1, 5000, 6),
        "diag_codes": "J18.900",
        "adm_cond_types": "1",
        "oprn_oprt_codes": "47.0100",
    }
    _, outcome, result, _ = await send(db, year, city.a, csv_bytes([ungroupable]), "0000")
    assert outcome == "succeeded" and result["accepted"] == 1, result
    await run_job(db, year, city.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    await refresh(db, year, city.a, 2025)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    (total,) = await view(db, a1, [city.a], 2025, [])
    s = total.summary
    assert (s.cases, s.grouped, s.weighed, s.cmi) == (4, 3, 3, D("1.0000"))
    assert (s.cost_index, s.time_index, s.cost) == (D("0.9583"), D("1.0667"), D("28000.00"))
    by_drg = [(g.key["drg"], g.summary.cases) for g in await view(db, a1, [city.a], 2025, ["drg"])]
    assert by_drg == [("0000", 1), ("ES23", 3)]


async def test_an_unknown_or_unseen_tenant_is_refused_never_an_empty_page():
    """tenants_of (the GraphQL views' and the downloads'): a tenant the scope names but the registry
    does not know as a region or a city is refused as `tenant`; one outside the scope is Forbidden.
    Before, both gave an empty list (an empty page)."""
    import pytest

    from dianshu_graphql.domains.analytics import tenants_of
    from dianshu_graphql.errors import ExpectedError, Forbidden

    class Registry:
        async def all(self):
            return {}

    scope = scope_for(Role.region_admin, ("999999",))
    with pytest.raises(ExpectedError) as refused:
        await tenants_of(Registry(), scope, "999999")
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "tenant"}
    with pytest.raises(Forbidden):
        await tenants_of(Registry(), scope, "888888")
