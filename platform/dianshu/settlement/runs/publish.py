"""Publishing a settlement run: a draft becomes final (frozen by a database trigger), and the months it
settles are closed: their cases can no longer be recalled (recall_case here is the cases' recall with
that check). Publishing announces PUBLISHED (jobs.events): the jobs that follow it (the analytics
refresh of a cleared year) are submitted in the same transaction."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases import service as cases
from dianshu.cases.models import CaseRecord
from dianshu.errors import Refused
from dianshu.jobs.events import occurred
from dianshu.scope import Scope
from dianshu.settlement.events import PUBLISHED
from dianshu.settlement.models import PointsRun, SettlementRun


class RunRefused(Refused):
    """A run that cannot be published (record: the run; message: field and reason)."""


async def publish_run(session: AsyncSession, scope: Scope, tenant: str, run_id: uuid.UUID) -> SettlementRun:
    """Publish a draft run: it is then frozen (a database trigger refuses any change). Publishing a
    published run again is a no-op; only the newest version of a period may be published, and a
    period is published once."""
    run = (
        await session.execute(
            select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id).with_for_update()
        )
    ).scalar_one_or_none()
    if run is None:
        raise RunRefused(f"run {run_id}", "run", f"no settlement run {run_id} in {tenant}", kind="not_found")
    if run.status == "published":
        return run
    # Read after the lock above: a prune locks this run too before it deletes (runs/prune.py).
    pruned_at = (
        await session.execute(
            select(PointsRun.pruned_at).where(PointsRun.tenant_id == tenant, PointsRun.id == run.points_run_id)
        )
    ).scalar_one()
    if pruned_at is not None:
        raise RunRefused(
            f"run {run_id}",
            "run",
            f"its points run {run.points_run_id} was superseded and its case points pruned: settle again",
            kind="state",
        )
    newest = (
        await session.execute(
            select(func.max(SettlementRun.version)).where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.kind == run.kind,
                SettlementRun.year == run.year,
                SettlementRun.month == run.month,
                SettlementRun.ledger == run.ledger,
            )
        )
    ).scalar_one()
    if run.version != newest:
        raise RunRefused(
            f"run {run_id}",
            "run",
            f"version {run.version} is not the newest ({newest}): publish the newest re-run",
            kind="state",
        )
    published = (
        await session.execute(
            select(SettlementRun.id).where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.kind == run.kind,
                SettlementRun.year == run.year,
                SettlementRun.month == run.month,
                SettlementRun.ledger == run.ledger,
                SettlementRun.status == "published",
            )
        )
    ).first()
    if published is not None:
        # A published period's money is final: corrections flow into the next month's year-to-date
        # run (and the year's clearing); publishing a second version would pay the month twice.
        what = f"the {run.year} clearing" if run.kind == "annual" else f"{run.year}-{run.month:02d}"
        raise RunRefused(
            f"run {run_id}", "run", f"{what} of {run.ledger} is already published ({published[0]})", kind="state"
        )
    await session.execute(
        update(SettlementRun)
        .where(SettlementRun.tenant_id == tenant, SettlementRun.id == run_id)
        .values(status="published", published_by=scope.actor, published_at=func.now())
    )
    await audit.record(
        session, scope, tenant, PUBLISHED, f"settlement_run:{run_id}", kind=run.kind, version=run.version
    )
    event = {"kind": run.kind, "year": run.year, "month": run.month, "ledger": run.ledger}
    await occurred(session, scope, tenant, PUBLISHED, event, record=str(run_id))
    await session.refresh(run)
    return run


async def month_settled(session: AsyncSession, tenant: str, month: datetime.date) -> SettlementRun | None:
    """The published run that settled `month` (a monthly run of that month or later in the year,
    or the year's clearing), if any: cases of a settled month cannot be recalled."""
    return (
        await session.execute(
            select(SettlementRun)
            .where(
                SettlementRun.tenant_id == tenant,
                SettlementRun.status == "published",
                SettlementRun.year == month.year,
                SettlementRun.month >= month.month,
            )
            .limit(1)
        )
    ).scalar_one_or_none()


async def recall_case(
    session: AsyncSession, scope: Scope, tenant_id: str, hospital_id: str, list_id: str, reason: str
) -> CaseRecord:
    """召回 a case (cases.service.recall_case), refused when a published run settled its discharge
    month (month_settled): the recall every caller uses."""
    return await cases.recall_case(session, scope, tenant_id, hospital_id, list_id, reason, settled=month_settled)
