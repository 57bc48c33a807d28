"""Hospital analytics on a small hand-built year, every figure worked out by hand below.

Region A of the test city; both hospitals level 2. The payment standard (in force from 2024):
ES23 average cost 8,000, base points 100 (RW 1.0), stable; avg_cost_all 8,000. Every stay is a
pneumonia stay (ES23), employee ledger, discharged normally. Region A's 2025 employee policy has
a fixed provisional point value of 100 yuan (no 2024 clearing is published), so the expected
payment is points × 100. The 2025 points run (through December) gives the points.

  list  hospital dept    month  cost    LOS  drugs   materials own-pay  points (type)
  A-1   a1       呼吸内科  3      8,000   5    4,000   500       500      100 (normal, ratio 1)
  A-2   a1       呼吸内科  3     12,000  10    8,000   500       500      100 (normal, ratio 1.5)
  A-3   a1       心内科    5      3,000   5      500   300       500     37.5 (low, ratio 0.375: 100 × 0.375)
  A-4   a2       呼吸内科  4     40,000   5   36,000   500       500      300 (high, ratio 5: 100 + 100 × (5 − 3))
  L-1   a1       呼吸内科  2024-06 8,000 5  4,000   500       500      (2024: no points run)

(drugs = charges 9 + 10 + 11: the default row's 3,800 + 0 + 200 with charge 9 = cost − 4,200, so
cost − 4,000; A-3's charges are written out in low_stay.)
Peer average LOS of ES23 among the region's level-2 stays of 2025: (5 + 10 + 5 + 5) / 4 = 6.25.
Overspend: cost above the DRG's 8,000: A-2 (4,000 over) and A-4 (32,000 over).
Severe: the average 8,000 is under 10,000, so cost > 3 × 8,000 = 24,000: A-4 only."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from dianshu.analytics import views
from dianshu.analytics.refresh import REFRESH
from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session, session_fetch
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.policies import set_region_policy
from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
from dianshu.standards.service import publish_payment_standard
from tests.api import Api
from tests.cases.rows import csv_bytes
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import run_job, stay
from tests.test_standards_db import builtin_versions  # noqa: F401

LOW_CHARGES = ["400.00", "100.00", "900.00", "800.00", "0.00", "0.00", "0.00", "300.00", "400.00", "0.00", "100.00",
               "0.00", "0.00", "0.00"]  # fmt: skip


def low_stay(list_id, hospital, month, **over):
    """A 3,000-yuan stay: drugs 400 + 0 + 100 = 500, materials 300; fund 1,000 + self 1,500 + own 500."""
    r = stay(list_id, hospital, 8000, month)
    r.update({f"med_chrgitm_{i:02d}": c for i, c in enumerate(LOW_CHARGES, start=1)})
    r.update(medfee_sumamt="3000.00", fund_pay_sumamt="1000.00", **over)
    return r


def long_stay(list_id, hospital, total, month, los):
    r = stay(list_id, hospital, total, month, day=15)
    r.update(adm_time=f"2025-{month:02d}-{15 - los:02d} 09:00", act_ipt_days=str(los))
    return r


def rows(city):
    return [
        stay("A-1", city.a1, 8000, 3),
        long_stay("A-2", city.a1, 12000, 3, 10),
        low_stay("A-3", city.a1, 5, dscg_caty="心内科", adm_caty="心内科"),
        stay("A-4", city.a2, 40000, 4),
        stay("L-1", city.a1, 8000, 6, year=2024),
    ]


async def publish(db, city, zj, drgs=(("ES23", 8000, 100),)) -> uuid.UUID:
    """The city's payment standard, in force from 2024: each DRG's (code, average cost, base points)."""
    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        std = PaymentStandard(
            city_code=city.city,
            scheme_version_id=zj,
            label=f"analytics {city.city}",
            avg_cost_all=D("8000.00"),
            source="import",
            parameters={},
            created_by="tests",
        )
        s.add(std)
        await s.flush()
        for drg, avg_cost, base_points in drgs:
            s.add(
                PaymentStandardDrg(
                    standard_id=std.id, drg=drg, cases=100, avg_cost=D(avg_cost), base_points=D(base_points)
                )
            )
        await s.flush()
        await publish_payment_standard(s, std.id, datetime.date(2024, 1, 1))
        return std.id


@pytest.fixture
async def year(db, city, dispatcher, builtin_versions):  # noqa: F811
    """The world above, grouped, with the 2025 points run; no refresh run yet. Returns the region scope."""
    zj = builtin_versions["zhejiang_2022"]
    await publish(db, city, zj)
    region = scope_for(Role.region_admin, (city.a,))
    _, outcome, result, _ = await send(db, region, city.a, csv_bytes(rows(city)), f"analytics-{uuid.uuid4()}")
    assert outcome == "succeeded" and (result["accepted"], result["refused"]) == (5, 0), result
    await run_job(db, region, city.a, GROUP_CASES, {"from": "2024-01", "to": "2025-12", "versions": [str(zj)]})
    async with scoped_session(db, region) as s:
        policy = {"provisional_point_value": "100"}
        await set_region_policy(s, region, city.city, city.a, 2025, "employee", policy, "analytics test")
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})
    return region


async def refresh(db, scope, tenant, year):
    return await run_job(db, scope, tenant, REFRESH, {"year": year})


async def view(db, scope, tenants, year, by, **filters):
    # The driver's read-only transaction, as the GraphQL views read (row-level security included).
    async with db.reading(scope) as conn:
        return await views.groups(conn.fetch, tenants, year, by, views.Filters(**filters))


async def test_the_hospital_figures_by_hand(db, city, year):
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    (group,) = await view(db, a1, [city.a], 2025, [])
    total = group.summary
    # a1. RW 3 × 1.0 over 3 weighed cases: CMI 1. Cost 8,000 + 12,000 + 3,000 = 23,000
    # against 3 × 8,000 = 24,000: cost index 0.958333… → 0.9583. LOS 5 + 10 + 5 = 20 against
    # 3 × 6.25 = 18.75: time index 1.066666… → 1.0667; average LOS 20 / 3 → 6.6667.
    assert (total.cases, total.cmi, total.total_weight) == (3, D("1.0000"), D("3.0000"))
    assert (total.cost, total.cost_index, total.time_index, total.avg_los) == (
        D("23000.00"),
        D("0.9583"),
        D("1.0667"),
        D("6.6667"),
    )
    # Points 100 + 100 + 37.5 = 237.5; one low outlier of 3: 33.3333 %; no high outlier.
    assert (total.points, total.run_cases, total.low_outlier_share, total.high_outlier_share) == (
        D("237.5000"),
        3,
        D("33.3333"),
        D("0.0000"),
    )
    # Expected payment 237.5 × 100 = 23,750.00; profit 23,750.00 − 23,000.00 = 750.00.
    assert (total.expected_payment, total.priced_cost, total.profit_loss) == (
        D("23750.00"),
        D("23000.00"),
        D("750.00"),
    )
    # Drugs 4,000 + 8,000 + 500 = 12,500 / 23,000 = 54.3478 %; materials 500 + 500 + 300 = 1,300:
    # 5.6522 %; own-pay 3 × 500 = 1,500: 6.5217 %.
    assert (total.drug_share, total.consumables_share, total.own_pay_share) == (
        D("54.3478"),
        D("5.6522"),
        D("6.5217"),
    )
    # Overspend: A-2 only (A-1 costs exactly the average): 1 case, 4,000. No severe case.
    assert (total.over_cases, total.over_amount, total.severe_cases) == (1, D("4000.00"), 0)


async def test_by_department_and_month(db, city, year):
    await refresh(db, year, city.a, 2025)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    by_dept = {g.key["department"]: g.summary for g in await view(db, a1, [city.a], 2025, ["department"])}
    assert sorted(by_dept) == ["呼吸内科", "心内科"]
    resp, heart = by_dept["呼吸内科"], by_dept["心内科"]
    # 呼吸内科: A-1 + A-2: cost 20,000 / 16,000 = 1.25; LOS 15 / 12.5 = 1.2; 200 points → 20,000.00,
    # profit 0.00; drugs 12,000 / 20,000 = 60 %; materials 1,000: 5 %; own-pay 1,000: 5 %.
    assert (resp.cases, resp.cost_index, resp.time_index, resp.points) == (2, D("1.2500"), D("1.2000"), D("200.0000"))
    assert (resp.expected_payment, resp.profit_loss) == (D("20000.00"), D("0.00"))
    assert (resp.drug_share, resp.consumables_share, resp.own_pay_share) == (D("60.0000"), D("5.0000"), D("5.0000"))
    assert (resp.over_cases, resp.over_amount) == (1, D("4000.00"))
    # 心内科: A-3: 3,000 / 8,000 = 0.375; LOS 5 / 6.25 = 0.8; 37.5 points → 3,750.00, profit 750.00;
    # the low outlier: 100 %; drugs 500 / 3,000 = 16.6667 %; materials 300: 10 %; own-pay 500: 16.6667 %.
    assert (heart.cases, heart.cost_index, heart.time_index, heart.points) == (
        1,
        D("0.3750"),
        D("0.8000"),
        D("37.5000"),
    )
    assert (heart.expected_payment, heart.profit_loss, heart.low_outlier_share) == (
        D("3750.00"),
        D("750.00"),
        D("100.0000"),
    )
    assert (heart.drug_share, heart.consumables_share, heart.own_pay_share) == (
        D("16.6667"),
        D("10.0000"),
        D("16.6667"),
    )
    by_month = {g.key["month"]: g.summary.cases for g in await view(db, a1, [city.a], 2025, ["month"])}
    assert by_month == {3: 2, 5: 1}
    by_drg = [(g.key["drg"], g.summary.cases) for g in await view(db, a1, [city.a], 2025, ["drg"])]
    assert by_drg == [("ES23", 3)]


async def test_the_region_compares_its_hospitals_and_the_city_its_regions(db, city, year):
    await refresh(db, year, city.a, 2025)
    region = scope_for(Role.region_viewer, (city.a,))
    hospitals = {g.key["hospital"]: g.summary for g in await view(db, region, [city.a], 2025, ["hospital"])}
    assert sorted(hospitals) == [city.a1, city.a2]
    a2 = hospitals[city.a2]
    # a2: A-4: 40,000 / 8,000 = 5; LOS 5 / 6.25 = 0.8; 300 points → 30,000.00, loss −10,000.00; the
    # high outlier: 100 %; severe (40,000 > 24,000): 1 case, 40,000; overspend 32,000; drugs
    # 36,000 / 40,000 = 90 %; materials 500: 1.25 %; own-pay 500: 1.25 %.
    assert (a2.cost_index, a2.time_index, a2.points, a2.high_outlier_share) == (
        D("5.0000"),
        D("0.8000"),
        D("300.0000"),
        D("100.0000"),
    )
    assert (a2.expected_payment, a2.profit_loss) == (D("30000.00"), D("-10000.00"))
    assert (a2.severe_cases, a2.severe_cost, a2.over_cases, a2.over_amount) == (1, D("40000.00"), 1, D("32000.00"))
    assert (a2.drug_share, a2.consumables_share, a2.own_pay_share) == (D("90.0000"), D("1.2500"), D("1.2500"))
    # The city: region A's total (B has no cells): 4 cases, cost 63,000 against 32,000: 1.96875 →
    # 1.9688; points 537.5 → 53,750.00, loss 53,750.00 − 63,000.00 = −9,250.00. The time index is
    # 25 / 25 = 1 by construction here (region peers: the region's LOS against its own mean); with
    # city peers it is not (test_analytics_review.test_city_peers_make_the_time_index: 0.8929).
    admin = scope_for(Role.city_admin, city.tenants)
    regions = await view(db, admin, [city.a, city.b], 2025, ["region"])
    assert [g.key["region"] for g in regions] == [city.a]
    r = regions[0].summary
    assert (r.cases, r.cost, r.cost_index, r.time_index, r.points) == (
        4,
        D("63000.00"),
        D("1.9688"),
        D("1.0000"),
        D("537.5000"),
    )
    assert (r.expected_payment, r.profit_loss, r.severe_cases) == (D("53750.00"), D("-9250.00"), 1)


async def test_year_over_year(db, city, year):
    await refresh(db, year, city.a, 2025)
    await refresh(db, year, city.a, 2024)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    async with scoped_session(db, a1) as s:
        (c,) = await views.year_over_year(session_fetch(s), [city.a], 2025, [])
    # a1: 3 cases against L-1's 1: (3 / 1 − 1) × 100 = 200 %; cost 23,000 against 8,000: 187.5 %; cost
    # per case 23,000 / 3 against 8,000: (23,000 / 24,000 − 1) × 100 = −4.1667 %; CMI 1 − 1 = 0; no
    # points run in 2024: no points or payment growth.
    assert c.previous is not None and (c.previous.cases, c.previous.cost) == (1, D("8000.00"))
    assert (c.cases_growth, c.cost_growth, c.cost_per_case_growth, c.cmi_change) == (
        D("200.0000"),
        D("187.5000"),
        D("-4.1667"),
        D("0.0000"),
    )
    assert (c.points_growth, c.payment_growth, c.previous.expected_payment) == (None, None, None)
    # By department: 呼吸内科 had L-1; 心内科 is new (no previous).
    async with scoped_session(db, a1) as s:
        rows = await views.year_over_year(session_fetch(s), [city.a], 2025, ["department"])
    by = {c.key["department"]: c for c in rows}
    assert by["呼吸内科"].cases_growth == D("100.0000") and by["心内科"].previous is None


async def test_a_refresh_that_changes_nothing_writes_nothing(db, city, year):
    """No cell is written (their row versions, xmin, stay), nothing is audited; only the refresh
    row's timestamp moves: the year was checked, so the status compares later changes with it."""
    first = await refresh(db, year, city.a, 2025)
    system = Scope.system((city.a,))

    async def state():
        async with scoped_session(db, system) as s:
            at = (
                await s.execute(text("select refreshed_at from analytics_refresh where tenant_id = :t"), {"t": city.a})
            ).scalar_one()
            cells = (
                await s.execute(
                    text(
                        "select string_agg(cast(xmin as text), ',' order by hospital_id, month, department, drg) "
                        "from analytics_cell where tenant_id = :t and year = 2025"
                    ),
                    {"t": city.a},
                )
            ).scalar_one()
            audits = (
                await s.execute(
                    select(AuditEntry).where(AuditEntry.tenant_id == city.a, AuditEntry.action == "analytics.refresh")
                )
            ).all()
            return at, cells, len(audits)

    before = await state()
    again = await refresh(db, year, city.a, 2025)
    assert (first["changed"], again["changed"]) == (1, 0)
    after = await state()
    assert after[1:] == before[1:] == (before[1], 1)
    assert after[0] > before[0]


async def test_a_points_run_and_a_grouping_job_submit_a_refresh(db, city, year, dispatcher):
    """The fixture's grouping job (2024-01 to 2025-12) submitted a refresh of 2024 and of 2025, its
    points run one of 2025; each keyed by the job it follows (a retried job submits none again).
    Its 2025 policy (the provisional point value) one of 2025 too, keyed by the policy's version.
    Each was sent to the queue when the change that submitted it committed, not left to the sweep."""
    async with scoped_session(db, Scope.system((city.a,))) as s:
        done = {j.kind: j.id for j in (await s.execute(select(Job).where(Job.tenant_id == city.a))).scalars()}
        refreshes = (await s.execute(select(Job).where(Job.tenant_id == city.a, Job.kind == REFRESH))).scalars().all()
    after = sorted((j.idempotency_key.split(":")[1], j.params["year"], j.status) for j in refreshes)
    assert after == sorted(
        [
            (str(done[GROUP_CASES]), 2024, "queued"),
            (str(done[GROUP_CASES]), 2025, "queued"),
            (str(done[POINTS]), 2025, "queued"),
            ("policy.changed", 2025, "queued"),
        ]
    )
    sent = {job_id for _, kind, job_id in dispatcher.sent if kind == REFRESH}
    assert sent == {j.id for j in refreshes} and all(j.enqueued_at is not None for j in refreshes)


async def test_a_year_without_a_standard_in_force_is_skipped(db, city, year):
    """2023 has no standard in force at its end (the world's is in force from 2024): nothing is
    written, and the result says why."""
    result = await refresh(db, year, city.a, 2023)
    assert (result["changed"], result["cells"]) == (0, 0)
    (why,) = result["skipped"]
    assert why.startswith(f"{city.a}: no published payment standard of {city.city} is in force on 2023-12-31")
    async with scoped_session(db, Scope.system((city.a,))) as s:
        assert (await s.execute(text("select count(*) from analytics_refresh where year = 2023"))).scalar_one() == 0


async def test_a_hospital_sees_only_its_own_cells(db, city, year):
    await refresh(db, year, city.a, 2025)
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    assert [g.key["hospital"] for g in await view(db, a2, [city.a], 2025, ["hospital"])] == [city.a2]
    assert await view(db, a2, [city.a], 2025, ["hospital"], hospital=city.a1) == []
    assert await view(db, scope_for(Role.region_admin, (city.b,)), [city.a], 2025, []) == []
    assert await view(db, scope_for(Role.expert, (city.a,), None), [city.a], 2025, []) == []


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


QUERY = """query($t: String!, $by: [AnalyticsDimension!], $after: String) {
  analytics(tenant: $t, year: 2025, groupBy: $by, first: 1, after: $after) {
    nodes { key { region hospital department month drg }
            figures { cases cmi costIndex timeIndex points expectedPayment profitLoss drugShare severeCases } }
    pageInfo { hasNextPage endCursor } } }"""


async def test_graphql_views_pages_and_downloads(api, db, city, year):
    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    data = await api.gql(a1, QUERY, {"t": city.a, "by": ["department"]})
    page = data["analytics"]
    (node,) = page["nodes"]
    assert node["key"]["department"] == "呼吸内科" and node["figures"]["expectedPayment"] == "20000.00"
    assert node["figures"]["costIndex"] == "1.2500" and page["pageInfo"]["hasNextPage"] is True
    data = await api.gql(a1, QUERY, {"t": city.a, "by": ["department"], "after": page["pageInfo"]["endCursor"]})
    (node,) = data["analytics"]["nodes"]
    assert node["key"]["department"] == "心内科" and data["analytics"]["pageInfo"]["hasNextPage"] is False
    # A hospital comparing hospitals sees itself only.
    data = await api.gql(a1, QUERY, {"t": city.a, "by": ["hospital"]})
    assert [n["key"]["hospital"] for n in data["analytics"]["nodes"]] == [city.a1]
    # A mistake is a typed top-level error naming the argument.
    r = await api.post(a1, QUERY, {"t": city.a, "by": ["month", "month"]})
    (err,) = r.json()["errors"]
    assert err["extensions"] == {"code": "BAD_USER_INPUT", "field": "groupBy[1]"}
    # Another region's tenant is refused.
    r = await api.post(api.token(Role.region_admin, [city.b]), QUERY, {"t": city.a, "by": []})
    assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Status: computed from the latest points run with the provisional point value.
    status = await api.gql(
        a1,
        STATUS,
        {"t": city.a},
    )
    st = status["analyticsStatus"]
    # a1's own: A-1 and A-2 in (a1, 3, 呼吸内科, ES23), A-3 in (a1, 5, 心内科, ES23): 2 cells, 3 cases
    # (never the region's 4 cases in 3 cells, which the region administrator sees).
    assert (st["stale"], st["cells"], st["cases"]) == (False, 2, 3)
    assert {"ledger": "employee", "value": "100", "basis": "provisional"} in st["pointValues"]
    region_st = (await api.gql(api.token(Role.region_admin, [city.a]), STATUS, {"t": city.a}))["analyticsStatus"]
    assert (region_st["stale"], region_st["cells"], region_st["cases"]) == (False, 3, 4)

    # Downloads: CSV with a BOM and Chinese headers; XLSX; English on request; a hospital gets its own.
    headers = {"Authorization": f"Bearer {a1}"}
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?by=department", headers=headers)
    assert r.status_code == 200, r.text
    body = r.content.decode("utf-8")
    assert body.startswith("\ufeff出院科别,病例数,") and "\r\n" in body
    lines = body.lstrip("\ufeff").split("\r\n")
    assert lines[1].startswith("呼吸内科,2,2,1.0000,2.0000,1.2500,1.2000") and lines[2].startswith("心内科,1,")
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?by=hospital&lang=en", headers=headers)
    lines = r.content.decode("utf-8").lstrip("\ufeff").split("\r\n")
    assert lines[0].startswith("Hospital code,Hospital,Cases,") and len([x for x in lines if x]) == 2
    assert lines[1].startswith(f"{city.a1},Hospital {city.a1},3,")
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025/year-over-year?format=xlsx", headers=headers)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?by=ward", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "by"
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025?colour=red", headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "colour"
    other = {"Authorization": f"Bearer {api.token(Role.region_admin, [city.b])}"}
    r = await api.client.get(f"/downloads/analytics/{city.a}/2025", headers=other)
    assert r.status_code == 403


STATUS = """query($t: String!) { analyticsStatus(tenant: $t, year: 2025) { stale staleReason cells cases
  pointValues { ledger value basis } } }"""

REFRESH_MUTATION = """mutation($t: String!) { refreshAnalytics(tenant: $t, year: 2025, idempotencyKey: "r1") {
  __typename ... on AnalyticsRefreshJobPayload { created job { databaseId kind } }
  ... on PermissionDenied { message } ... on ValidationError { errors { field reason } } } }"""


async def test_refresh_analytics_mutation(api, db, city, year):
    region = api.token(Role.region_admin, [city.a])
    first = (await api.gql(region, REFRESH_MUTATION, {"t": city.a}))["refreshAnalytics"]
    assert first["__typename"] == "AnalyticsRefreshJobPayload" and first["job"]["kind"] == "analytics_refresh"
    again = (await api.gql(region, REFRESH_MUTATION, {"t": city.a}))["refreshAnalytics"]
    assert again["created"] is False and again["job"]["databaseId"] == first["job"]["databaseId"]
    hospital = api.token(Role.hospital_user, [city.a], city.a1)
    refused = (await api.gql(hospital, REFRESH_MUTATION, {"t": city.a}))["refreshAnalytics"]
    assert refused["__typename"] == "PermissionDenied"
    from dianshu.jobs import service as jobs

    assert await jobs.execute(db, city.a, uuid.UUID(first["job"]["databaseId"])) == "succeeded"
    result = await api.gql(
        region,
        """query($id: ID!) { job(id: $id) { result { __typename ... on AnalyticsRefreshJobResult {
             year regions changed cells cases skipped } } } }""",
        {"id": first["job"]["databaseId"]},
    )
    # 4 cases of 2025 in 4 cells: (a1, 3, 呼吸内科, ES23) holds; one each.
    assert result["job"]["result"] == {
        "__typename": "AnalyticsRefreshJobResult",
        "year": 2025,
        "regions": 1,
        "changed": 1,
        "cells": 3,
        "cases": 4,
        "skipped": [],
    }


DASHBOARD = """query($t: String!) {
  total: analytics(tenant: $t, year: 2025) { nodes { figures { cases cost } } }
  departments: analytics(tenant: $t, year: 2025, groupBy: [department]) {
    nodes { key { department } figures { cases cost } } }
  months: analytics(tenant: $t, year: 2025, groupBy: [month]) { nodes { key { month } figures { cases } } }
}"""


async def test_a_dashboard_reads_its_views_in_one_transaction(api, db, city, year, monkeypatch):
    """Three aliased views of one request: one read-only transaction, and each answer the same as
    the view asked alone. a1 (the world above): 3 cases costing 23,000.00 — 呼吸内科 2 (20,000.00),
    心内科 1 (3,000.00)."""
    from dianshu.db.session import Database

    await refresh(db, year, city.a, 2025)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    opened = []
    reading = Database.reading

    def counted(self, scope, **kw):
        opened.append(scope)
        return reading(self, scope, **kw)

    monkeypatch.setattr(Database, "reading", counted)
    data = await api.gql(a1, DASHBOARD, {"t": city.a})
    assert len(opened) == 1 and opened[0].hospital_id == city.a1
    assert data["total"]["nodes"] == [{"figures": {"cases": 3, "cost": "23000.00"}}]
    assert data["departments"]["nodes"] == [
        {"key": {"department": "呼吸内科"}, "figures": {"cases": 2, "cost": "20000.00"}},
        {"key": {"department": "心内科"}, "figures": {"cases": 1, "cost": "3000.00"}},
    ]
    assert sum(n["figures"]["cases"] for n in data["months"]["nodes"]) == 3
    # Each alone: the same answers, a transaction each.
    alone = {
        "total": "analytics(tenant: $t, year: 2025) { nodes { figures { cases cost } } }",
        "departments": "analytics(tenant: $t, year: 2025, groupBy: [department]) "
        "{ nodes { key { department } figures { cases cost } } }",
        "months": "analytics(tenant: $t, year: 2025, groupBy: [month]) { nodes { key { month } figures { cases } } }",
    }
    for alias, field in alone.items():
        answer = await api.gql(a1, "query($t: String!) { " + field + " }", {"t": city.a})
        assert answer["analytics"]["nodes"] == data[alias]["nodes"]
    assert len(opened) == 4
