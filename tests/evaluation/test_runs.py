"""Evaluation runs through the database (job evaluation.run, publish_run), with the indicator, the
entered-value and the catalogue functions stood in for by hand-built values (evaluation_inputs below):
this tests the run's plumbing (peers, storage, publication, immutability, row-level security); the
scoring's arithmetic has its own tests (test_scoring.py)."""

from __future__ import annotations

import importlib
import sys
import uuid
from dataclasses import dataclass, field
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dianshu.db.session import scoped_session
from dianshu.evaluation.catalogue import Catalogue, Dimension, Indicator
from dianshu.evaluation.run_models import (
    EvaluationIndicatorScore,
    EvaluationPeerStat,
    EvaluationResult,
    EvaluationRun,
)
from dianshu.evaluation.runs import RUN, EvaluationRefused, publish_run
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import JobRejected
from dianshu.scope import Role, Scope
from dianshu.settlement.runs import regional
from dianshu.settlement.runs.policies import set_region_policy
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import run_job


@dataclass
class Measure:
    value: D | None
    numerator: D | None = None
    denominator: D | None = None


@dataclass
class IndicatorSet:
    values: dict = field(default_factory=dict)
    cases: dict = field(default_factory=dict)
    hospitals: dict = field(default_factory=dict)


def _ind(code, dim, computation, direction, source):
    return Indicator(code, dim, code, code, computation, direction, source, "index", D(100), "active", "f", "f")


# Two dimensions: X (60) with x1 = cmi (computed, higher); Y (40) with y1 = complaints_per_1000
# (entered as a count, lower is better).
CATALOGUE = Catalogue(
    (Dimension("X", "X", "X", D(60)), Dimension("Y", "Y", "Y", D(40))),
    (_ind("x1", "X", "cmi", "higher", "grouping"), _ind("y1", "Y", "complaints_per_1000", "lower", "entered")),
)


@pytest.fixture
def evaluation_inputs(monkeypatch, city):
    """All three hospitals level 2. cmi: a1 1.2, a2 0.8, b1 1.0; cases: a1 1000, a2 2000, b1 500;
    complaints entered: a1 2, a2 6, b1 3 (per 1000 cases: 2, 3, 6)."""
    tenant_of = {city.a1: city.a, city.a2: city.a, city.b1: city.b}
    cmi = {city.a1: D("1.2"), city.a2: D("0.8"), city.b1: D("1.0")}
    cases = {city.a1: 1000, city.a2: 2000, city.b1: 500}
    complaints = {city.a1: D(2), city.a2: D(6), city.b1: D(3)}
    calls = []

    async def compute_indicators(session, tenants, year):
        calls.append(tuple(tenants))
        hs = [h for h, t in tenant_of.items() if t in tenants]
        return IndicatorSet(
            {(h, "cmi"): Measure(cmi[h], cmi[h] * cases[h], D(cases[h])) for h in hs},
            {h: cases[h] for h in hs},
            {h: (tenant_of[h], 2) for h in hs},
        )

    async def entered_values(session, tenants, year):
        return {(h, "y1"): complaints[h] for h, t in tenant_of.items() if t in tenants}

    async def catalogue_in_force(session, year):
        return None, "test catalogue", CATALOGUE

    for name, fn in (
        ("indicators", compute_indicators),
        ("entries", entered_values),
        ("versions", catalogue_in_force),
    ):
        monkeypatch.setattr(importlib.import_module(f"dianshu.evaluation.{name}"), fn.__name__, fn)
    return calls


async def results(db, scope, tenant, run_id):
    async with scoped_session(db, scope) as s:
        rows = (
            await s.execute(
                select(EvaluationResult).where(EvaluationResult.tenant_id == tenant, EvaluationResult.run_id == run_id)
            )
        ).scalars()
        return {r.hospital_id: r for r in rows}


async def audits(db, tenant, action):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (
            await s.execute(
                text("select count(*) from audit_log where tenant_id = :t and action = :a"), {"t": tenant, "a": action}
            )
        ).scalar_one()


async def test_a_region_run_scores_its_hospitals_against_each_other(db, city, evaluation_inputs):
    """Region A alone (peer scope region): peers a1, a2.
    x1 cmi [0.8, 1.2]: P25 = 0.8 + 0.25 × 0.4 = 0.9, P75 = 1.1: a1 1.2 → 100, a2 0.8 → 60.
    y1 complaints per 1000: a1 2 × 1000 / 1000 = 2, a2 6 × 1000 / 2000 = 3: P25 2.25, P75 2.75,
    lower: a1 → 100, a2 → 60. Totals: a1 (60 × 100 + 40 × 100) / 100 = 100; a2 60.
    Bands: a1 none above (0/2) → Q1; a2 one above (1/2 = 0.5, not below 0.5) → Q3."""
    region = scope_for(Role.region_admin, (city.a,))
    result = await run_job(db, region, city.a, RUN, {"year": 2025})
    assert evaluation_inputs == [(city.a,)]
    assert len(result["runs"]) == 1 and result["runs"][0]["version"] == 1
    run_id = uuid.UUID(result["runs"][0]["id"])
    got = await results(db, region, city.a, run_id)
    assert {h: r.total for h, r in got.items()} == {city.a1: D("100.00"), city.a2: D("60.00")}
    assert {h: r.rank_band for h, r in got.items()} == {city.a1: "Q1", city.a2: "Q3"}
    assert {h: r.coefficient for h, r in got.items()} == {city.a1: 1, city.a2: 1}
    async with scoped_session(db, region) as s:
        run = (await s.execute(select(EvaluationRun).where(EvaluationRun.id == run_id))).scalar_one()
        assert (run.status, run.peer_scope, run.catalogue_label) == ("draft", "region", "test catalogue")
        assert run.inputs["policy"]["evaluation_peer_scope"] == "region"
        assert run.inputs["peer_tenants"] == [city.a]
        stats = {
            r.code: (r.n, r.p25, r.p75)
            for r in (await s.execute(select(EvaluationPeerStat).where(EvaluationPeerStat.run_id == run_id))).scalars()
        }
        assert stats == {"x1": (2, D("0.9000"), D("1.1000")), "y1": (2, D("2.2500"), D("2.7500"))}
        y1 = (
            await s.execute(
                select(EvaluationIndicatorScore).where(
                    EvaluationIndicatorScore.run_id == run_id,
                    EvaluationIndicatorScore.hospital_id == city.a2,
                    EvaluationIndicatorScore.code == "y1",
                )
            )
        ).scalar_one()
        assert (y1.value, y1.numerator, y1.denominator, y1.score) == (D("3.0000"), 6, 2000, D("60.00"))


async def test_publish_is_retry_safe_a_newer_version_retires_the_older_and_published_is_frozen(
    db, city, evaluation_inputs
):
    region = scope_for(Role.region_admin, (city.a,))
    first = uuid.UUID((await run_job(db, region, city.a, RUN, {"year": 2025}))["runs"][0]["id"])
    async with scoped_session(db, region) as s:
        run = await publish_run(s, region, city.a, first)
        assert run.status == "published" and run.published_by == region.actor
    async with scoped_session(db, region) as s:  # again: nothing written, nothing audited
        assert (await publish_run(s, region, city.a, first)).status == "published"
    assert await audits(db, city.a, "evaluation.published") == 1

    second = uuid.UUID((await run_job(db, region, city.a, RUN, {"year": 2025}))["runs"][0]["id"])
    async with scoped_session(db, region) as s:
        await publish_run(s, region, city.a, second)
    async with scoped_session(db, region) as s:
        status = dict(
            (
                await s.execute(select(EvaluationRun.version, EvaluationRun.status).where(EvaluationRun.year == 2025))
            ).all()
        )
    assert status == {1: "retired", 2: "published"}
    with pytest.raises(EvaluationRefused, match="retired"):
        async with scoped_session(db, region) as s:
            await publish_run(s, region, city.a, first)
    # A third version drafted: the second stays in force until it is published.
    await run_job(db, region, city.a, RUN, {"year": 2025})
    # Frozen: neither a published run nor its rows change.
    with pytest.raises(DBAPIError, match="published"):
        async with scoped_session(db, region) as s:
            await s.execute(update_summary(second))
    # Rows are never updated (the runtime role may only add them), and none is added to a published run.
    with pytest.raises(DBAPIError, match="permission denied"):
        async with scoped_session(db, region) as s:
            await s.execute(text("update evaluation_result set total = 99 where run_id = :r"), {"r": second})
    with pytest.raises(DBAPIError, match="immutable"):
        async with scoped_session(db, region) as s:
            await s.execute(
                text(
                    "insert into evaluation_peer_stat (tenant_id, run_id, level, code, n) values (:t, :r, 9, 'zz', 0)"
                ),
                {"t": city.a, "r": second},
            )
    with pytest.raises(EvaluationRefused) as e:
        async with scoped_session(db, region) as s:
            await publish_run(s, region, city.a, uuid.uuid4())
    assert e.value.kind == "not_found"


def update_summary(run_id):
    return text("update evaluation_run set summary = '{}'::jsonb where id = :r").bindparams(r=run_id)


async def test_a_city_scope_pools_every_region_and_writes_one_run_per_region(db, city, evaluation_inputs):
    """Peer scope city: peers a1, a2, b1 (one pool).
    x1 [0.8, 1.0, 1.2]: P25 h 0.5 → 0.9, P75 h 1.5 → 1.1: a1 → 100, a2 → 60, b1 1.0 → 60 + 40 × 0.1 / 0.2 = 80.
    y1 per 1000 [2, 3, 6] (b1: 3 × 1000 / 500 = 6): P25 h 0.5 → 2.5, P75 h 1.5 → 4.5, lower:
        a1 2 → 100; a2 3 → 60 + 40 × (4.5 − 3) / 2 = 90; b1 6 → 60.
    Totals: a1 100; a2 (60 × 60 + 40 × 90) / 100 = 72; b1 (60 × 80 + 40 × 60) / 100 = 72.
    Bands: a1 Q1; a2, b1 tie at 72 with one above (1/3) → Q2. Coefficient bands of region A
    (floors 0, 80: 0.95, 1.05): a1 1.05, a2 0.95; region B has none: b1 1."""
    admin = scope_for(Role.city_admin, city.tenants)
    for region in (city.a, city.b):
        params = {"evaluation_peer_scope": "city"}
        if region == city.a:
            params |= {"evaluation_coefficient_floors": ["0", "80"], "evaluation_coefficients": ["0.95", "1.05"]}
        async with scoped_session(db, admin) as s:
            await set_region_policy(s, admin, city.city, region, 2025, "all", params, "city peers")

    # A region cannot run a city-wide scoring: its scope does not hold the other regions.
    region_a = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region_a) as s:
        job, _ = await jobs.submit(s, db, region_a, city.a, RUN, {"year": 2025})
    assert await jobs.execute(db, city.a, job.id) == "failed"

    result = await run_job(db, admin, city.city, RUN, {"year": 2025})
    assert evaluation_inputs == [(city.a, city.b)]
    runs = {r["tenant"]: uuid.UUID(r["id"]) for r in result["runs"]}
    assert set(runs) == {city.a, city.b} and {r["peer_scope"] for r in result["runs"]} == {"city"}
    a = await results(db, admin, city.a, runs[city.a])
    b = await results(db, admin, city.b, runs[city.b])
    assert {h: r.total for h, r in {**a, **b}.items()} == {city.a1: 100, city.a2: 72, city.b1: 72}
    assert {h: r.rank_band for h, r in {**a, **b}.items()} == {city.a1: "Q1", city.a2: "Q2", city.b1: "Q2"}
    assert {h: r.coefficient for h, r in {**a, **b}.items()} == {city.a1: D("1.05"), city.a2: D("0.95"), city.b1: 1}
    assert {r.peers for r in (*a.values(), *b.values())} == {3}
    async with scoped_session(db, admin) as s:
        groups = set(
            (await s.execute(select(EvaluationRun.group_id).where(EvaluationRun.id.in_(list(runs.values()))))).scalars()
        )
        assert len(groups) == 1
        stat = (
            await s.execute(
                select(EvaluationPeerStat).where(
                    EvaluationPeerStat.run_id == runs[city.b], EvaluationPeerStat.code == "y1"
                )
            )
        ).scalar_one()
        assert (stat.n, stat.p25, stat.p75) == (3, D("2.5000"), D("4.5000"))


async def test_proven_fraud_caps_the_total(db, city, evaluation_inputs):
    """a1 scores 100 in region A (first test); a confirmed fraud on its case discharged in 2025 caps it at 59."""
    region = scope_for(Role.region_admin, (city.a,))
    await send(
        db,
        region,
        city.a,
        csv_bytes([row("F-1", city.a1, dscg_time="2025-03-06 10:00", adm_time="2025-03-01 09:00")]),
        "fraud",
    )
    async with scoped_session(db, region) as s:
        await regional.confirm_violation(s, region, city.a, city.a1, "F-1", "fraud", True, "forged records")
    result = await run_job(db, region, city.a, RUN, {"year": 2025})
    got = await results(db, region, city.a, uuid.UUID(result["runs"][0]["id"]))
    assert (got[city.a1].total, got[city.a1].capped, got[city.a1].exact_total) == (D("59.00"), True, 100)
    assert (got[city.a2].total, got[city.a2].capped) == (D("60.00"), False)
    # Another year's evaluation is not capped by it.
    result = await run_job(db, region, city.a, RUN, {"year": 2024})
    got = await results(db, region, city.a, uuid.UUID(result["runs"][0]["id"]))
    assert not got[city.a1].capped


async def test_a_hospital_sees_its_own_scores_and_its_peers_percentiles_only(db, city, evaluation_inputs):
    region = scope_for(Role.region_admin, (city.a,))
    run_id = uuid.UUID((await run_job(db, region, city.a, RUN, {"year": 2025}))["runs"][0]["id"])
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    assert set(await results(db, a1, city.a, run_id)) == {city.a1}
    async with scoped_session(db, a1) as s:
        hospitals = set((await s.execute(select(EvaluationIndicatorScore.hospital_id))).scalars())
        assert hospitals == {city.a1}
        assert (await s.execute(select(EvaluationPeerStat).where(EvaluationPeerStat.run_id == run_id))).scalars().all()
    other_region = scope_for(Role.region_admin, (city.b,))
    assert await results(db, other_region, city.a, run_id) == {}
    async with scoped_session(db, other_region) as s:
        assert (await s.execute(select(EvaluationRun).where(EvaluationRun.id == run_id))).first() is None
        assert (await s.execute(select(EvaluationPeerStat))).first() is None


async def test_parameters_are_checked_when_submitted(db, city):
    region = scope_for(Role.region_admin, (city.a,))
    for params in ({"year": "2025"}, {"year": 1900}, {"year": 2025, "extra": 1}):
        with pytest.raises(JobRejected):
            async with scoped_session(db, region) as s:
                await jobs.submit(s, db, region, city.a, RUN, params)


async def test_no_catalogue_in_force_fails_the_job_saying_so(db, city, evaluation_inputs, monkeypatch):
    from dianshu.errors import Refused
    from dianshu.jobs.models import Job

    async def none_in_force(session, year):
        raise Refused(f"evaluation catalogue {year}", "year", f"no evaluation catalogue is published for {year}")

    monkeypatch.setattr(sys.modules["dianshu.evaluation.versions"], "catalogue_in_force", none_in_force)
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        job, _ = await jobs.submit(s, db, region, city.a, RUN, {"year": 2025})
    assert await jobs.execute(db, city.a, job.id) == "failed"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        error = (await s.execute(select(Job.error).where(Job.id == job.id))).scalar_one()
    assert "no evaluation catalogue is published for 2025" in str(error)
