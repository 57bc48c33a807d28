"""Submitting ingestion batches and recalling cases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.ingest import INGEST, BatchRequest, IngestRefused, batch_hash, store_upload
from dianshu.cases.models import CaseRecord, IngestionBatch
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.jobs.models import Job
from dianshu.scope import Scope


@dataclass(frozen=True)
class Submitted:
    batch: IngestionBatch
    job: Job
    created: bool


class _Duplicate(Exception):
    def __init__(self, batch_id: uuid.UUID) -> None:
        self.batch_id = batch_id


def _check(req: BatchRequest) -> None:
    if not req.idempotency_key or len(req.idempotency_key) > 200:
        raise IngestRefused("idempotencyKey", "required, at most 200 characters")
    if req.mode not in ("partial", "all_or_nothing"):
        raise IngestRefused("mode", f"must be partial or all_or_nothing (got {req.mode!r})")
    if req.control_rows is not None and req.control_rows < 0:
        raise IngestRefused("controlRows", "must be ≥ 0")
    if req.control_total is not None and (
        req.control_total < 0 or req.control_total != req.control_total.quantize(req.control_total.__class__("0.01"))
    ):
        raise IngestRefused("controlTotal", "must be a non-negative amount with at most 2 decimals")


async def submit_batch(
    db: Database, scope: Scope, req: BatchRequest, chunks: AsyncIterator[bytes] | Iterable[bytes]
) -> Submitted:
    """Store the file and create its batch and job in one transaction. The same key with the same
    file and options returns the earlier batch (the re-sent bytes are discarded); with another file
    it is refused (IdempotencyConflict)."""
    _check(req)
    if not scope.sees_tenant(req.tenant_id):
        raise PermissionError(f"tenant {req.tenant_id} is outside your scope")
    hospital = scope.hospital_id
    try:
        async with scoped_session(db, scope) as s:
            upload = await store_upload(s, scope, req.tenant_id, req.filename, chunks)
            digest = batch_hash(upload, req)
            batch_id = uuid.uuid4()
            inserted = (
                await s.execute(
                    insert(IngestionBatch)
                    .values(
                        tenant_id=req.tenant_id,
                        id=batch_id,
                        hospital_id=hospital,
                        upload_id=upload.id,
                        idempotency_key=req.idempotency_key,
                        content_hash=digest,
                        mode=req.mode,
                        control_rows=req.control_rows,
                        control_total=req.control_total,
                        status="pending",
                        created_by=scope.actor,
                    )
                    .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
                    .returning(IngestionBatch.id)
                )
            ).scalar_one_or_none()
            if inserted is None:
                existing = (
                    await s.execute(
                        select(IngestionBatch).where(
                            IngestionBatch.tenant_id == req.tenant_id,
                            IngestionBatch.idempotency_key == req.idempotency_key,
                        )
                    )
                ).scalar_one()
                if existing.content_hash != digest:
                    raise IdempotencyConflict("ingestion batch", req.idempotency_key)
                raise _Duplicate(existing.id)  # rolls back the re-sent upload
            job, _ = await jobs.submit(
                s, db, scope, req.tenant_id, INGEST, {"batch_id": str(batch_id)}, idempotency_key=f"batch:{batch_id}"
            )
            await s.execute(
                update(IngestionBatch)
                .where(IngestionBatch.tenant_id == req.tenant_id, IngestionBatch.id == batch_id)
                .values(job_id=job.id)
            )
            await audit.record(
                s,
                scope,
                req.tenant_id,
                "cases.batch.submitted",
                f"batch:{batch_id}",
                file=req.filename,
                size=upload.size,
                mode=req.mode,
            )
            batch = (
                await s.execute(
                    select(IngestionBatch).where(
                        IngestionBatch.tenant_id == req.tenant_id, IngestionBatch.id == batch_id
                    )
                )
            ).scalar_one()
            return Submitted(batch, job, True)
    except _Duplicate as dup:
        async with scoped_session(db, scope) as s:
            batch = (
                await s.execute(
                    select(IngestionBatch).where(
                        IngestionBatch.tenant_id == req.tenant_id, IngestionBatch.id == dup.batch_id
                    )
                )
            ).scalar_one()
            job = (
                await s.execute(select(Job).where(Job.tenant_id == req.tenant_id, Job.id == batch.job_id))
            ).scalar_one()
            return Submitted(batch, job, False)


class RecallRefused(ValueError):
    pass


async def recall_case(
    session: AsyncSession, scope: Scope, tenant_id: str, hospital_id: str, list_id: str, reason: str
) -> CaseRecord:
    """召回: the current version leaves points and settlement and stays in history. Recalling a
    recalled case again is a no-op (safe to retry)."""
    if not reason.strip():
        raise RecallRefused("reason: required")
    case = (
        await session.execute(
            select(CaseRecord)
            .where(
                CaseRecord.tenant_id == tenant_id,
                CaseRecord.hospital_id == hospital_id,
                CaseRecord.list_id == list_id,
                CaseRecord.is_current,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if case is None:
        raise RecallRefused(f"no accepted case {list_id} of hospital {hospital_id} in {tenant_id} (or not yours)")
    if case.status == "recalled":
        return case
    from dianshu.settlement.runs import month_settled  # settlement reads cases: imported here, not at the top

    settled = await month_settled(session, tenant_id, case.discharge_month)
    if settled is not None:
        raise RecallRefused(
            f"case {list_id} of hospital {hospital_id} was discharged in {case.discharge_month:%Y-%m}, already settled "
            f"by the published {settled.kind} run {settled.id} (version {settled.version}): it cannot be recalled"
        )
    await session.execute(
        update(CaseRecord)
        .where(CaseRecord.tenant_id == tenant_id, CaseRecord.id == case.id)
        .values(status="recalled", recalled_at=_now(), recall_reason=reason[:500])
    )
    await audit.record(
        session,
        scope,
        tenant_id,
        "cases.recalled",
        f"case:{hospital_id}/{list_id}",
        hospital_id=hospital_id,
        version=case.version,
        reason=reason[:500],
    )
    await session.refresh(case)
    return case


def _now():
    from sqlalchemy import func

    return func.now()
