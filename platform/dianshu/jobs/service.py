"""Submitting, running and sweeping jobs.

Submit: the job row is written in the caller's transaction; its message is sent only after that
transaction commits (`after_commit`), and `enqueued_at` records the send. A sweep re-sends jobs
whose send never happened (a crash between commit and send) and jobs whose worker died (stale
heartbeat). Run: under a per-job advisory lock, the handler's effect and the job's completion commit
in one transaction, so a redelivered message finds the job final and does nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.db.session import Database, after_commit, run_after_commit
from dianshu.jobs import events
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import IdempotencyConflict, JobBusy, JobRejected
from dianshu.jobs.kinds import JobKind
from dianshu.jobs.models import Job, JobStatus
from dianshu.jobs.registry import all_kinds, get_kind
from dianshu.logs import job_context
from dianshu.observability import metrics
from dianshu.scope import Role, Scope
from dianshu.tenancy.models import Tenant

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4

# Set by the composition root (API, worker, CLI): sends one job's message to the queue.
Dispatcher = Callable[[str, str, uuid.UUID], Awaitable[None] | None]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def params_hash(params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit(
    session: AsyncSession,
    db: Database,
    scope: Scope,
    tenant_id: str,
    kind: str,
    params: dict[str, Any],
    *,
    idempotency_key: str | None = None,
) -> tuple[Job, bool]:
    """Write a job row in `session`'s transaction; returns (job, created).

    The same idempotency key with the same parameters returns the existing job (created=False);
    with other parameters it raises IdempotencyConflict."""
    job_kind = get_kind(kind)  # unknown kinds fail here, not in a worker
    if not scope.sees_tenant(tenant_id):
        raise PermissionError(f"tenant {tenant_id} is outside the caller's scope")
    if job_kind.check is not None:
        await job_kind.check(session, tenant_id, params)  # JobRejected: refused now, not in the worker
    digest = params_hash(params)
    hospital = scope.hospital_id
    job_id = uuid.uuid4()
    stmt = (
        insert(Job)
        .values(
            tenant_id=tenant_id,
            id=job_id,
            kind=kind,
            params=params,
            params_hash=digest,
            idempotency_key=idempotency_key,
            hospital_id=hospital,
            created_by=scope.actor,
            created_role=scope.role.value,
            status=JobStatus.queued.value,
            progress_done=0,
            attempts=0,
        )
        .returning(Job.id)
    )
    if idempotency_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["tenant_id", "kind", "idempotency_key"])
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    if inserted is None:
        existing = (
            await session.execute(
                select(Job).where(Job.tenant_id == tenant_id, Job.kind == kind, Job.idempotency_key == idempotency_key)
            )
        ).scalar_one()
        if existing.params_hash != digest:
            raise IdempotencyConflict(kind, idempotency_key or "")
        return existing, False

    async def send() -> None:
        await dispatch(db, tenant_id, kind, job_id)

    after_commit(session, send)
    job = (await session.execute(select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id))).scalar_one()
    return job, True


async def dispatch(db: Database, tenant_id: str, kind: str, job_id: uuid.UUID) -> bool:
    """Send the job's message and record that it was sent. A send the broker refuses (down,
    restarting, unreachable) leaves the job in the outbox for the sweep and returns False: the job is
    committed, so the caller's request succeeded; raising here would answer it with an error."""
    if _dispatcher is None:
        log.warning("no job dispatcher configured; job %s stays in the outbox", job_id)
        return False
    try:
        sent = _dispatcher(tenant_id, kind, job_id)
        if sent is not None:
            await sent
    except Exception as e:
        log.warning("job %s (%s) stays in the outbox, the sweep sends it: the broker refused it: %r", job_id, kind, e)
        return False
    async with db.session(Scope.system((tenant_id,))) as s, s.begin():
        await s.execute(update(Job).where(Job.tenant_id == tenant_id, Job.id == job_id).values(enqueued_at=func.now()))
    return True


async def _job_scope(db: Database, job: Job) -> Scope:
    """The creator's scope: its tenant (and hospital); a city role's job on the city tenant also
    covers the city's regions, listed explicitly, as the city role's own requests do."""
    tenants = [job.tenant_id]
    if job.created_role in ("city_admin", "city_viewer"):
        async with db.session(None) as s:
            tenants += sorted(
                (await s.execute(select(Tenant.code).where(Tenant.parent_code == job.tenant_id))).scalars()
            )
    # A job without a hospital was created by a region-wide (or city) caller: it sees them all.
    return Scope(
        Role.system, tuple(tenants), job.hospital_id, actor=f"job:{job.id}", all_hospitals=job.hospital_id is None
    )


async def execute(db: Database, tenant_id: str, job_id: uuid.UUID, *, step_delay_s: float = 0.0) -> str:
    """Run one job to completion, idempotently. Returns what happened:
    'succeeded', 'failed' (permanent), 'already-final'. Transient errors are re-raised so the
    queue retries (until MAX_ATTEMPTS)."""
    if not tenant_id:
        raise JobRejected("a job message without a tenant is refused")
    system = Scope.system((tenant_id,), actor=f"job:{job_id}")
    async with db.session(system) as s, s.begin():
        peek = (await s.execute(select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id))).scalar_one_or_none()
    if peek is None:
        raise JobRejected(f"job {job_id} does not exist in tenant {tenant_id}")
    if JobStatus(peek.status).final:
        metrics.JOB_SKIPPED.labels(peek.kind, "final").inc()
        return "already-final"
    with job_context(job_id, peek.kind, tenant_id, peek.created_by):
        started = time.perf_counter()
        outcome = "retry"  # unless the attempt returns: it raised, and the queue retries it
        try:
            outcome = await _attempt(db, system, peek, step_delay_s)
            return outcome
        except JobBusy:
            outcome = "busy"  # a second delivery while the job runs elsewhere: the queue retries the message
            raise
        finally:
            _observe(peek.kind, outcome, time.perf_counter() - started)


def _observe(kind: str, outcome: str, seconds: float) -> None:
    if outcome in ("already-final", "busy"):
        metrics.JOB_SKIPPED.labels(kind, "final" if outcome == "already-final" else "busy").inc()
        return
    metrics.JOB_SECONDS.labels(kind, outcome).observe(seconds)
    if outcome == "failed":
        metrics.JOB_FAILURES.labels(kind).inc()
    elif outcome == "retry":
        metrics.JOB_RETRIES.labels(kind).inc()
    level = logging.INFO if outcome == "succeeded" else logging.WARNING
    log.log(level, "job %s", outcome, extra={"outcome": outcome, "duration_ms": round(seconds * 1000, 1)})


async def _attempt(db: Database, system: Scope, peek: Job, step_delay_s: float) -> str:
    tenant_id, job_id = peek.tenant_id, peek.id
    kind = get_kind(peek.kind)
    scope = await _job_scope(db, peek)

    session = db.session(scope)
    try:
        async with session.begin():
            lock_key = f"job:{tenant_id}:{job_id}"
            got = (
                await session.execute(
                    text("select pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": lock_key}
                )
            ).scalar_one()
            if not got:
                raise JobBusy(f"job {job_id} is running elsewhere")
            job = (await session.execute(select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id))).scalar_one()
            if JobStatus(job.status).final:
                return "already-final"
            if job.attempts >= MAX_ATTEMPTS:
                # Every attempt so far ended without a word (a failure is recorded, a worker that dies
                # records nothing): one that kills its worker (memory, a crash) must not loop for ever.
                raise JobRejected(
                    f"gave up after {job.attempts} attempts: the worker running this job stopped each time "
                    "before it finished (killed, out of memory, or cut off from the database)",
                    attempts=job.attempts,
                )
            await _mark_running(db, system, tenant_id, job_id)
            ctx = JobContext(
                db=db,
                session=session,
                scope=scope,
                tenant_id=tenant_id,
                job_id=job_id,
                kind=job.kind,
                params=dict(job.params),
                step_delay_s=step_delay_s,
            )
            result = await kind.handler(ctx)
            await _follow_ups(ctx, result)
            await session.execute(
                update(Job)
                .where(Job.tenant_id == tenant_id, Job.id == job_id)
                .values(
                    status=JobStatus.succeeded.value,
                    result=result,
                    error=None,
                    finished_at=func.clock_timestamp(),  # now() would be the transaction's start
                    heartbeat_at=func.clock_timestamp(),
                    message="done",
                )
            )
        for callback in ctx.committed:
            callback()
        # The follow-ups submitted in the job's transaction are sent now, not at the next sweep.
        await run_after_commit(session)
        return "succeeded"
    except JobBusy:
        raise
    except JobRejected as e:
        await _record_failure(db, system, tenant_id, job_id, str(e), e.details, final=True, kind=kind)
        return "failed"
    except Exception as e:
        final = await _attempts(db, system, tenant_id, job_id) >= MAX_ATTEMPTS
        await _record_failure(db, system, tenant_id, job_id, f"{type(e).__name__}: {e}", {}, final=final, kind=kind)
        log.warning("job attempt failed%s: %s: %s", "" if final else ", will retry", type(e).__name__, e)
        if final:
            return "failed"
        raise
    finally:
        await session.close()


async def _follow_ups(ctx: JobContext, result: dict[str, Any]) -> None:
    """Submit the kinds that follow this job's kind (JobKind.follows), in the job's transaction: they
    are sent when its effect commits, and a retried job submits nothing twice (the key is the job's
    and the parameters'). A hospital-bound job submits none: a follow-up reads its whole tenant."""
    await _submit_followers(
        ctx.session, ctx.db, ctx.scope, ctx.tenant_id, ctx.kind, ctx.params, result, f"after:{ctx.job_id}"
    )


async def follow_event(
    session: AsyncSession, scope: Scope, tenant_id: str, event: str, params: dict[str, Any], *, record: str
) -> int:
    """A domain change that is not a job (a settlement run published, a policy changed) happened in
    `session`'s transaction: submit the kinds that follow `event` (JobKind.follows names it) as a
    finished job's follow-ups are, in the same transaction (the outbox: sent once it commits), keyed
    by the event and its record (`record`: what changed, e.g. the run's id), so the same change
    submits nothing twice. Returns how many jobs were created. `session` must come from
    Database.session (it knows its database, to send after the commit)."""
    db = session.info.get("db")
    if db is None:
        raise RuntimeError(f"{event}: a session from Database.session is needed to submit its follow-ups")
    return await _submit_followers(session, db, scope, tenant_id, event, params, {}, f"after:{event}:{record}")


events.set_follower(follow_event)


async def _submit_followers(
    session: AsyncSession,
    db: Database,
    scope: Scope,
    tenant_id: str,
    source: str,
    params: dict[str, Any],
    result: dict[str, Any],
    key: str,
) -> int:
    if not scope.all_hospitals:
        return 0
    seen = _followed(session)
    created = 0
    for follower in sorted(all_kinds().values(), key=lambda k: k.name):
        if source not in follower.follows or follower.follow is None:
            continue
        for p in follower.follow(source, params, result):
            # Submitted already in this transaction (two runs published together, say): that job is
            # sent only once the transaction commits, so it reads both changes; one is enough.
            if (what := (follower.name, tenant_id, params_hash(p))) in seen:
                continue
            seen.add(what)
            _, new = await submit(
                session, db, scope, tenant_id, follower.name, p, idempotency_key=f"{key}:{params_hash(p)[:16]}"
            )
            created += new
    return created


def _followed(session: AsyncSession) -> set[tuple[str, str, str]]:
    """The follow-ups submitted in `session`'s current transaction (kind, tenant, parameters' hash)."""
    tx = session.get_transaction()
    held = session.info.get("followed")
    if held is None or held[0]() is not tx:
        held = (weakref.ref(tx) if tx is not None else (lambda: None), set())
        session.info["followed"] = held
    return held[1]


def worker_id() -> str:
    """This process as a job row names it: host and pid (a forked worker process has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


async def _mark_running(db: Database, scope: Scope, tenant_id: str, job_id: uuid.UUID) -> None:
    async with db.session(scope) as s, s.begin():
        await s.execute(
            update(Job)
            .where(Job.tenant_id == tenant_id, Job.id == job_id)
            .values(
                status=JobStatus.running.value,
                attempts=Job.attempts + 1,
                worker=worker_id(),
                started_at=func.now(),
                heartbeat_at=func.now(),
                message="running",
            )
        )


async def _attempts(db: Database, scope: Scope, tenant_id: str, job_id: uuid.UUID) -> int:
    async with db.session(scope) as s, s.begin():
        return (await s.execute(select(Job.attempts).where(Job.tenant_id == tenant_id, Job.id == job_id))).scalar_one()


async def _record_failure(
    db: Database,
    scope: Scope,
    tenant_id: str,
    job_id: uuid.UUID,
    message: str,
    details: dict[str, Any],
    *,
    final: bool,
    kind: JobKind | None = None,
) -> None:
    async with db.session(scope) as s, s.begin():
        if final and kind is not None and kind.on_failure is not None:
            params = (
                await s.execute(select(Job.params).where(Job.tenant_id == tenant_id, Job.id == job_id))
            ).scalar_one()
            await kind.on_failure(s, tenant_id, dict(params), message)
        await s.execute(
            update(Job)
            .where(Job.tenant_id == tenant_id, Job.id == job_id)
            .values(
                status=(JobStatus.failed if final else JobStatus.queued).value,
                error={"message": message, **details},
                message=("failed: " if final else "will retry: ") + message[:480],
                finished_at=func.now() if final else None,
            )
        )


async def outbox_backlog(db: Database) -> tuple[int, float]:
    """(jobs committed but never sent, the oldest one's age in seconds; 0 when none) over every
    tenant: what the sweep would re-send, read for the metrics."""
    async with db.session(None) as s:
        tenants = [t for (t,) in (await s.execute(select(Tenant.code))).all()]
    if not tenants:
        return 0, 0.0
    age = func.coalesce(func.extract("epoch", func.now() - func.min(Job.created_at)), 0)
    async with db.session(Scope.system(tenants, actor="metrics")) as s, s.begin():
        n, oldest = (
            await s.execute(
                select(func.count(), age).where(Job.status == JobStatus.queued.value, Job.enqueued_at.is_(None))
            )
        ).one()
    return int(n), float(oldest)


def why_resent(status: str, enqueued_at: object) -> str:
    """Why the sweep re-sends a job it selected: `orphaned`, running with a stale heartbeat (its
    worker died); `unsent`, queued and never sent (a crash or a refused send left it in the outbox);
    `lost`, queued and sent long ago but never started (the message went missing on the way), a
    job the sweep already re-sent and that still has not started included."""
    if status == JobStatus.running.value:
        return "orphaned"
    return "unsent" if enqueued_at is None else "lost"


async def sweep(db: Database, *, unsent_grace_s: int = 10, stale_after_s: int = 120, resend_after_s: int = 600) -> int:
    """Re-send jobs that were committed but never sent, jobs sent `resend_after_s` ago that never
    started (the message was lost on the way: a dropped connection, a broker restarted without its
    data), and running jobs whose heartbeat is stale (their worker died). Runs as the system role
    over every registered tenant: an explicit scope, not a bypass. Safe to run anywhere, any time:
    execution is idempotent (a duplicate message finds the job busy or final)."""
    async with db.session(None) as s:
        tenants = [t for (t,) in (await s.execute(select(Tenant.code))).all()]
    if not tenants:
        return 0
    now = func.now()
    async with db.session(Scope.system(tenants, actor="sweeper")) as s, s.begin():
        rows = (
            await s.execute(
                select(Job.tenant_id, Job.kind, Job.id, Job.status, Job.enqueued_at).where(
                    or_(
                        (Job.status == JobStatus.queued.value)
                        & or_(
                            Job.enqueued_at.is_(None),
                            # Re-sent by a sweep (or retried after a failure) that long ago.
                            Job.heartbeat_at < now - timedelta(seconds=stale_after_s),
                            # Sent by its submitter, never started: long enough for a queue's backlog.
                            Job.heartbeat_at.is_(None) & (Job.enqueued_at < now - timedelta(seconds=resend_after_s)),
                        )
                        & (Job.created_at < now - timedelta(seconds=unsent_grace_s)),
                        (Job.status == JobStatus.running.value)
                        & (Job.heartbeat_at < now - timedelta(seconds=stale_after_s)),
                    )
                )
            )
        ).all()
    for tenant_id, kind, job_id, status, enqueued_at in rows:
        reason = why_resent(status, enqueued_at)
        log.info("sweep: re-sending job %s (%s) of %s: %s", job_id, kind, tenant_id, reason)
        if await dispatch(db, tenant_id, kind, job_id):
            metrics.JOB_RESENT.labels(kind, reason).inc()
        # Bump the heartbeat so the next sweep waits a full period before sending again.
        async with db.session(Scope.system((tenant_id,))) as s, s.begin():
            await s.execute(
                update(Job).where(Job.tenant_id == tenant_id, Job.id == job_id).values(heartbeat_at=func.now())
            )
    return len(rows)
