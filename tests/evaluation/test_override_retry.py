"""overrideEvaluationScore is safe to retry: the same score and reason again write and audit nothing;
a changed reason is a change (audited)."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.settlement.runs import regional
from tests.conftest import scope_for


async def test_the_same_override_again_writes_and_audits_nothing(db, city):
    region = scope_for(Role.region_admin, (city.a,))

    async def audits():
        async with scoped_session(db, Scope.system((city.a,))) as s:
            return (await s.execute(select(func.count()).select_from(AuditEntry))).scalar()

    start = await audits()
    async with scoped_session(db, region) as s:
        row = await regional.override_evaluation_score(s, region, city.a, city.a2, 2025, "90", "appeal upheld")
        assert (row.score, row.source, row.reason) == (D("90.00"), "override", "appeal upheld")
    assert await audits() == start + 1
    async with scoped_session(db, region) as s:
        await regional.override_evaluation_score(s, region, city.a, city.a2, 2025, "90.00", "appeal upheld")
    assert await audits() == start + 1  # a retry: nothing written, nothing audited
    async with scoped_session(db, region) as s:
        row = await regional.override_evaluation_score(s, region, city.a, city.a2, 2025, "90", "appeal upheld (v2)")
        assert row.reason == "appeal upheld (v2)"
    assert await audits() == start + 2
