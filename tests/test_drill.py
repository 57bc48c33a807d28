"""Drills with real worker processes: a worker killed mid-job loses nothing and does nothing
twice; a worker refuses to run as a role that bypasses row-level security."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dramatiq import Message
from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.config import Settings
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from dianshu_workers.broker import JOBS_QUEUE, make_broker
from tests.brokers import BROKER_ENVS, broker_env
from tests.conftest import scope_for

DIANSHU = str(Path(sys.executable).parent / "dianshu")
N_HOSPITALS = 3000  # 15 steps of 200, 80 ms apart: about 1.2 s of work to be killed in


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [DIANSHU, "worker", "--processes", "1", "--threads", "2"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


async def job_state(db, tenant, job_id):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()


async def wait_for(db, tenant, job_id, predicate, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = await job_state(db, tenant, job_id)
        if predicate(row):
            return row
        await _sleep(0.02)
    raise AssertionError(f"job {job_id} did not reach the state in {timeout_s}s: {row.status} {row.progress_done}")


async def _sleep(s):
    import asyncio

    await asyncio.sleep(s)


def drill_setup(kind: str, step_delay_ms: int):
    """A worker environment that makes a kill drill quick (slow steps, short heartbeats, a fast
    sweep) and a broker in this process that sends the job messages to it."""
    broker_vars = broker_env(kind)
    env = {
        **os.environ,
        **broker_vars,
        "DIANSHU_JOB_STEP_DELAY_MS": str(step_delay_ms),
        "DIANSHU_BROKER_HEARTBEAT_MS": "2000",
        "DIANSHU_JOB_STALE_AFTER_S": "2",
        "DIANSHU_SWEEP_INTERVAL_S": "0.5",
    }
    for k in ("REDIS_URL", "AMQP_URL"):
        if k not in broker_vars:
            env.pop(k, None)
    settings = Settings(
        **{k.lower(): v for k, v in broker_vars.items() if k != "DIANSHU_BROKER_NAMESPACE"},
        broker_namespace=broker_vars["DIANSHU_BROKER_NAMESPACE"],
    )
    broker = make_broker(settings)

    def send(tenant_id, kind, job_id):
        broker.enqueue(
            Message(queue_name=JOBS_QUEUE, actor_name=kind, args=(tenant_id, str(job_id)), kwargs={}, options={})
        )

    jobs.set_dispatcher(send)
    return env, broker


@pytest.mark.drill
@pytest.mark.parametrize("broker_kind", list(BROKER_ENVS))
async def test_worker_killed_mid_job_loses_nothing_and_does_nothing_twice(db, city, test_database, broker_kind):
    env, broker = drill_setup(broker_kind, step_delay_ms=80)
    roster = [
        {"id": f"H{city.a}{10000 + i:05d}", "name": f"Drill {i}", "level": 1 + i % 3, "type": "general"}
        for i in range(N_HOSPITALS)
    ]
    scope = scope_for(Role.region_admin, (city.a,))
    try:
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster})
        kills = 0
        worker = start_worker(env)
        try:
            # Kill the worker (and its children) while the job is part-way through, at most twice.
            while kills < 2:
                row = await wait_for(
                    db,
                    city.a,
                    job.id,
                    lambda r: r.status == "succeeded" or (r.status == "running" and r.progress_done >= 600),
                    timeout_s=60,
                )
                if row.status == "succeeded":
                    break
                kill(worker)
                kills += 1
                row = await job_state(db, city.a, job.id)
                assert row.status != "succeeded"
                async with scoped_session(db, Scope.system((city.a,))) as s:
                    partial = (
                        await s.execute(select(func.count()).select_from(Hospital).where(Hospital.name.like("Drill %")))
                    ).scalar()
                assert partial == 0, "a killed job's partial writes must roll back"
                worker = start_worker(env)
            row = await wait_for(db, city.a, job.id, lambda r: r.status in ("succeeded", "failed"), timeout_s=90)
        finally:
            kill(worker)
        assert kills >= 1, "the drill never caught the job mid-way"
        assert row.status == "succeeded", row.error
        assert row.attempts >= 2
        assert row.result["inserted"] == N_HOSPITALS
        async with scoped_session(db, Scope.system((city.a,))) as s:
            count = (
                await s.execute(select(func.count()).select_from(Hospital).where(Hospital.name.like("Drill %")))
            ).scalar()
            audits = (
                await s.execute(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.target == f"job:{job.id}")
                )
            ).scalar()
        assert count == N_HOSPITALS
        assert audits == 1, "the job's effect was committed more than once"
        # A duplicate delivery now is a no-op.
        assert await jobs.execute(db, city.a, job.id) == "already-final"
    finally:
        jobs.set_dispatcher(None)
        broker.close()


def test_worker_refuses_a_role_that_bypasses_rls(test_database):
    env = {**os.environ, "APP_DATABASE_URL": test_database.owner_url}
    proc = subprocess.run([DIANSHU, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "refusing to start" in proc.stderr and "superuser" in proc.stderr


@pytest.mark.drill
async def test_worker_killed_during_ingestion_ends_with_exactly_the_rows_sent(db, city, test_database):
    """An ingestion job killed part-way (after some 1 MiB chunks were validated and staged) is rolled
    back whole; the restarted worker ingests the batch once: exactly the rows sent, one version each."""
    from dianshu.cases.ingest import BatchRequest
    from dianshu.cases.models import CaseRecord, IngestionBatch
    from dianshu.cases.service import submit_batch
    from tests.cases.rows import csv_bytes, row

    env, broker = drill_setup("embedded", step_delay_ms=150)
    n = 25_000
    data = csv_bytes([row(f"K{i:06d}", city.a1 if i % 2 else city.a2) for i in range(n)])
    try:
        sub = await submit_batch(
            db,
            scope_for(Role.region_admin, (city.a,)),
            BatchRequest(city.a, "drill.csv", "drill", control_rows=n),
            [data],
        )
        worker = start_worker(env)
        try:
            row_ = await wait_for(
                db,
                city.a,
                sub.job.id,
                lambda r: r.status == "running" and r.progress_done >= 3 * (1 << 20),
                timeout_s=60,
            )
            kill(worker)
            async with scoped_session(db, Scope.system((city.a,))) as s:
                partial = (await s.execute(select(func.count()).select_from(CaseRecord))).scalar()
            assert partial == 0, "a killed ingestion leaves nothing behind"
            worker = start_worker(env)
            row_ = await wait_for(db, city.a, sub.job.id, lambda r: r.status in ("succeeded", "failed"), timeout_s=120)
        finally:
            kill(worker)
        assert row_.status == "succeeded", row_.error
        assert row_.attempts >= 2
        async with scoped_session(db, Scope.system((city.a,))) as s:
            count = (await s.execute(select(func.count()).select_from(CaseRecord))).scalar()
            distinct = (await s.execute(select(func.count(func.distinct(CaseRecord.list_id))))).scalar()
            batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
        assert count == distinct == n
        assert (batch.status, batch.rows_accepted, batch.rows_refused) == ("done", n, 0)
    finally:
        jobs.set_dispatcher(None)
        broker.close()
