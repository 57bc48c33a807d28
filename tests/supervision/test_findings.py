"""Supervision findings in the database: the rules on hand-made stays, re-runs that find the same
findings (never twice) and flag what no longer matches, decisions with who/when/why, and a confirmed
split admission changing the next points run exactly as SPEC section 5 says."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, text

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.settlement.models import CasePoint, CaseViolation
from dianshu.settlement.runs import budgets, policies
from dianshu.settlement.runs.points import POINTS
from dianshu.supervision import service
from tests.cases.rows import csv_bytes
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.settlement.world import load_year, publish_standard, run_job, stay, year_rows
from tests.supervision.helpers import findings, supervise
from tests.test_standards_db import builtin_versions  # noqa: F401


def split_rows(city):
    """The world's year plus patient PX at hospital a1: S-1 (admitted 3-05, discharged 3-10) and S-2
    (admitted 3-12, discharged 3-17): the same pneumonia DRG two days after discharge, not planned."""
    return [
        *year_rows(city),
        stay("S-1", city.a1, 8000, 3, patient="PX", day=10),
        stay("S-2", city.a1, 8000, 3, patient="PX", day=17),
    ]


@pytest.fixture
async def split_year(db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    await publish_standard(db, city, zj)
    region = await load_year(db, city, zj, split_rows(city))
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "employee", {"provisional_point_value": "100"}, "t"
        )
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    return region


async def points_of(db, city, run_id):
    async with scoped_session(db, Scope.system((city.a,))) as s:
        rows = (await s.execute(select(CasePoint).where(CasePoint.run_id == uuid.UUID(run_id)))).scalars()
        return {r.list_id: (r.points, r.deduction) for r in rows}


async def test_a_confirmed_split_admission_withdraws_the_points_and_deducts_multiple_times_b(db, city, split_year):
    region = split_year
    result = await supervise(db, region, city.a)
    assert result["rules"]["split_admission"] == {"found": 1, "new": 1, "stale": 0}
    ((f, cases),) = await findings(db, (city.a,), "split_admission")
    # Gap: admitted 3-12 − discharged 3-10 = 2 days; within 15 days to the same DRG, and a 1–2-day gap.
    assert (f.hospital_id, f.figure, f.unit, f.state, cases) == (city.a1, D(2), "days", "open", ["S-1", "S-2"])
    assert f.evidence["variant"] == "same_group_short_gap" and f.evidence["readmission"] == "S-2"

    before = await points_of(db, city, (await run_job(db, region, city.a, POINTS, {"year": 2025}))["points_run"])
    # ES23: b = 100 points, coefficient 1, ratio 1: S-2 is a normal case of 100 points, no deduction.
    assert before["S-2"] == (D(100), D(0))

    async with scoped_session(db, region) as s:
        decided = await service.decide(s, region, f.id, "confirmed", "audit 2025-07: one stay split in two", True)
    assert (decided.state, decided.serious, decided.decided_by) == ("confirmed", True, region.actor)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        v = (await s.execute(select(CaseViolation).where(CaseViolation.list_id == "S-2"))).scalar_one()
    assert (v.kind, v.serious, v.hospital_id) == ("split_admission", True, city.a1)

    after = await points_of(db, city, (await run_job(db, region, city.a, POINTS, {"year": 2025}))["points_run"])
    # SPEC section 5: a confirmed split admission is not counted (0 points) and, serious, deducts
    # multiple × b = 1 × 100 = 100 points. a1's total (points − deductions) moves by 100 + 100 = 200.
    assert after["S-2"] == (D(0), D(100))
    assert {k: v for k, v in after.items() if k != "S-2"} == {k: v for k, v in before.items() if k != "S-2"}

    def total(p):
        return sum(pts - ded for k, (pts, ded) in p.items() if k.startswith(("A-1", "A-2", "A-3", "S-")))

    assert total(before) - total(after) == D(200)


async def test_decisions_are_retry_safe_need_a_reason_and_conflict_typed(db, city, split_year):
    region = split_year
    await supervise(db, region, city.a)
    ((f, _),) = await findings(db, (city.a,), "split_admission")
    async with scoped_session(db, region) as s:
        with pytest.raises(service.FindingRefused) as e:
            await service.decide(s, region, f.id, "dismissed", "  ")
        assert (e.value.field, e.value.kind) == ("reason", "invalid")
    async with scoped_session(db, region) as s:
        await service.decide(s, region, f.id, "dismissed", "a planned second stay, flag missing")

    async def audits():
        async with scoped_session(db, Scope.system((city.a,))) as s:
            return (
                await s.execute(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.target == f"finding:{f.id}")
                )
            ).scalar()

    assert await audits() == 1
    async with scoped_session(db, region) as s:
        again = await service.decide(s, region, f.id, "dismissed", "said twice")
    assert (again.state, again.reason) == ("dismissed", "a planned second stay, flag missing")
    assert await audits() == 1
    async with scoped_session(db, region) as s:
        with pytest.raises(service.FindingRefused) as e:
            await service.decide(s, region, f.id, "confirmed", "changed my mind", True)
        assert (e.value.field, e.value.kind) == ("state", "state")
    # Another region cannot see it to decide it.
    other = scope_for(Role.region_admin, (city.b,))
    async with scoped_session(db, other) as s:
        with pytest.raises(service.FindingRefused) as e:
            await service.decide(s, other, f.id, "confirmed", "x")
        assert e.value.kind == "not_found"


async def test_a_rerun_finds_the_same_findings_and_flags_what_no_longer_matches(db, city, split_year):
    region = split_year
    first = await supervise(db, region, city.a)
    again = await supervise(db, region, city.a)
    assert again["findings"] == first["findings"] and again["new"] == 0 and again["stale"] == 0
    ((f, _),) = await findings(db, (city.a,), "split_admission")
    async with scoped_session(db, region) as s:
        await service.decide(s, region, f.id, "dismissed", "checked: two illnesses")
    # S-2 corrected: admitted a month later (4-12 to 4-17): no split admission any more.
    fixed = stay("S-2", city.a1, 8000, 4, patient="PX", day=17)
    fixed["correction"] = "1"
    _, _, _, batch = await send(db, region, city.a, csv_bytes([fixed]), f"fix-{uuid.uuid4()}")
    # Re-run for what the correction touched: its new month (April) and its old version's (March).
    result = await supervise(db, region, city.a, batch=str(batch.id), version=str(await _zj(db)))
    assert result["months"] == [3, 4] and result["rules"]["split_admission"]["stale"] == 1
    ((g, cases),) = await findings(db, (city.a,), "split_admission")
    assert (g.id, g.state, g.stale, cases) == (f.id, "dismissed", True, ["S-1", "S-2"])


async def _zj(db):
    async with scoped_session(db, Scope.system(())) as s:
        return (
            await s.execute(
                text(
                    "select id from drg_scheme_version where scheme_code = 'zhejiang_2022' and status = 'published' "
                    "order by effective_from desc limit 1"
                )
            )
        ).scalar_one()


async def test_confirming_again_writes_and_audits_nothing(db, city, split_year):
    region = split_year
    await supervise(db, region, city.a)
    ((f, _),) = await findings(db, (city.a,), "split_admission")

    async def counts():
        async with scoped_session(db, Scope.system((city.a,))) as s:
            audits = (await s.execute(select(func.count()).select_from(AuditEntry))).scalar()
            violations = (await s.execute(select(func.count()).select_from(CaseViolation))).scalar()
            return audits, violations

    async with scoped_session(db, region) as s:
        await service.decide(s, region, f.id, "confirmed", "audit 2025-07: one stay split in two", True)
    once = await counts()
    assert once[1] == 1  # the readmission's violation
    # The same confirmation again (a retried request): nothing written, nothing audited.
    async with scoped_session(db, region) as s:
        again = await service.decide(s, region, f.id, "confirmed", "audit 2025-07: one stay split in two", True)
    assert (again.state, again.serious) == ("confirmed", True)
    assert await counts() == once


async def test_serious_is_refused_for_a_rule_that_confirms_no_violation(db, city, split_year):
    """A hospital-level rule without a violation kind (cost per case above the level's) writes no
    case violation, so there is nothing to deduct: confirming it as serious is refused on `serious`;
    confirming it plainly works."""
    region = split_year
    await supervise(db, region, city.a)
    ((f, _),) = await findings(db, (city.a,), "split_admission")
    hospital_level = uuid.uuid4()
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(
            text("""
            insert into supervision_finding (tenant_id, id, hospital_id, rule, level, year, month, fingerprint,
                patient_id, severity, state, stale, figure, threshold, peer_value, unit, evidence, last_seen_run)
            select tenant_id, :id, hospital_id, 'high_cost', 'hospital', year, month, md5(fingerprint),
                   null, severity, 'open', false, figure, threshold, peer_value, unit, evidence, last_seen_run
            from supervision_finding where id = :f"""),
            {"id": hospital_level, "f": f.id},
        )
    async with scoped_session(db, region) as s:
        with pytest.raises(service.FindingRefused) as e:
            await service.decide(s, region, hospital_level, "confirmed", "the hospital's cost per case", True)
        assert (e.value.field, e.value.kind) == ("serious", "invalid")
    async with scoped_session(db, region) as s:
        done = await service.decide(s, region, hospital_level, "confirmed", "the hospital's cost per case")
    assert (done.state, done.serious) == ("confirmed", False)
