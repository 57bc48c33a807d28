"""Jobs: idempotent submission, the after-commit outbox, idempotent execution, retries, sweep."""

from __future__ import annotations

import os
import socket
import uuid

import pytest
from sqlalchemy import func, select, text, update

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict, JobRejected
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from tests.conftest import scope_for


def roster(tenant: str) -> list[dict]:
    return [
        {"id": f"H{tenant}00091", "name": "J one", "level": 1, "type": "general"},
        {"id": f"H{tenant}00092", "name": "J two", "level": 3, "type": "tcm", "coefficient": "1.0500"},
    ]


async def submit(db, scope, tenant, params, key=None):
    async with scoped_session(db, scope) as s:
        job, created = await jobs.submit(s, db, scope, tenant, IMPORT_HOSPITALS, params, idempotency_key=key)
    return job, created


async def job_row(db, tenant, job_id) -> Job:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()


async def test_same_key_same_content_is_the_same_job_other_content_is_refused(db, city, dispatcher):
    scope = scope_for(Role.region_admin, (city.a,))
    first, created1 = await submit(db, scope, city.a, {"hospitals": roster(city.a)}, key="k1")
    again, created2 = await submit(db, scope, city.a, {"hospitals": roster(city.a)}, key="k1")
    assert created1 and not created2 and first.id == again.id
    assert len(dispatcher.sent) == 1, "a repeated request sends nothing"
    with pytest.raises(IdempotencyConflict, match="k1"):
        await submit(db, scope, city.a, {"hospitals": roster(city.a)[:1]}, key="k1")
    # The key is per tenant: region B may use the same key.
    _, created_b = await submit(db, scope_for(Role.region_admin, (city.b,)), city.b, {"hospitals": []}, key="k1")
    assert created_b


async def test_message_is_sent_only_after_commit(db, city, dispatcher):
    scope = scope_for(Role.region_admin, (city.a,))
    with pytest.raises(RuntimeError, match="caller failed"):
        async with scoped_session(db, scope) as s:
            await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster(city.a)})
            assert dispatcher.sent == []  # not before commit
            raise RuntimeError("caller failed")
    assert dispatcher.sent == []
    async with scoped_session(db, Scope.system((city.a,))) as s:
        assert (await s.execute(select(func.count()).select_from(Job))).scalar() == 0
    job, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)})
    assert dispatcher.sent == [(city.a, IMPORT_HOSPITALS, job.id)]
    assert (await job_row(db, city.a, job.id)).enqueued_at is not None


async def test_execute_commits_effect_with_completion_and_is_idempotent(db, city, dispatcher):
    job, _ = await submit(db, scope_for(Role.region_admin, (city.a,)), city.a, {"hospitals": roster(city.a)})
    assert await jobs.execute(db, city.a, job.id) == "succeeded"
    row = await job_row(db, city.a, job.id)
    assert row.status == "succeeded" and row.attempts == 1
    assert row.result == {"rows": 2, "inserted": 2, "updated": 0, "unchanged": 0}
    assert (row.progress_done, row.progress_total) == (2, 2)
    # A redelivered message does nothing.
    assert await jobs.execute(db, city.a, job.id) == "already-final"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        audits = (
            await s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.target == f"job:{job.id}"))
        ).scalar()
        coef = (await s.execute(select(Hospital.coefficient).where(Hospital.id == f"H{city.a}00092"))).scalar()
    assert audits == 1
    assert str(coef) == "1.0500"
    # Re-importing the same roster through a new job changes nothing.
    job2, _ = await submit(db, scope_for(Role.region_admin, (city.a,)), city.a, {"hospitals": roster(city.a)})
    await jobs.execute(db, city.a, job2.id)
    assert (await job_row(db, city.a, job2.id)).result == {"rows": 2, "inserted": 0, "updated": 0, "unchanged": 2}


async def test_invalid_input_fails_permanently_with_field_errors(db, city, dispatcher):
    hb1 = f"H{city.a}00081"
    bad = [
        {"id": hb1, "name": "", "level": 4, "type": "general"},
        {"id": hb1, "name": "x", "level": 1, "type": "x"},
    ]
    job, _ = await submit(db, scope_for(Role.region_admin, (city.a,)), city.a, {"hospitals": bad})
    assert await jobs.execute(db, city.a, job.id) == "failed"
    row = await job_row(db, city.a, job.id)
    assert row.status == "failed" and row.attempts == 1
    errors = {(e["record"], e["field"]) for e in row.error["errors"]}
    assert errors == {
        (f"hospital #1 ({hb1})", "name"),
        (f"hospital #1 ({hb1})", "level"),
        (f"hospital #2 ({hb1})", "code"),
        (f"hospital #2 ({hb1})", "type"),
    }
    async with scoped_session(db, Scope.system((city.a,))) as s:
        assert (await s.execute(select(func.count()).select_from(Hospital).where(Hospital.id == hb1))).scalar() == 0


async def test_transient_errors_roll_back_and_retry_until_the_limit(db, city, dispatcher, monkeypatch):
    from dianshu.tenancy import jobs as tenancy_jobs

    calls = {"n": 0}
    real = tenancy_jobs.upsert_hospitals

    async def flaky(session, rows):
        calls["n"] += 1
        await real(session, rows)  # the write happens, then the job dies: it must roll back
        raise ConnectionError("database went away")

    monkeypatch.setattr(tenancy_jobs, "upsert_hospitals", flaky)
    job, _ = await submit(db, scope_for(Role.region_admin, (city.a,)), city.a, {"hospitals": roster(city.a)})
    for attempt in range(1, jobs.MAX_ATTEMPTS):
        with pytest.raises(ConnectionError):
            await jobs.execute(db, city.a, job.id)
        row = await job_row(db, city.a, job.id)
        assert (row.status, row.attempts) == ("queued", attempt)
        assert "database went away" in row.error["message"]
    assert await jobs.execute(db, city.a, job.id) == "failed"
    assert (await job_row(db, city.a, job.id)).attempts == jobs.MAX_ATTEMPTS
    async with scoped_session(db, Scope.system((city.a,))) as s:
        codes = [h["id"] for h in roster(city.a)]
        assert (await s.execute(select(func.count()).select_from(Hospital).where(Hospital.id.in_(codes)))).scalar() == 0
    # After the fault is gone, a new job does the work once.
    monkeypatch.setattr(tenancy_jobs, "upsert_hospitals", real)
    job2, _ = await submit(db, scope_for(Role.region_admin, (city.a,)), city.a, {"hospitals": roster(city.a)})
    assert await jobs.execute(db, city.a, job2.id) == "succeeded"


async def test_a_job_without_a_tenant_or_unknown_is_refused(db, city):
    with pytest.raises(JobRejected, match="without a tenant"):
        await jobs.execute(db, "", uuid.uuid4())
    with pytest.raises(JobRejected, match="does not exist"):
        await jobs.execute(db, city.a, uuid.uuid4())


async def test_hospital_job_runs_under_the_hospital_scope(db, city, dispatcher):
    """A job carries its creator's scope: a hospital user's job sees only that hospital's rows."""
    seen = {}

    from dianshu.jobs.kinds import job_kind

    @job_kind("test.count_hospitals", roles={"hospital_user"})
    async def count(ctx):
        seen["n"] = (await ctx.session.execute(text("select count(*) from hospital"))).scalar()
        return {}

    scope = scope_for(Role.hospital_user, (city.a,), city.a1)
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, "test.count_hospitals", {})
    assert job.hospital_id == city.a1
    assert await jobs.execute(db, city.a, job.id) == "succeeded"
    assert seen["n"] == 1


async def test_sweep_resends_unsent_and_stale_jobs(db, city, dispatcher):
    scope = scope_for(Role.region_admin, (city.a,))
    jobs.set_dispatcher(None)  # simulate a crash between commit and send
    unsent, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)})
    stale, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)[:1]})
    fresh, _ = await submit(db, scope, city.a, {"hospitals": []})
    jobs.set_dispatcher(dispatcher)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(
            update(Job)
            .where(Job.id.in_([unsent.id, stale.id]))
            .values(created_at=func.now() - text("interval '1 hour'"))
        )
        await s.execute(
            update(Job)
            .where(Job.id == stale.id)
            .values(status="running", enqueued_at=func.now(), heartbeat_at=func.now() - text("interval '1 hour'"))
        )
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120)
    sent = {j for t, _, j in dispatcher.sent if t == city.a}
    assert unsent.id in sent and stale.id in sent
    assert fresh.id not in sent  # inside its grace period: the normal path may still send it
    assert (await job_row(db, city.a, unsent.id)).enqueued_at is not None
    # A second sweep right away re-sends nothing of these.
    dispatcher.sent.clear()
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120)
    assert not {j for t, _, j in dispatcher.sent if t == city.a} & {unsent.id, stale.id}


async def test_a_send_the_broker_refuses_leaves_the_job_committed_in_the_outbox(db, city):
    """The broker down at commit: the submitter hears no error (its job is committed), the job has
    no enqueued_at, and the sweep sends it once the broker is back."""
    scope = scope_for(Role.region_admin, (city.a,))
    tries: list[uuid.UUID] = []

    def down(tenant_id, kind, job_id):
        tries.append(job_id)
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    jobs.set_dispatcher(down)
    try:
        job, created = await submit(db, scope, city.a, {"hospitals": roster(city.a)})
    finally:
        jobs.set_dispatcher(None)
    assert created and tries == [job.id]
    assert (await job_row(db, city.a, job.id)).enqueued_at is None
    sent: list[uuid.UUID] = []
    jobs.set_dispatcher(lambda t, k, j: sent.append(j))
    try:
        await jobs.sweep(db, unsent_grace_s=0, stale_after_s=120)
    finally:
        jobs.set_dispatcher(None)
    assert job.id in sent and (await job_row(db, city.a, job.id)).enqueued_at is not None


async def test_sweep_resends_a_queued_job_whose_message_was_lost(db, city, dispatcher):
    """Sent (enqueued_at set) but never started, long after: the message was lost on the way (a
    dropped connection, a broker restarted without its data): the sweep sends it again, once a period."""
    scope = scope_for(Role.region_admin, (city.a,))
    lost, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)})
    waiting, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)[:1]})
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(
            update(Job)
            .where(Job.id.in_([lost.id, waiting.id]))
            .values(created_at=func.now() - text("interval '1 hour'"))
        )
        await s.execute(
            update(Job).where(Job.id == lost.id).values(enqueued_at=func.now() - text("interval '3 minutes'"))
        )
    dispatcher.sent.clear()
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120, resend_after_s=120)
    sent = [j for t, _, j in dispatcher.sent if t == city.a]
    assert lost.id in sent and waiting.id not in sent  # sent a moment ago: still on its way
    dispatcher.sent.clear()
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120, resend_after_s=120)
    assert lost.id not in [j for t, _, j in dispatcher.sent if t == city.a]  # not again within the period


async def test_a_job_whose_worker_died_at_every_attempt_fails_clearly(db, city, dispatcher):
    """Each attempt ended without a word (its worker killed: the job row still says running): past
    MAX_ATTEMPTS the next delivery fails the job, naming why, instead of running it for ever."""
    scope = scope_for(Role.region_admin, (city.a,))
    job, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)})
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(update(Job).where(Job.id == job.id).values(status="running", attempts=jobs.MAX_ATTEMPTS))
    assert await jobs.execute(db, city.a, job.id) == "failed"
    row = await job_row(db, city.a, job.id)
    assert (row.status, row.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert row.error["message"].startswith(f"gave up after {jobs.MAX_ATTEMPTS} attempts: the worker running this job")
    assert row.error["attempts"] == jobs.MAX_ATTEMPTS and row.finished_at is not None
    async with scoped_session(db, Scope.system((city.a,))) as s:
        codes = [h["id"] for h in roster(city.a)]
        assert (await s.execute(select(func.count()).select_from(Hospital).where(Hospital.id.in_(codes)))).scalar() == 0
    # One attempt short of the limit still runs.
    again, _ = await submit(db, scope, city.a, {"hospitals": roster(city.a)[:1]})
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(update(Job).where(Job.id == again.id).values(status="running", attempts=jobs.MAX_ATTEMPTS - 1))
    assert await jobs.execute(db, city.a, again.id) == "succeeded"
    done = await job_row(db, city.a, again.id)
    assert done.attempts == jobs.MAX_ATTEMPTS
    assert done.worker == jobs.worker_id() == f"{socket.gethostname()}:{os.getpid()}"  # who ran the last attempt


async def test_a_job_finishes_after_it_starts(db, city, dispatcher):
    """Completion is stamped with the clock, not with now() (the job transaction's start)."""
    import asyncio

    from dianshu.jobs.kinds import job_kind

    @job_kind("test.slow", roles={"region_admin"})
    async def slow(ctx):
        await asyncio.sleep(0.3)
        return {}

    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, "test.slow", {})
    await jobs.execute(db, city.a, job.id)
    row = await job_row(db, city.a, job.id)
    assert (row.finished_at - row.started_at).total_seconds() >= 0.25
