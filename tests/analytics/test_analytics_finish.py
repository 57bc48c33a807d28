"""Hospital analytics, the rest of issue 13, on the hand-built year of test_analytics.py (its module
docstring works out the world): the answers kept per refresh (never another scope's, the new one
after a refresh, in every process), an evaluation coefficient other than 1 in the expected payment,
the refresh queued after a published clearing and a policy change, and a change of peer scope
alone reported as stale."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from sqlalchemy import select, text

from dianshu.analytics import cache, views
from dianshu.analytics.refresh import REFRESH, follow
from dianshu.db.session import scoped_session
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.settlement.events import POLICY_CHANGED, PUBLISHED
from dianshu.settlement.models import SettlementLine, SettlementRun
from dianshu.settlement.runs.policies import set_region_policy
from tests.analytics.test_analytics import refresh, view
from tests.analytics.test_analytics_review import set_pv, stale
from tests.conftest import scope_for
from tests.settlement.world import run_job


class Recorded:
    """A Fetch that records its statements."""

    def __init__(self, fetch):
        self.fetch, self.statements = fetch, []

    async def __call__(self, sql, *args):
        self.statements.append(sql)
        return await self.fetch(sql, *args)


async def asked(db, answers, scope, tenants, year_=2025, by=(), view_="groups"):
    """One view through the cache, in a repeatable-read transaction as the API reads; returns
    (answer, the statements run)."""
    async with db.reading(scope, isolation="repeatable_read") as conn:
        rec = Recorded(conn.fetch)
        ask = cache.Ask(view_, tuple(tenants), year_, tuple(by), views.Filters(), None, 51)
        (answer,) = await cache.answers(rec, answers, scope, [ask])
    return answer, rec.statements


def total(answer):
    (g,) = answer
    return g.summary


async def test_answers_are_kept_per_scope_and_per_refresh(db, city, year):
    """a1 (3 cases, 23,000.00, 237.5 points × 100 = 23,750.00) asked twice: the second answer is the
    first, with one statement (the generation). a2 with the same arguments: its own answer (A-4: 1
    case, 40,000.00, 300 points → 30,000.00), never a1's; the region's: 4 cases, 63,000.00.
    The point value 100 → 200: the status is stale at once (not cached), the answers stay those of
    the refresh in force (the cells did not change); the refresh commits: the next answer is the new
    one, 237.5 × 200 = 47,500.00, in this process and in another (its own cache, filled before)."""
    await refresh(db, year, city.a, 2025)
    here, there = cache.AnswerCache(), cache.AnswerCache()
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    region = scope_for(Role.region_viewer, (city.a,))

    first, statements = await asked(db, here, a1, [city.a])
    assert (total(first).cases, total(first).cost, total(first).expected_payment) == (3, D("23000.00"), D("23750.00"))
    assert len(statements) == 2 and statements[0] == cache.GENERATIONS_SQL
    again, statements = await asked(db, here, a1, [city.a])
    assert again is first and statements == [cache.GENERATIONS_SQL]
    assert (here.hits, here.misses) == (1, 1)
    other, _ = await asked(db, here, a2, [city.a])
    assert (total(other).cases, total(other).cost, total(other).expected_payment) == (
        1,
        D("40000.00"),
        D("30000.00"),
    )
    whole, _ = await asked(db, here, region, [city.a])
    assert (total(whole).cases, total(whole).cost) == (4, D("63000.00"))
    assert here.misses == 3
    # The other process asks before the change too.
    assert total((await asked(db, there, a1, [city.a]))[0]).expected_payment == D("23750.00")

    await set_pv(db, year, city, "200")
    assert (await stale(db, city))[0] is True
    kept, statements = await asked(db, here, a1, [city.a])
    assert kept is first and statements == [cache.GENERATIONS_SQL]

    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    assert await stale(db, city) == (False, None)
    for answers in (here, there):
        new, statements = await asked(db, answers, a1, [city.a])
        assert total(new).expected_payment == D("47500.00") and len(statements) == 2
    # Year over year is kept the same way (2024 has no refresh: its generation is None).
    (c,), _ = await asked(db, here, a1, [city.a], view_="year_over_year")
    assert c.previous is None and c.current.cases == 3
    (c2,), statements = await asked(db, here, a1, [city.a], view_="year_over_year")
    assert c2 is c and statements == [cache.GENERATIONS_SQL]
    await refresh(db, year, city.a, 2024)
    (c3,), _ = await asked(db, here, a1, [city.a], view_="year_over_year")
    assert c3.previous is not None and c3.previous.cases == 1 and c3.cases_growth == D("200.0000")


def test_the_cache_is_bounded_by_rows_and_age():
    now = [0.0]
    answers = cache.AnswerCache(max_rows=3, ttl=10, clock=lambda: now[0])
    answers.put("a", [1])
    answers.put("b", [1, 2])
    assert answers.get("a") == [1]  # a is now the most recently used
    answers.put("c", [1])  # 4 rows > 3: b (least recently used) goes
    assert (answers.get("b"), answers.get("a"), answers.get("c"), answers.rows) == (None, [1], [1], 2)
    answers.put("big", [1, 2, 3, 4])  # bigger than the whole cache: not kept, nothing dropped
    assert (answers.get("big"), len(answers)) == (None, 2)
    answers.put("empty", [])  # an empty answer counts as one row, and is found (not a miss)
    assert answers.get("empty") == [] and answers.rows == 3
    now[0] = 10.0
    assert answers.get("a") is None and answers.rows == 2  # aged out


DASHBOARD = """query($t: String!) {
  total: analytics(tenant: $t, year: 2025) { nodes { figures { cases cost expectedPayment } } }
  departments: analytics(tenant: $t, year: 2025, groupBy: [department]) {
    nodes { key { department } figures { cases cost } } }
  lastYear: analyticsYearOverYear(tenant: $t, year: 2025) { nodes { current { cases } } }
}"""


async def test_a_repeated_dashboard_is_answered_from_the_cache(api, db, city, year, monkeypatch):
    """The served app: a1's dashboard twice computes its three views once; a2's (same arguments)
    computes its own; after a refresh that changes the cells, a1's is computed again."""
    await refresh(db, year, city.a, 2025)
    computed = []
    compute = cache.Ask.compute

    async def counted(self, fetch):
        computed.append(self)
        return await compute(self, fetch)

    monkeypatch.setattr(cache.Ask, "compute", counted)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    first = await api.gql(a1, DASHBOARD, {"t": city.a})
    assert first["total"]["nodes"] == [{"figures": {"cases": 3, "cost": "23000.00", "expectedPayment": "23750.00"}}]
    assert len(computed) == 3
    assert await api.gql(a1, DASHBOARD, {"t": city.a}) == first and len(computed) == 3
    theirs = await api.gql(a2, DASHBOARD, {"t": city.a})
    assert theirs["total"]["nodes"] == [{"figures": {"cases": 1, "cost": "40000.00", "expectedPayment": "30000.00"}}]
    assert len(computed) == 6
    await set_pv(db, year, city, "200")
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    after = await api.gql(a1, DASHBOARD, {"t": city.a})
    assert after["total"]["nodes"][0]["figures"]["expectedPayment"] == "47500.00" and len(computed) == 9


# ---- an evaluation coefficient other than 1 --------------------------------------------------


async def test_an_evaluation_coefficient_of_098_in_the_expected_payment(db, city, year):
    """Region A's 2025 employee policy bands the score: below 60 a points coefficient of 0.98, from
    60 on 1; a1's score is overridden to 50 (0.98), a2 has none (1). The published clearing (budget
    T = 60,000, growth 0) pays paid points = points × coefficient − deductions:
      a1: (100 + 100 + 37.5) × 0.98 = 232.75; a2: 300 × 1 = 300; P = 532.75.
    Its point value: T 60,000, reserve 5 % 3,000, B = 57,000; E (the fund's fee-for-service pay,
    cost − 2,000 a stay) = 6,000 + 10,000 + 1,000 + 38,000 = 55,000 ≤ B, so F = 55,000 + 0.85 ×
    2,000 = 56,700.00; S = 4 × 2,000 = 8,000; PV = (56,700 + 8,000) / 532.75 = 121.445330830…
    Expected payment, rounded once to the fen:
      a1: 232.75 × 121.445330830… = 28,266.400750… → 28,266.40 (at coefficient 1 it would be
          237.5 × PV' with another PV: the coefficient is in both);
      a2: 300 × 121.445330830… = 36,433.599249… → 36,433.60.
    Profit or loss: a1 28,266.40 − 23,000.00 = 5,266.40; a2 36,433.60 − 40,000.00 = −3,566.40. Each
    equals the clearing line's due + self-pay."""
    from dianshu.settlement.runs import budgets, regional
    from dianshu.settlement.runs.publish import publish_run

    async with scoped_session(db, year) as s:
        await set_region_policy(
            s,
            year,
            city.city,
            city.a,
            2025,
            "employee",
            {
                "provisional_point_value": "100",
                "evaluation_coefficient_floors": ["0", "60"],
                "evaluation_coefficients": ["0.98", "1"],
            },
            "score bands",
        )
        await regional.override_evaluation_score(s, year, city.a, city.a1, 2025, "50", "test score")
        await budgets.set_budget(
            s, year, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    settled = await run_job(db, year, city.a, "settlement.settle", {"kind": "annual", "year": 2025})
    (run,) = settled["runs"]
    async with scoped_session(db, year) as s:
        await publish_run(s, year, city.a, uuid.UUID(run["id"]))
    await refresh(db, year, city.a, 2025)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        r = (await s.execute(select(SettlementRun).where(SettlementRun.id == uuid.UUID(run["id"])))).scalar_one()
        lines = {
            x.hospital_id: x
            for x in (await s.execute(select(SettlementLine).where(SettlementLine.run_id == r.id))).scalars()
        }
    assert D(r.figures["PV_exact"]).quantize(D("0.000001")) == D("121.445331")
    region = scope_for(Role.region_admin, (city.a,))
    by = {g.key["hospital"]: g.summary for g in await view(db, region, [city.a], 2025, ["hospital"])}
    assert (by[city.a1].points, by[city.a1].expected_payment, by[city.a1].profit_loss) == (
        D("232.7500"),
        D("28266.40"),
        D("5266.40"),
    )
    assert (by[city.a2].points, by[city.a2].expected_payment, by[city.a2].profit_loss) == (
        D("300.0000"),
        D("36433.60"),
        D("-3566.40"),
    )
    for h in (city.a1, city.a2):
        assert by[h].expected_payment == lines[h].due + lines[h].self_pay
    st = await views.status(db, region, city.a, 2025)
    assert st.refresh.point_values["employee"]["coefficients"] == {city.a1: "0.98", city.a2: "1"}


# ---- a refresh queued after a published clearing and a policy change ----------------------------


async def refresh_jobs(db, tenant):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        jobs = (await s.execute(select(Job).where(Job.tenant_id == tenant, Job.kind == REFRESH))).scalars().all()
    return sorted((j.idempotency_key, j.params["year"]) for j in jobs if j.idempotency_key)


def test_what_follows_an_event():
    assert follow(PUBLISHED, {"kind": "annual", "year": 2025, "month": 12, "ledger": "employee"}, {}) == [
        {"year": 2025},
        {"year": 2026},
    ]
    assert follow(PUBLISHED, {"kind": "monthly", "year": 2025, "month": 3, "ledger": "employee"}, {}) == []
    assert follow(POLICY_CHANGED, {"year": 2025, "ledger": "all"}, {}) == [{"year": 2025}]


async def test_a_policy_change_and_a_published_clearing_queue_a_refresh_once(db, city, year):
    """A new policy version queues a refresh of its year, keyed by the version; the same parameters
    again write nothing (no version, no job). A published clearing queues one of its year and of
    the next, keyed by the run; publishing it again writes nothing. Run, the queued refresh makes
    the status fresh; 2026 has no case: skipped, nothing written."""
    from dianshu.settlement.runs import budgets
    from dianshu.settlement.runs.publish import publish_run

    await refresh(db, year, city.a, 2025)
    before = await refresh_jobs(db, city.a)
    await set_pv(db, year, city, "200")
    added = sorted(set(await refresh_jobs(db, city.a)) - set(before))
    assert [(k.rsplit(":", 1)[0], y) for k, y in added] == [
        (f"after:policy.changed:policy_version:{city.a}:2025/employee:v2", 2025)
    ]
    assert (await stale(db, city))[0] is True
    await set_pv(db, year, city, "200", why="again")  # the same parameters: nothing new
    assert sorted(set(await refresh_jobs(db, city.a)) - set(before)) == added
    async with scoped_session(db, Scope.system((city.a,))) as s:
        (job_id,) = (
            await s.execute(select(Job.id).where(Job.tenant_id == city.a, Job.idempotency_key == added[0][0]))
        ).scalars()
    from dianshu.jobs import service as jobs

    assert await jobs.execute(db, city.a, job_id) == "succeeded"
    assert await stale(db, city) == (False, None)

    async with scoped_session(db, year) as s:
        await budgets.set_budget(
            s, year, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    settled = await run_job(db, year, city.a, "settlement.settle", {"kind": "annual", "year": 2025})
    (run,) = settled["runs"]
    before = await refresh_jobs(db, city.a)
    for _ in range(2):
        async with scoped_session(db, year) as s:
            await publish_run(s, year, city.a, uuid.UUID(run["id"]))
    added = sorted(set(await refresh_jobs(db, city.a)) - set(before))
    assert sorted((k.rsplit(":", 1)[0], y) for k, y in added) == [
        (f"after:settlement.published:{run['id']}", 2025),
        (f"after:settlement.published:{run['id']}", 2026),
    ]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        ids = {
            j.params["year"]: j.id
            for j in (
                await s.execute(
                    select(Job).where(Job.tenant_id == city.a, Job.idempotency_key.in_([k for k, _ in added]))
                )
            ).scalars()
        }
        audits = (
            await s.execute(text("select count(*) from audit_log where action = 'settlement.published'"))
        ).scalar_one()
    assert audits == 1
    assert await jobs.execute(db, city.a, ids[2025]) == "succeeded"
    assert await stale(db, city) == (False, None)
    assert (await views.status(db, year, city.a, 2025)).refresh.point_values["employee"]["basis"] == "cleared"
    assert await jobs.execute(db, city.a, ids[2026]) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        result = (await s.execute(select(Job.result).where(Job.tenant_id == city.a, Job.id == ids[2026]))).scalar_one()
        rows = (await s.execute(text("select count(*) from analytics_refresh where year = 2026"))).scalar_one()
    assert result["skipped"] == [f"{city.a}: no case of the year"] and rows == 0


async def test_a_monthly_run_published_queues_nothing(db, city, year):
    from dianshu.settlement.runs.publish import publish_run

    settled = await run_job(db, year, city.a, "settlement.settle", {"kind": "monthly", "year": 2025, "month": 3})
    before = await refresh_jobs(db, city.a)
    async with scoped_session(db, year) as s:
        for r in settled["runs"]:
            await publish_run(s, year, city.a, uuid.UUID(r["id"]))
    assert await refresh_jobs(db, city.a) == before


# ---- a change of peer scope alone is stale ------------------------------------------------------


async def test_a_change_of_peer_scope_alone_is_stale(db, city, year):
    """Region A's policy for every ledger sets evaluation_peer_scope city, nothing else: the point
    values, points run and standard are the same, but the time index's peers are now both regions:
    stale, for every role, with the reason. The region administrator's refresh reads them (their
    average stays, apart) and records them: fresh, and the city's refresh then changes nothing. A
    row from before the peers were kept (null) is stale too, and a refresh that changes nothing
    fills it."""
    await refresh(db, year, city.a, 2025)
    assert (await views.status(db, year, city.a, 2025)).refresh.peers == [city.a]
    async with scoped_session(db, year) as s:
        await set_region_policy(s, year, city.city, city.a, 2025, "all", {"evaluation_peer_scope": "city"}, "peers")
    assert await stale(db, city) == (True, f"the time index's peers changed ({city.a} → {city.a}, {city.b})")
    assert (await refresh(db, year, city.a, 2025))["changed"] == 1
    assert await stale(db, city) == (False, None)
    admin = scope_for(Role.city_admin, city.tenants)
    assert (await refresh(db, admin, city.city, 2025))["changed"] == 0
    assert await stale(db, city) == (False, None)
    assert (await views.status(db, year, city.a, 2025)).refresh.peers == [city.a, city.b]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(text("update analytics_refresh set peers = null where tenant_id = :t"), {"t": city.a})
    assert await stale(db, city) == (True, "the time index's peers were not recorded by the last refresh")
    assert (await refresh(db, admin, city.city, 2025))["changed"] == 0
    assert await stale(db, city) == (False, None)


async def test_with_city_peers_a_peer_regions_new_case_makes_the_region_stale(db, city, year, builtin_versions):
    """Region A's time index is computed over both regions' hospitals (evaluation_peer_scope city):
    a case arriving in region B, and B's grouping job, change A's peer averages, so A's status is
    stale, naming B, for every role; the city's refresh makes it fresh and its time index moves."""
    from dianshu.grouping.service import GROUP_CASES
    from tests.cases.rows import csv_bytes
    from tests.cases.test_ingestion import send
    from tests.settlement.world import stay

    async with scoped_session(db, year) as s:
        await set_region_policy(s, year, city.city, city.a, 2025, "all", {"evaluation_peer_scope": "city"}, "peers")
    admin = scope_for(Role.city_admin, city.tenants)
    await refresh(db, admin, city.city, 2025)
    assert await stale(db, city) == (False, None)
    (before,) = [g for g in await view(db, admin, [city.a, city.b], 2025, ["region"]) if g.key["region"] == city.a]

    b = scope_for(Role.region_admin, (city.b,))
    long = stay("B-PEER-1", city.b1, 8000, 3, day=15)
    long.update(adm_time="2025-03-05 09:00", act_ipt_days="10")
    _, outcome, _, _ = await send(db, b, city.b, csv_bytes([long]), "b-peer-1")
    assert outcome == "succeeded"
    assert await stale(db, city) == (
        True,
        f"cases of the time index's peer region {city.b} of the year arrived, were corrected or recalled "
        "after the refresh",
    )
    zj = str(builtin_versions["zhejiang_2022"])
    await run_job(db, b, city.b, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [zj]})
    assert (await stale(db, city))[0] is True
    await refresh(db, admin, city.city, 2025)
    assert await stale(db, city) == (False, None)
    (after,) = [g for g in await view(db, admin, [city.a, city.b], 2025, ["region"]) if g.key["region"] == city.a]
    assert after.summary.time_index != before.summary.time_index  # B's long stay moved A's peers


async def test_with_city_peers_the_refresh_after_a_regions_points_run_brings_it_up_to_date(db, city, year):
    """Region A (city peers) runs its points: the refresh that follows, under the region
    administrator's scope, reads the peers' averages and leaves A fresh (it used to skip, 'the
    city administrator refreshes', and the dashboard stayed stale until a city refresh by hand)."""
    from dianshu.jobs import service as jobs
    from dianshu.settlement.runs.points import POINTS

    async with scoped_session(db, year) as s:
        await set_region_policy(s, year, city.city, city.a, 2025, "all", {"evaluation_peer_scope": "city"}, "p")
    admin = scope_for(Role.city_admin, city.tenants)
    await refresh(db, admin, city.city, 2025)
    before = {k for k, _ in await refresh_jobs(db, city.a)}
    await run_job(db, year, city.a, POINTS, {"year": 2025, "month": 12})
    assert (await stale(db, city))[1] == "a newer points run exists"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        new = [
            j
            for j in (await s.execute(select(Job).where(Job.tenant_id == city.a, Job.kind == REFRESH))).scalars()
            if j.idempotency_key not in before
        ]
    assert [(j.params, j.hospital_id) for j in new] == [({"year": 2025}, None)]  # region-wide, its tenant only
    assert await jobs.execute(db, city.a, new[0].id) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        result = (await s.execute(select(Job.result).where(Job.id == new[0].id))).scalar_one()
    assert (result["changed"], result["skipped"]) == (1, [])
    assert await stale(db, city) == (False, None)


async def test_a_city_default_change_queues_the_citys_refresh(db, city, year):
    """The city's 2025 defaults change: one refresh of the city (which does each of its regions),
    submitted on the city tenant by the city administrator."""
    from dianshu.settlement.runs.policies import set_city_defaults

    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        await set_city_defaults(s, admin, city.city, 2025, "all", {"evaluation_peer_scope": "city"}, "city peers")
    jobs = await refresh_jobs(db, city.city)
    assert [(k.rsplit(":", 1)[0], y) for k, y in jobs] == [
        (f"after:policy.changed:policy_default:{city.city}:2025/all:v1", 2025)
    ]


# ---- the review: the CMI's change from the exact sums -------------------------------------------


def test_the_cmi_change_is_rounded_once_from_the_exact_cmis():
    """This year Σ RW 3.00018 over 3 weighed cases: CMI 1.00006, shown 1.0001; last year 2.99976
    over 3: 0.99992, shown 0.9999. The change is 1.00006 − 0.99992 = 0.00014 → 0.0001 (the shown
    CMIs' difference, 0.0002, was the old figure)."""

    def group(rw_sum):
        sums = {"cases": 3, "grouped": 3, "weighed": 3, "rw_sum": D(rw_sum), "cost": D("24000.00")}
        return views.Group({}, views.summarise(sums), sums)

    this, last = group("3.00018"), group("2.99976")
    assert (this.summary.cmi, last.summary.cmi) == (D("1.0001"), D("0.9999"))
    assert views.compare(this, last).cmi_change == D("0.0001")
    assert views.cmi_change(this.sums, {"weighed": 0}) is None


async def test_two_changes_in_one_transaction_queue_one_refresh(db, city, year):
    """Two policy versions in one transaction (as the demo publishes both ledgers' clearings of a
    region together): one refresh of 2025, keyed by the first (it is sent once the transaction
    commits, so it reads both)."""
    before = await refresh_jobs(db, city.a)
    async with scoped_session(db, year) as s:
        for pv in ("150", "160"):
            await set_region_policy(s, year, city.city, city.a, 2025, "employee", {"provisional_point_value": pv}, "x")
    added = sorted(set(await refresh_jobs(db, city.a)) - set(before))
    assert [(k.rsplit(":", 1)[0], y) for k, y in added] == [
        (f"after:policy.changed:policy_version:{city.a}:2025/employee:v2", 2025)
    ]


# ---- two DRGs of different weight and cost (the review: every figure with RW ≠ 1) ----------------


async def test_two_drgs_of_different_weight_by_hand(db, city, dispatcher, builtin_versions):
    """Region B, hospital b1, 2025 (employee ledger, provisional point value 100). The standard:
    ES23 average cost 8,000, base points 100 (RW 1); BR25 (I63.900, cerebral infarction) average
    16,000, base points 200 (RW 2). All three stays normal (cost ratio 1, 1.25, 0.875: inside the
    outlier bounds), so points = base points.

      list  DRG   cost    points  payment (× 100)  profit
      B-1   ES23   8,000   100     10,000           2,000
      B-2   BR25  20,000   200     20,000               0
      B-3   BR25  14,000   200     20,000           6,000

    b1: 3 cases; total weight 1 + 2 + 2 = 5; CMI 5 ÷ 3 = 1.6667; points 500; expected payment
    50,000; cost 42,000; profit 8,000; cost index 42,000 ÷ (8,000 + 2 × 16,000) = 1.05.
    ES23: CMI 1, payment 10,000, profit 2,000, cost index 1. BR25: CMI 2, total weight 4, payment
    40,000, cost 34,000, profit 6,000, cost index 34,000 ÷ 32,000 = 1.0625. Overspend: B-2 alone
    (4,000 over BR25's 16,000; B-3 is under it). Severe: none (BR25's average is 10,000 or more, so
    2 × 16,000 = 32,000; ES23's 3 × 8,000 = 24,000)."""

    from dianshu.grouping.service import GROUP_CASES
    from dianshu.settlement.runs.points import POINTS
    from tests.analytics.test_analytics import publish
    from tests.cases.rows import csv_bytes
    from tests.cases.test_ingestion import send
    from tests.settlement.world import stay

    zj = builtin_versions["zhejiang_2022"]
    await publish(db, city, zj, drgs=(("ES23", 8000, 100), ("BR25", 16000, 200)))
    region = scope_for(Role.region_admin, (city.b,))
    infarct = {"diag_codes": "I63.900", "adm_cond_types": "1"}
    b2, b3 = stay("B-2", city.b1, 20000, 3), stay("B-3", city.b1, 14000, 4)
    b2.update(infarct)
    b3.update(infarct)
    _, outcome, result, _ = await send(db, region, city.b, csv_bytes([stay("B-1", city.b1, 8000, 3), b2, b3]), "two")
    assert outcome == "succeeded" and result["accepted"] == 3, result
    await run_job(db, region, city.b, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    async with scoped_session(db, region) as s:
        await set_region_policy(s, region, city.city, city.b, 2025, "employee", {"provisional_point_value": "100"}, "t")
    await run_job(db, region, city.b, POINTS, {"year": 2025, "month": 12})
    await refresh(db, region, city.b, 2025)

    (b1,) = await view(db, region, [city.b], 2025, ["hospital"])
    t = b1.summary
    assert (t.cases, t.grouped, t.weighed) == (3, 3, 3)
    assert (t.total_weight, t.cmi, t.points) == (D("5"), D("1.6667"), D("500"))
    assert (t.expected_payment, t.cost, t.profit_loss) == (D("50000.00"), D("42000.00"), D("8000.00"))
    assert t.cost_index == D("1.0500")
    assert (t.over_cases, t.over_amount, t.severe_cases) == (1, D("4000.00"), 0)
    by_drg = {g.key["drg"]: g.summary for g in await view(db, region, [city.b], 2025, ["drg"])}
    assert sorted(by_drg) == ["BR25", "ES23"]
    es, br = by_drg["ES23"], by_drg["BR25"]
    assert (es.cases, es.cmi, es.expected_payment, es.profit_loss, es.cost_index) == (
        1, D("1.0000"), D("10000.00"), D("2000.00"), D("1.0000"),
    )  # fmt: skip
    assert (br.cases, br.cmi, br.total_weight, br.expected_payment, br.cost, br.profit_loss, br.cost_index) == (
        2, D("2.0000"), D("4"), D("40000.00"), D("34000.00"), D("6000.00"), D("1.0625"),
    )  # fmt: skip
