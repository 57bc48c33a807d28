"""Failure drills (issue 15): real worker processes, the real brokers the suite has
(tests/brokers.py: the embedded Redis always; the local Redis and RabbitMQ when named) and a
loopback proxy (tests/proxy.py) in front of a broker or the database, to restart or partition it as
its clients see it without touching the machine's shared servers.

In each: nothing lost (every row sent is there), nothing applied twice (each job's effect, audited
once), the job ends (or fails with a clear error, checked), and the metrics show it: the job rows'
outcomes and retries by kind (job_metrics_snapshot), and what the process that ran the jobs serves
on /metrics (the worker's port: jobs by outcome, retries; the API's registry: ingestion rows).
The kill drills check the job rows only: a SIGKILLed worker's counters die with it, as any
Prometheus counter does when its process restarts; the rows keep every attempt."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.config import Settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.observability import metrics
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from tests.brokers import BROKER_ENVS, broker_env
from tests.conftest import JWT_SECRET, RecordingDispatcher, scope_for
from tests.drills import (
    broker_behind_proxy,
    database_behind_proxy,
    final,
    free_port,
    job_metrics_snapshot,
    job_state,
    kill,
    sender,
    start_worker,
    wait_for,
    worker_env,
    worker_job_metrics,
    workers_counter,
)
from tests.test_standards_db import builtin_versions  # noqa: F401

pytestmark = [pytest.mark.drill, pytest.mark.usefixtures("job_queue_of_its_own")]

BROKER_TIMEOUT_S = 1.0
N_HOSPITALS = 2000  # 10 steps of 200, 150 ms apart in the drills: time to act mid-job
# The kill drills' steps: slower than the moment a kill takes to land (below the 2 s heartbeat).
SLOW_STEP_MS = 1500


async def submit_roster(db, city, prefix: str, n: int) -> Job:
    base = {"R": 10000, "S": 20000, "D": 30000}[prefix]  # hospital codes: H + division + 5 digits
    roster = [
        {"id": f"H{city.a}{base + i:05d}", "name": f"{prefix} drill {i}", "level": 1 + i % 3, "type": "general"}
        for i in range(n)
    ]
    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster})
    return job


async def roster_applied(db, city, prefix: str, job: Job) -> tuple[int, int]:
    """(hospitals of the roster now in the tenant, audit entries of the job's effect)."""
    async with scoped_session(db, Scope.system((city.a,))) as s:
        hospitals = (
            await s.execute(select(func.count()).select_from(Hospital).where(Hospital.name.like(f"{prefix} drill %")))
        ).scalar()
        audits = (
            await s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.target == f"job:{job.id}"))
        ).scalar()
    return hospitals, audits


def mid_job(row: Job) -> bool:
    """A roster import two of its ten steps in."""
    return row.status == "running" and row.progress_done >= 400


def _timed(t0: float, limit_s: float = 60.0) -> float:
    took = time.monotonic() - t0
    assert took < limit_s, f"the drill took {took:.1f}s (bound {limit_s:.0f}s)"
    return took


async def _broker_drill(db, city, broker_kind: str, disrupt) -> tuple[list[Job], dict]:
    """A roster import running in a worker when `disrupt(proxy)` strikes the broker's connections,
    and a second job submitted straight after (during the outage). Returns both final rows."""
    with broker_behind_proxy(broker_kind) as (proxy, bvars):
        broker, send = sender(bvars, broker_timeout_s=BROKER_TIMEOUT_S)
        jobs.set_dispatcher(send)
        worker = None
        try:
            first = await submit_roster(db, city, "R", N_HOSPITALS)
            env = worker_env(bvars, step_delay_ms=150, DIANSHU_BROKER_TIMEOUT_S=str(BROKER_TIMEOUT_S))
            worker = start_worker(env)
            await wait_for(db, city.a, first.id, mid_job, 45, (worker,))
            disrupt(proxy)
            t = time.monotonic()
            second = await submit_roster(db, city, "S", 50)  # the API's submit: it must not fail
            submit_s = time.monotonic() - t
            # Whether the API's own send got through, or the job waited in the outbox for the sweep.
            outbox = (await job_state(db, city.a, second.id)).enqueued_at is None
            rows = [await wait_for(db, city.a, j.id, final, 45, (worker,)) for j in (first, second)]
            # The metrics show it: the worker that rode out the broker's trouble ran both, once each.
            shown = worker_job_metrics(env, IMPORT_HOSPITALS, lambda m: m.get("succeeded") == 2)
        finally:
            if worker is not None:
                kill(worker)
            jobs.set_dispatcher(None)
            broker.close()
    return rows, {"submit_s": round(submit_s, 2), "outbox": outbox, "stats": proxy.stats, "metrics": shown}


async def _check_two_rosters(db, city, rows):
    first, second = rows
    for row in rows:
        assert row.status == "succeeded", row.error
        # The broker's trouble cost no execution: a redelivered message found the job busy or final.
        assert row.attempts == 1
    assert first.result["inserted"] == N_HOSPITALS and second.result["inserted"] == 50
    assert await roster_applied(db, city, "R", first) == (N_HOSPITALS, 1)
    assert await roster_applied(db, city, "S", second) == (50, 1)
    figures = (await job_metrics_snapshot(db, (city.a,)))[IMPORT_HOSPITALS]
    assert (figures.jobs, figures.succeeded, figures.failed, figures.unfinished, figures.retries) == (2, 2, 0, 0, 0)


@pytest.mark.parametrize("broker_kind", list(BROKER_ENVS))
async def test_broker_restart_during_a_job(db, city, test_database, broker_kind):
    """The broker's connections reset and new ones refused for 2 s while a job runs (a restart as
    the worker and the API see it); a job submitted meanwhile waits in the outbox for the sweep."""
    t0 = time.monotonic()
    cut = {}

    def restart(proxy):
        cut["connections"] = proxy.cut(refuse_for_s=2.0)

    rows, info = await _broker_drill(db, city, broker_kind, restart)
    assert cut["connections"] >= 1, "the cut found no live broker connection"
    await _check_two_rosters(db, city, rows)
    assert info["metrics"] == {"succeeded": 2}, info
    print(f"\nbroker restart drill ({broker_kind}): {_timed(t0):.1f}s, {info}")


@pytest.mark.parametrize("broker_kind", list(BROKER_ENVS))
async def test_broker_partition_during_a_job(db, city, test_database, broker_kind):
    """The broker's connections held silent for 3 s (a partition: no reset, nothing delivered)
    while a job runs and another is submitted, then dropped. A Redis send gives up after the broker
    timeout (1 s here) and leaves the job in the outbox; a RabbitMQ send waits for its confirmation,
    and one lost with its connection is sent again."""
    t0 = time.monotonic()

    def partition(proxy):
        proxy.pause()

        def end() -> None:
            proxy.cut()  # the held connections are dropped (as the peers' heartbeats would), then
            proxy.resume()  # new ones get through

        threading.Timer(3.0, end).start()

    rows, info = await _broker_drill(db, city, broker_kind, partition)
    assert info["stats"].pauses == 1
    assert info["metrics"] == {"succeeded": 2}, info
    if broker_kind != "rabbitmq":
        # The API's request is not held for the partition: the send timed out, the sweep sent it.
        assert info["submit_s"] < 2.5 and info["outbox"], info
    await _check_two_rosters(db, city, rows)
    print(f"\nbroker partition drill ({broker_kind}): {_timed(t0):.1f}s, {info}")


async def test_database_restart_during_a_job(db, city, test_database):
    """The worker's database connections reset and new ones refused for 2 s mid-job (a restart as
    the worker sees it): the attempt's transaction is lost whole, the job is retried and ends once."""
    t0 = time.monotonic()
    bvars = broker_env("embedded")
    broker, send = sender(bvars)
    jobs.set_dispatcher(send)
    worker = None
    try:
        with database_behind_proxy(test_database.runtime_url) as (proxy, via):
            job = await submit_roster(db, city, "D", N_HOSPITALS)
            env = worker_env(bvars, step_delay_ms=150, APP_DATABASE_URL=via)
            worker = start_worker(env)
            await wait_for(db, city.a, job.id, mid_job, 45, (worker,))
            assert proxy.cut(refuse_for_s=2.0) >= 1
            assert await roster_applied(db, city, "D", job) == (0, 0), "a cut attempt leaves nothing behind"
            row = await wait_for(db, city.a, job.id, final, 45, (worker,))
            shown = worker_job_metrics(env, IMPORT_HOSPITALS, lambda m: m.get("succeeded") == 1)
    finally:
        if worker is not None:
            kill(worker)
        jobs.set_dispatcher(None)
        broker.close()
    assert row.status == "succeeded", row.error
    assert 2 <= row.attempts <= jobs.MAX_ATTEMPTS
    # The metrics show it: the cut attempt counted as a retry of its kind, then one success. A
    # delivery cut off before its attempt began (reading the job's scope) is given back to the
    # queue too: a retry the metric counts that the job row's attempts do not.
    assert shown.get("succeeded") == 1 and "failed" not in shown, shown
    assert shown.get("retry") == shown.get("dianshu_job_retries_total") >= row.attempts - 1 >= 1, shown
    assert row.result["inserted"] == N_HOSPITALS
    assert await roster_applied(db, city, "D", job) == (N_HOSPITALS, 1)
    figures = (await job_metrics_snapshot(db, (city.a,)))[IMPORT_HOSPITALS]
    assert (figures.succeeded, figures.failed, figures.retries) == (1, 0, row.attempts - 1)
    print(f"\ndatabase restart drill: {_timed(t0):.1f}s, attempts {row.attempts}, {proxy.stats}")


async def _kill_repeatedly(db, tenant: str, job_id: uuid.UUID, env: dict, kills: int, leftover) -> Job:
    """`kills` + 1 workers started together (their start-up, slow on a loaded machine, overlaps);
    `kills` times, just after a new attempt of the job began, the worker running it (named on the
    job row, `job.worker`) is SIGKILLed with its process group, and the attempt must have left
    nothing behind; a survivor takes the job over once the sweep sees its heartbeat stale, and the
    survivors' metrics show it (dianshu_jobs_resent_total, reason orphaned, of the job's kind: a
    killed worker's own count goes with it, but the last take-over's sweep ran in a survivor)."""
    # Each its own metrics port, as separate pods would have: started together on one port, all but
    # one would lose their metrics exposition (a run at -n 2 once saw no worker take the job).
    # The Redis broker's own requeue of a dead worker's messages waits 10 s of silence here (the
    # drills' 2 s elsewhere), so the take-over is always the sweep's, after the job's 2 s stale
    # heartbeat, and counted (reason orphaned); with both at 2 s a maintenance pass could requeue
    # the message first and the take-over would go uncounted.
    envs = [
        {**env, "DIANSHU_WORKER_METRICS_PORT": str(free_port()), "DIANSHU_BROKER_HEARTBEAT_MS": "10000"}
        for _ in range(kills + 1)
    ]
    workers = {p.pid: p for p in (start_worker(e) for e in envs)}
    env_of = {pid: e for pid, e in zip(workers, envs, strict=True)}
    try:
        for k in range(kills):
            # 90 s: at -n 2 on the local servers a take-over once needed more than 45 s (sweep + start-up).
            attempt_began = lambda r, k=k: r.status == "running" and r.attempts == k + 1  # noqa: E731
            row = await wait_for(db, tenant, job_id, attempt_began, 90, (*workers.values(),))
            await asyncio.sleep(0.2)  # part-way through the attempt (its steps are slower than this)
            holder = os.getpgid(int(row.worker.rsplit(":", 1)[1]))  # the worker's session leader
            kill(workers.pop(holder))
            row = await job_state(db, tenant, job_id)
            assert row.status == "running" and row.attempts == k + 1, (row.status, row.attempts, row.error)
            assert await leftover() == 0, "a killed attempt's writes must roll back"
        done = await wait_for(db, tenant, job_id, final, 45, (*workers.values(),))
        orphaned = {"kind": done.kind, "reason": "orphaned"}
        survivors = [env_of[pid] for pid in workers]
        taken_over = workers_counter(survivors, "dianshu_jobs_resent_total", orphaned, lambda n: n >= 1)
        assert taken_over >= 1, f"no survivor counted re-sending the orphaned job: {taken_over}"
        return done
    finally:
        for w in workers.values():
            kill(w)


async def test_worker_killed_repeatedly_during_an_ingestion(db, city, test_database):
    """Three SIGKILLs, each during a new attempt of one ingestion; the fourth attempt ingests the
    batch once: exactly the rows sent, one version each, the batch done."""
    from dianshu.cases.ingest import INGEST, BatchRequest
    from dianshu.cases.models import CaseRecord, IngestionBatch
    from dianshu.cases.service import submit_batch
    from tests.cases.rows import csv_bytes, row

    t0 = time.monotonic()
    bvars = broker_env("embedded")
    broker, send = sender(bvars)
    jobs.set_dispatcher(send)
    n = 6_000
    data = csv_bytes([row(f"K{i:06d}", city.a1 if i % 2 else city.a2) for i in range(n)])

    async def cases() -> int:
        async with scoped_session(db, Scope.system((city.a,))) as s:
            return (await s.execute(select(func.count()).select_from(CaseRecord))).scalar()

    try:
        sub = await submit_batch(
            db,
            scope_for(Role.region_admin, (city.a,)),
            BatchRequest(city.a, "drill.csv", "drill", control_rows=n),
            [data],
        )
        done = await _kill_repeatedly(db, city.a, sub.job.id, worker_env(bvars, step_delay_ms=SLOW_STEP_MS), 3, cases)
    finally:
        jobs.set_dispatcher(None)
        broker.close()
    assert done.status == "succeeded", done.error
    assert done.attempts == 4
    async with scoped_session(db, Scope.system((city.a,))) as s:
        count, distinct, versions = (
            await s.execute(
                select(func.count(), func.count(func.distinct(CaseRecord.list_id)), func.max(CaseRecord.version))
            )
        ).one()
        batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
    assert (count, distinct, versions) == (n, n, 1)
    assert (batch.status, batch.rows_accepted, batch.rows_refused) == ("done", n, 0)
    figures = (await job_metrics_snapshot(db, (city.a,)))[INGEST]
    assert (figures.jobs, figures.succeeded, figures.failed, figures.attempts, figures.retries) == (1, 1, 0, 4, 3)
    print(f"\nworker killed 3 times during an ingestion: {_timed(t0):.1f}s")


async def test_worker_killed_repeatedly_during_a_points_run(db, city, test_database, builtin_versions):  # noqa: F811
    """A clean points run in-process, then the same run in a worker killed three times: the fourth
    attempt stores one run with the clean run's points to the last decimal, each case once."""
    from dianshu.settlement.models import CasePoint, PointsRun
    from dianshu.settlement.runs import budgets, policies
    from dianshu.settlement.runs.points import POINTS
    from tests.settlement.world import load_year, publish_standard, run_job

    t0 = time.monotonic()
    zj = builtin_versions["zhejiang_2022"]
    jobs.set_dispatcher(RecordingDispatcher())  # the world is set up in-process
    try:
        await publish_standard(db, city, zj)
        region = await load_year(db, city, zj)
        async with scoped_session(db, region) as s:
            await policies.set_region_policy(
                s, region, city.city, city.a, 2025, "employee", {"provisional_point_value": "100"}, "drill"
            )
            await budgets.set_budget(
                s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="d"
            )
        clean = await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})
    finally:
        jobs.set_dispatcher(None)
    setup_s = time.monotonic() - t0

    async def points_of(run_id) -> tuple[int, Decimal]:
        async with scoped_session(db, Scope.system((city.a,))) as s:
            n, total = (
                await s.execute(
                    select(func.count(), func.coalesce(func.sum(CasePoint.points), 0)).where(CasePoint.run_id == run_id)
                )
            ).one()
        return n, Decimal(total)

    bvars = broker_env("embedded")
    broker, send = sender(bvars)
    jobs.set_dispatcher(send)
    try:
        async with scoped_session(db, region) as s:
            job, _ = await jobs.submit(s, db, region, city.a, POINTS, {"year": 2025, "month": 12})

        async def runs_of_job() -> int:
            async with scoped_session(db, Scope.system((city.a,))) as s:
                return (
                    await s.execute(select(func.count()).select_from(PointsRun).where(PointsRun.job_id == job.id))
                ).scalar()

        done = await _kill_repeatedly(db, city.a, job.id, worker_env(bvars, step_delay_ms=SLOW_STEP_MS), 3, runs_of_job)
    finally:
        jobs.set_dispatcher(None)
        broker.close()
    assert done.status == "succeeded", done.error
    assert done.attempts == 4
    assert await runs_of_job() == 1
    assert done.result["version"] == clean["version"] + 1
    assert done.result["points"] == clean["points"] and done.result["cases"] == clean["cases"] == 4
    assert await points_of(uuid.UUID(done.result["points_run"])) == await points_of(uuid.UUID(clean["points_run"]))
    assert (await points_of(uuid.UUID(done.result["points_run"])))[1] == Decimal("600")  # 100 + 100 + 100 + 300
    figures = (await job_metrics_snapshot(db, (city.a,)))[POINTS]
    assert (figures.jobs, figures.succeeded, figures.failed, figures.retries) == (2, 2, 0, 3)
    print(
        f"\nworker killed 3 times during a points run: {_timed(t0):.1f}s (the clean run and its world {setup_s:.1f}s)"
    )


async def test_a_burst_of_20_identical_uploads_makes_one_batch(db, city, test_database, dispatcher):
    """20 concurrent HTTP uploads of the same file under one Idempotency-Key: one batch, one job,
    one message; every answer names that batch (one 202 created, the others 200), never an error.
    Run once, the batch's cases are there once."""
    from dianshu.cases.models import CaseRecord, IngestionBatch
    from dianshu_graphql.app import create_app
    from dianshu_tenants.identity import TokenCodec
    from tests.cases.rows import csv_bytes, row

    t0 = time.monotonic()
    settings = Settings(jwt_secret=JWT_SECRET)
    api_db = Database(test_database.runtime_url, pool_size=10)  # the API's own pool: 20 at once
    app = create_app(settings, db=api_db, check_role=False)
    token = TokenCodec(settings).encode(subject="t-region", role=Role.region_admin, tenant_ids=[city.a])
    data = csv_bytes([row(f"B{i:04d}", city.a1) for i in range(200)])
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:

            async def upload():
                return await client.post(
                    f"/ingest/{city.a}?filename=burst.csv&control_rows=200",
                    content=data,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "burst-1"},
                )

            answers = await asyncio.gather(*(upload() for _ in range(20)))
    finally:
        await api_db.dispose()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 19 + [202], [a.text for a in answers if a.status_code not in (200, 202)]
    bodies = [a.json() for a in answers]
    assert len({b["batch"] for b in bodies}) == 1 and len({b["job"] for b in bodies}) == 1
    assert sum(b["created"] for b in bodies) == 1
    job_id = uuid.UUID(bodies[0]["job"])
    assert [sent[2] for sent in dispatcher.sent] == [job_id], "one message for the one job"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        batches = (await s.execute(select(func.count()).select_from(IngestionBatch))).scalar()
        ingest_jobs = (
            await s.execute(select(func.count()).select_from(Job).where(Job.kind == "cases.ingest"))
        ).scalar()
    assert (batches, ingest_jobs) == (1, 1)

    def shown() -> tuple[float, float]:  # this process's ingestion rows and ingest successes, so far
        accepted = metrics.REGISTRY.get_sample_value("dianshu_ingest_rows_total", {"outcome": "accepted"}) or 0
        ran = {"kind": "cases.ingest", "outcome": "succeeded"}
        return accepted, metrics.REGISTRY.get_sample_value("dianshu_job_seconds_count", ran) or 0

    before = shown()
    assert await jobs.execute(db, city.a, job_id) == "succeeded"
    assert await jobs.execute(db, city.a, job_id) == "already-final"
    # The metrics show it: 200 rows accepted and one ingestion run, not 20 (nor 2).
    assert (shown()[0] - before[0], shown()[1] - before[1]) == (200, 1)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        count, distinct = (await s.execute(select(func.count(), func.count(func.distinct(CaseRecord.list_id))))).one()
    assert (count, distinct) == (200, 200)
    figures = (await job_metrics_snapshot(db, (city.a,)))["cases.ingest"]
    assert (figures.jobs, figures.succeeded, figures.attempts) == (1, 1, 1)
    print(f"\nburst of 20 identical uploads: {_timed(t0):.1f}s")
