"""`dianshu db prune-runs`: superseded points runs lose their case points; the year's latest run and
a run a published settlement used keep theirs; a draft made from a pruned run cannot be published
nor a pruned run settled; every prune is audited once (a second prune writes nothing)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.scope import Scope
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.publish import RunRefused, publish_run
from tests.settlement.test_runs import year  # noqa: F401  (the fixture)
from tests.settlement.world import run_job, settle
from tests.test_cli import run
from tests.test_standards_db import builtin_versions  # noqa: F401


async def _counts(db, tenant):
    """points run id -> (its case points, its points_month rows, pruned or not)."""
    async with scoped_session(db, Scope.system((tenant,))) as s:
        rows = await s.execute(
            text("""
            select r.id, (select count(*) from case_point p where p.tenant_id = r.tenant_id and p.run_id = r.id) as cp,
                   (select count(*) from points_month m where m.tenant_id = r.tenant_id and m.run_id = r.id) as pm,
                   r.pruned_at is not null as pruned
            from points_run r where r.tenant_id = :t"""),
            {"t": tenant},
        )
        return {str(r.id): (r.cp, r.pm, r.pruned) for r in rows}


async def _audits(db, tenant):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        rows = await s.execute(
            text("select target, details from audit_log where tenant_id = :t and action = 'settlement.points_pruned'"),
            {"t": tenant},
        )
        # By version: run ids are random, so sorting by them would order the runs by chance.
        return sorted(((r.target, r.details["case_points"], r.details["version"]) for r in rows), key=lambda a: a[2])


async def test_prune_keeps_the_latest_and_the_published_and_drops_the_rest(db, city, year):  # noqa: F811
    region = year
    # March's monthly settlement makes its own points run through month 3 and is published.
    march = await settle(db, region, city.a, "monthly", month=3)
    (march_run,) = march["runs"]
    march_points = march["points_run"]
    async with scoped_session(db, region) as s:
        await publish_run(s, region, city.a, uuid.UUID(march_run["id"]))
    # Three points runs of the whole year (four cases each); an annual draft from the first.
    first = (await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12}))["points_run"]
    draft = await settle(db, region, city.a, "annual", points_run=first)
    second = (await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12}))["points_run"]
    latest = (await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12}))["points_run"]
    before = await _counts(db, city.a)
    assert {k: v[0] for k, v in before.items()} == {march_points: 2, first: 4, second: 4, latest: 4}
    assert not any(v[2] for v in before.values())

    dry = run("db", "prune-runs", "--tenant", city.a, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert f"superseded {city.a} 2025 through month 12 v1 ({first})" in dry.stdout
    assert f"superseded {city.a} 2025 through month 12 v2 ({second})" in dry.stdout
    assert "2 run(s) superseded" in dry.stdout
    assert await _counts(db, city.a) == before and await _audits(db, city.a) == []

    pruned = run("db", "prune-runs", "--tenant", city.a, "--year", "2025")
    assert pruned.returncode == 0, pruned.stderr[-2000:]
    assert f"pruned {city.a} 2025 through month 12 v1 ({first}): 4 case points deleted" in pruned.stdout
    assert "2 run(s) pruned" in pruned.stdout and "vacuum (analyze) case_point_y2025: done" in pruned.stdout
    after = await _counts(db, city.a)
    # The case points go; the monthly totals (points_month) stay; the run is marked.
    assert after[first] == (0, before[first][1], True) and after[second] == (0, before[second][1], True)
    assert after[latest] == before[latest] and after[march_points] == before[march_points]
    assert await _audits(db, city.a) == [(f"points_run:{first}", 4, 1), (f"points_run:{second}", 4, 2)]

    # Again: nothing to do, nothing written.
    again = run("db", "prune-runs", "--tenant", city.a)
    assert again.returncode == 0 and "0 run(s) pruned" in again.stdout
    assert await _counts(db, city.a) == after and len(await _audits(db, city.a)) == 2

    # The draft made from the pruned run cannot be published; the pruned run cannot be settled.
    (draft_run,) = draft["runs"]
    with pytest.raises(RunRefused, match="pruned"):
        async with scoped_session(db, region) as s:
            await publish_run(s, region, city.a, uuid.UUID(draft_run["id"]))
    with pytest.raises(Exception, match="pruned"):
        await settle(db, region, city.a, "annual", points_run=first)
    # Settling from the latest still works.
    assert (await settle(db, region, city.a, "annual", points_run=latest))["points_run"] == latest


def test_prune_refuses_an_unknown_tenant():
    out = run("db", "prune-runs", "--tenant", "NOPE99")
    assert out.returncode == 2 and "no tenant NOPE99" in out.stderr
