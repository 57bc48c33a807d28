"""Shared steps of the supervision tests: run the rules as the real job, read findings."""

from __future__ import annotations

from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.scope import Scope
from dianshu.supervision.models import SupervisionFinding, SupervisionFindingCase
from dianshu.supervision.run import SUPERVISION_RUN
from tests.settlement.world import run_job


async def supervise(db, scope, tenant, year=2025, **params):
    return await run_job(db, scope, tenant, SUPERVISION_RUN, {"year": year, **params})


async def findings(db, tenants, rule=None):
    """(finding, sorted list ids) of every finding of `tenants`, by rule and hospital."""
    async with scoped_session(db, Scope.system(tuple(tenants))) as s:
        q = select(SupervisionFinding).order_by(SupervisionFinding.rule, SupervisionFinding.hospital_id)
        if rule:
            q = q.where(SupervisionFinding.rule == rule)
        out = []
        for f in (await s.execute(q)).scalars():
            cases = (
                await s.execute(
                    select(SupervisionFindingCase.list_id)
                    .where(SupervisionFindingCase.tenant_id == f.tenant_id, SupervisionFindingCase.finding_id == f.id)
                    .order_by(SupervisionFindingCase.list_id)
                )
            ).scalars()
            out.append((f, list(cases)))
        return out
