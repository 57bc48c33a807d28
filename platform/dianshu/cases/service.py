"""Submitting ingestion batches and recalling cases."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.ingest import INGEST, BatchRequest, IngestRefused, batch_hash, store_upload
from dianshu.cases.models import CaseRecord, IngestionBatch
from dianshu.db.session import Database, scoped_session
from dianshu.errors import RefusalKind, Refused
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.jobs.models import Job
from dianshu.scope import Scope
from dianshu.tabular import encoding as enc


@dataclass(frozen=True)
class Submitted:
    batch: IngestionBatch
    job: Job
    created: bool

    @property
    def encoding(self) -> str:
        """The encoding the file's text is read in (utf-8 or gb18030), chosen when it was stored."""
        return (self.job.params or {}).get("encoding", enc.UTF8)


class _Duplicate(Exception):
    def __init__(self, batch_id: uuid.UUID) -> None:
        self.batch_id = batch_id


def _check(req: BatchRequest) -> None:
    if not req.idempotency_key or len(req.idempotency_key) > 200:
        raise IngestRefused("idempotencyKey", "required, at most 200 characters")
    try:
        enc.canonical(req.encoding)
    except enc.EncodingRefused as e:
        raise IngestRefused(e.field, e.reason) from None
    if req.mode not in ("partial", "all_or_nothing"):
        raise IngestRefused("mode", f"must be partial or all_or_nothing (got {req.mode!r})")
    # Bounded by their columns (integer, NUMERIC(16, 2)): a client's mistake, never a database error.
    if req.control_rows is not None and not 0 <= req.control_rows <= 2**31 - 1:
        raise IngestRefused("controlRows", "must be a whole number from 0 to 2147483647")
    t = req.control_total
    if t is not None and (not t.is_finite() or t < 0 or t >= 10**14 or t != t.quantize(Decimal("0.01"))):
        raise IngestRefused(
            "controlTotal", "must be a non-negative amount below 100,000,000,000,000 with at most 2 decimals"
        )


async def submit_batch(
    db: Database, scope: Scope, req: BatchRequest, chunks: AsyncIterator[bytes] | Iterable[bytes]
) -> Submitted:
    """Store the file and create its batch and job in one transaction. The same key with the same
    file and options returns the earlier batch (the re-sent bytes are discarded), or retries it from
    them when it failed (_retry); with another file it is refused (IdempotencyConflict)."""
    _check(req)
    if not scope.sees_tenant(req.tenant_id):
        raise PermissionError(f"tenant {req.tenant_id} is outside your scope")
    hospital = scope.hospital_id
    try:
        async with scoped_session(db, scope) as s:
            declared = enc.canonical(req.encoding)
            upload, encoding = await store_upload(s, scope, req.tenant_id, req.filename, chunks, declared)
            digest = batch_hash(upload, req, encoding)
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
                        select(IngestionBatch)
                        .where(
                            IngestionBatch.tenant_id == req.tenant_id,
                            IngestionBatch.idempotency_key == req.idempotency_key,
                        )
                        .with_for_update()
                    )
                ).scalar_one()
                if existing.content_hash != digest:
                    raise IdempotencyConflict("ingestion batch", req.idempotency_key)
                # Only the sender's own scope reruns a failed batch (the job checks the rows against
                # that scope), from the bytes just sent: a final batch's own were deleted.
                if existing.status == "failed" and existing.hospital_id == hospital:
                    return await _retry(s, db, scope, existing, upload.id)
                raise _Duplicate(existing.id)  # rolls back the re-sent upload
            params = {"batch_id": str(batch_id), "encoding": encoding, "declared": declared is not None}
            job, _ = await jobs.submit(s, db, scope, req.tenant_id, INGEST, params, idempotency_key=f"batch:{batch_id}")
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
                encoding=encoding,
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


async def _retry(s: AsyncSession, db: Database, scope: Scope, batch: IngestionBatch, upload_id: uuid.UUID) -> Submitted:
    """A batch whose job failed for a system reason, sent again with the same key and file: a new
    job runs it from the upload just stored (the same bytes: the content hash matched), which the
    batch now points to; the failed sending's upload row stays, without its bytes. The key is
    derived from the failed job, so two senders retrying at once share one new job (the batch row
    is locked meanwhile: the second finds it pending and gets the same batch, its own bytes
    discarded). The new job reads the file in the encoding the failed one was given."""
    failed = (await s.execute(select(Job).where(Job.tenant_id == batch.tenant_id, Job.id == batch.job_id))).scalar_one()
    job, _ = await jobs.submit(
        s,
        db,
        scope,
        batch.tenant_id,
        INGEST,
        {**(failed.params or {}), "batch_id": str(batch.id)},
        idempotency_key=f"batch:{batch.id}:after:{batch.job_id}",
    )
    await s.execute(
        update(IngestionBatch)
        .where(IngestionBatch.tenant_id == batch.tenant_id, IngestionBatch.id == batch.id)
        .values(status="pending", reason=None, finished_at=None, job_id=job.id, upload_id=upload_id)
    )
    await audit.record(
        s,
        scope,
        batch.tenant_id,
        "cases.batch.retried",
        f"batch:{batch.id}",
        failed_job=str(batch.job_id),
        upload=str(upload_id),
    )
    await s.refresh(batch)
    return Submitted(batch, job, True)


class RecallRefused(Refused):
    """A recall refused: the record is the case, the field its list id, the message the reason."""

    def __init__(self, list_id: str, reason: str, kind: RefusalKind = "invalid", field: str = "listId") -> None:
        super().__init__(f"case {list_id}", field, reason, message=reason, kind=kind)


# Which published settlement run settled a discharge month (an object with kind, id and version), or
# None: settlement's rule, passed in by the caller (cases never import settlement).
SettledCheck = Callable[[AsyncSession, str, datetime.date], Awaitable[Any]]


async def recall_case(
    session: AsyncSession,
    scope: Scope,
    tenant_id: str,
    hospital_id: str,
    list_id: str,
    reason: str,
    *,
    settled: SettledCheck,
) -> CaseRecord:
    """召回: the current version leaves points and settlement and stays in history, unless `settled`
    names a published run that settled its discharge month. Recalling a recalled case again is a
    no-op (safe to retry). settlement.runs.publish.recall_case passes settlement's check."""
    if not reason.strip():
        raise RecallRefused(list_id, "reason: required", field="reason")
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
        raise RecallRefused(
            list_id, f"no accepted case {list_id} of hospital {hospital_id} in {tenant_id} (or not yours)", "not_found"
        )
    if case.status == "recalled":
        return case
    run = await settled(session, tenant_id, case.discharge_month)
    if run is not None:
        raise RecallRefused(
            list_id,
            f"case {list_id} of hospital {hospital_id} was discharged in {case.discharge_month:%Y-%m}, already settled "
            f"by the published {run.kind} run {run.id} (version {run.version}): it cannot be recalled",
            "state",
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
