"""Drills with real worker processes: a worker killed mid-job loses nothing and does nothing
twice; a worker refuses to run as a role that bypasses row-level security."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from tests.brokers import BROKER_ENVS, broker_env
from tests.conftest import scope_for
from tests.drills import DIANSHU, job_state, kill, sender, start_worker, wait_for, worker_env

N_HOSPITALS = 3000  # 15 steps of 200, 80 ms apart: about 1.2 s of work to be killed in


def drill_setup(kind: str, step_delay_ms: int):
    """A worker environment that makes a kill drill quick (slow steps, short heartbeats, a fast
    sweep) and a broker in this process that sends the job messages to it."""
    broker_vars = broker_env(kind)
    broker, send = sender(broker_vars)
    jobs.set_dispatcher(send)
    return worker_env(broker_vars, step_delay_ms), broker


@pytest.mark.drill
@pytest.mark.usefixtures("job_queue_of_its_own")
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
                    workers=(worker,),
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
            row = await wait_for(db, city.a, job.id, lambda r: r.status in ("succeeded", "failed"), 90, (worker,))
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
    env = {**os.environ, "APP_DATABASE_URL": test_database.owner_url, "DIANSHU_LANG": "en"}
    proc = subprocess.run([DIANSHU, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "refusing to start" in proc.stderr and "superuser" in proc.stderr
    # In Chinese (the default) the line is Chinese whole, each of its problems too.
    proc = subprocess.run(
        [DIANSHU, "worker"], env=env | {"DIANSHU_LANG": "zh"}, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    assert proc.stderr.startswith("拒绝启动：角色 ") and "是超级用户" in proc.stderr, proc.stderr
    assert not re.search(r"\b(?:role|is|has|refusing|Connect)\b", proc.stderr), proc.stderr


@pytest.mark.drill
@pytest.mark.usefixtures("job_queue_of_its_own")
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
                workers=(worker,),
            )
            kill(worker)
            async with scoped_session(db, Scope.system((city.a,))) as s:
                partial = (await s.execute(select(func.count()).select_from(CaseRecord))).scalar()
            assert partial == 0, "a killed ingestion leaves nothing behind"
            worker = start_worker(env)
            row_ = await wait_for(db, city.a, sub.job.id, lambda r: r.status in ("succeeded", "failed"), 120, (worker,))
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
