"""Observability: JSON log lines with the request's and the job's context, the Prometheus metrics
(GraphQL operations, jobs, ingestion, the outbox and queues, the pools, processes; one process and
multiprocess mode) and their bounded labels."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text, update

from dianshu.config import Profile
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.logs import configure
from dianshu.observability import metrics
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from tests.api import Api
from tests.conftest import scope_for
from tests.drills import close_jobs_left_unfinished

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def json_logs():
    """Production logging (JSON lines, the stderr handler's) for one test, written to a buffer; the
    JSON objects logged since the last call."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure(Profile.prod)
    buffer = io.StringIO()
    ours = root.handlers[0]
    assert isinstance(ours, logging.StreamHandler) and ours.stream is sys.stderr
    ours.setStream(buffer)

    def lines() -> list[dict]:
        text_ = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return [json.loads(line) for line in text_.splitlines() if line.startswith("{")]

    yield lines
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


def scraped(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def roster(tenant: str, n: int = 91) -> list[dict]:
    return [{"id": f"H{tenant}000{n}", "name": "Obs", "level": 1, "type": "general"}]


# Logs ---------------------------------------------------------------------------------------------


async def test_a_request_logs_one_json_line_with_its_id_tenant_user_and_role(prod, city, json_logs):
    token = prod.token(Role.region_admin, [city.a])
    r = await prod.client.post(
        "/graphql",
        json={"query": "query Who { me { subject } }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-4711.a"},
    )
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-4711.a"
    [line] = [x for x in json_logs() if x.get("logger") == "dianshu.request"]
    assert line["request_id"] == "req-4711.a"
    assert (line["tenant"], line["user"], line["role"]) == (city.a, "t-region_admin", "region_admin")
    assert (line["method"], line["path"], line["status"], line["level"]) == ("POST", "/graphql", 200, "info")
    assert line["duration_ms"] >= 0 and line["timestamp"].endswith("Z")

    # No id, or one that is not a plain token: a fresh one, returned; nothing of the last request's.
    for header in ({}, {"X-Request-ID": "two words"}, {"X-Request-ID": "x" * 129}):
        r = await prod.client.get("/healthz", headers=header)
        rid = r.headers["x-request-id"]
        assert len(rid) == 32 and int(rid, 16) >= 0
        [line] = [x for x in json_logs() if x.get("logger") == "dianshu.request"]
        assert line["request_id"] == rid and "tenant" not in line and "user" not in line


async def test_a_job_logs_json_lines_with_its_id_kind_tenant_and_user(db, city, dispatcher, json_logs):
    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster(city.a)})
    assert await jobs.execute(db, city.a, job.id) == "succeeded"
    [line] = [x for x in json_logs() if x.get("event") == "job succeeded"]
    assert (line["job_id"], line["kind"], line["tenant"]) == (str(job.id), IMPORT_HOSPITALS, city.a)
    assert line["user"] == job.created_by == scope.actor  # who submitted it
    assert line["outcome"] == "succeeded" and line["level"] == "info" and line["duration_ms"] > 0
    # The job's fields are gone once it ends.
    logging.getLogger("after").warning("after the job")
    [after] = [x for x in json_logs() if x.get("event") == "after the job"]
    assert "job_id" not in after and "kind" not in after and "user" not in after


# GraphQL operations -------------------------------------------------------------------------------


async def scrape(api: Api, token: str) -> dict:
    r = await api.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return scraped(r.text)


async def test_operations_are_timed_by_name_and_type_and_errors_counted_by_source_and_kind(prod, city, monkeypatch):
    # This process's cap of distinct names may be reached by the tests before: start afresh.
    monkeypatch.setattr(metrics, "_operations", set())
    region = prod.token(Role.region_admin, [city.a])
    reader = prod.token(Role.city_admin, [city.city])
    key = ("dianshu_graphql_operation_seconds_count", (("operation", "ObsWho"), ("type", "query")))
    before = (await scrape(prod, reader)).get(key, 0.0)
    for _ in range(2):
        assert (await prod.gql(region, "query ObsWho { me { role } }"))["me"]["role"] == "region_admin"
    assert (await scrape(prod, reader))[key] == before + 2

    # A typed error of the result union: a client error by its type name, not an exception.
    typed = (
        "dianshu_graphql_errors_total",
        (("kind", "PermissionDenied"), ("operation", "ObsImport"), ("source", "result")),
    )
    before = (await scrape(prod, reader)).get(typed, 0.0)
    mutation = """mutation ObsImport($i: ImportHospitalsInput!) { importHospitals(input: $i) { __typename } }"""
    hospitals = [{"code": f"H{city.b}00091", "name": "Obs", "level": 1, "type": "general"}]
    data = await prod.gql(region, mutation, {"i": {"tenant": city.b, "hospitals": hospitals}})
    assert data["importHospitals"]["__typename"] == "PermissionDenied"
    after = await scrape(prod, reader)
    assert after[typed] == before + 1
    assert not [k for k in after if k[0] == "dianshu_graphql_errors_total" and ("source", "exception") in k[1]
                and ("operation", "ObsImport") in k[1]]  # fmt: skip
    assert after[("dianshu_graphql_operation_seconds_count", (("operation", "ObsImport"), ("type", "mutation")))] >= 1

    # A top-level error: source exception, kind its extensions.code; a document that does not parse
    # has no operation name.
    bad = (
        "dianshu_graphql_errors_total",
        (("kind", "BAD_USER_INPUT"), ("operation", "ObsNode"), ("source", "exception")),
    )
    syntax = (
        "dianshu_graphql_errors_total",
        (("kind", "GRAPHQL_VALIDATION_FAILED"), ("operation", "anonymous"), ("source", "exception")),
    )
    was = await scrape(prod, reader)
    body = (await prod.post(region, 'query ObsNode { node(id: "not-an-id") { id } }')).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = (await prod.post(region, "query { me { ")).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    now = await scrape(prod, reader)
    assert now[bad] == was.get(bad, 0.0) + 1 and now[syntax] == was.get(syntax, 0.0) + 1


def test_operation_labels_are_bounded(monkeypatch):
    monkeypatch.setattr(metrics, "_operations", set())
    monkeypatch.setattr(metrics, "_max_operations", 2)
    assert metrics.operation_label(None) == "anonymous" and metrics.operation_label("") == "anonymous"
    assert metrics.operation_label("drop table;") == "invalid" and metrics.operation_label("1st") == "invalid"
    long = "A" * 100
    assert metrics.operation_label(long) == "A" * 64
    assert metrics.operation_label("Second") == "Second"
    assert metrics.operation_label("Third") == "other"  # the cap of distinct names is reached
    assert metrics.operation_label("Second") == "Second" and metrics.operation_label(long) == "A" * 64


# Jobs and ingestion --------------------------------------------------------------------------------


async def test_a_delivery_that_finds_its_job_running_elsewhere_is_no_retry(db, city, dispatcher):
    """A broker's redelivery (a lost connection, the sweep's resend) while the job runs elsewhere
    raises JobBusy for the queue to try the message later: counted as a skipped delivery, not as a
    retry of the job (it ran nothing)."""
    from dianshu.jobs.errors import JobBusy

    scope = scope_for(Role.region_admin, (city.a,))
    busy = ("dianshu_job_deliveries_skipped_total", {"kind": IMPORT_HOSPITALS, "why": "busy"})
    retries = ("dianshu_job_retries_total", {"kind": IMPORT_HOSPITALS})
    b0, r0 = sample(*busy), sample(*retries)
    rows = [{"id": f"H{city.a}00082", "name": "甲医院", "level": 2, "type": "general"}]
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": rows})
    async with db.session(Scope.system((city.a,))) as holder, holder.begin():  # the job's lock, held elsewhere
        key = f"job:{city.a}:{job.id}"
        await holder.execute(text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
        with pytest.raises(JobBusy):
            await jobs.execute(db, city.a, job.id)
    assert (sample(*busy), sample(*retries)) == (b0 + 1, r0)
    assert await jobs.execute(db, city.a, job.id) == "succeeded"


async def test_job_failures_and_retries_are_counted_by_kind(db, city, dispatcher, monkeypatch):
    scope = scope_for(Role.region_admin, (city.a,))
    failed = ("dianshu_job_failures_total", {"kind": IMPORT_HOSPITALS})
    retries = ("dianshu_job_retries_total", {"kind": IMPORT_HOSPITALS})
    timed = ("dianshu_job_seconds_count", {"kind": IMPORT_HOSPITALS, "outcome": "failed"})
    skipped = ("dianshu_job_deliveries_skipped_total", {"kind": IMPORT_HOSPITALS, "why": "final"})
    f0, r0, t0, k0 = sample(*failed), sample(*retries), sample(*timed), sample(*skipped)
    bad = [{"id": f"H{city.a}00081", "name": "", "level": 4, "type": "general"}]
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": bad})
    assert await jobs.execute(db, city.a, job.id) == "failed"
    assert (sample(*failed), sample(*retries), sample(*timed)) == (f0 + 1, r0, t0 + 1)
    assert await jobs.execute(db, city.a, job.id) == "already-final"  # a redelivery: no attempt, no failure
    assert (sample(*failed), sample(*timed), sample(*skipped)) == (f0 + 1, t0 + 1, k0 + 1)

    from dianshu.tenancy import jobs as tenancy_jobs

    async def flaky(session, rows):
        raise ConnectionError("database went away")

    monkeypatch.setattr(tenancy_jobs, "upsert_hospitals", flaky)
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster(city.a, 82)})
    with pytest.raises(ConnectionError):
        await jobs.execute(db, city.a, job.id)
    assert (sample(*retries), sample(*failed)) == (r0 + 1, f0 + 1)


async def test_the_sweeps_resends_are_counted_by_kind_and_reason(db, city, dispatcher, job_queue_of_its_own):
    """Hand-built job rows, one per state the sweep takes up: never sent (unsent), sent long ago and
    never started (lost), running with a stale heartbeat (orphaned: its worker died). A job the sweep
    re-sent that still has not started, a period later, is lost again; a job waiting in its grace
    period, a fresh heartbeat and a refused send are not counted."""
    scope = scope_for(Role.region_admin, (city.a,))

    def resent(reason: str) -> float:
        return sample("dianshu_jobs_resent_total", {"kind": IMPORT_HOSPITALS, "reason": reason})

    reasons = ("unsent", "lost", "orphaned")
    before = {r: resent(r) for r in reasons}
    made = []
    for i in range(5):
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster(city.a, 60 + i)})
        made.append(job.id)
    unsent, lost, orphaned, fresh, alive = made
    hour_ago = text("now() - interval '1 hour'")
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(update(Job).where(Job.id.in_(made)).values(created_at=hour_ago))
        await s.execute(update(Job).where(Job.id == unsent).values(enqueued_at=None))
        await s.execute(update(Job).where(Job.id == lost).values(enqueued_at=hour_ago))
        await s.execute(update(Job).where(Job.id == orphaned).values(status="running", heartbeat_at=hour_ago))
        await s.execute(update(Job).where(Job.id == fresh).values(created_at=text("now()"), enqueued_at=None))
        await s.execute(update(Job).where(Job.id == alive).values(status="running", heartbeat_at=text("now()")))
    assert jobs.why_resent("running", None) == "orphaned"
    dispatcher.sent.clear()
    assert await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120, resend_after_s=600) == 3
    assert {j for _, _, j in dispatcher.sent} == {unsent, lost, orphaned}
    assert {r: resent(r) - before[r] for r in reasons} == {"unsent": 1, "lost": 1, "orphaned": 1}

    # A period later none of them has started: the two queued ones were sent (the unsent one by the
    # sweep) and never began, so both count as lost now; the orphan is still running, unattended.
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(update(Job).where(Job.id.in_([unsent, lost, orphaned])).values(heartbeat_at=hour_ago))
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120, resend_after_s=600)
    assert {r: resent(r) - before[r] for r in reasons} == {"unsent": 1, "lost": 3, "orphaned": 2}

    # A send the broker refuses re-sent nothing: not counted (the job stays in the outbox).
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(update(Job).where(Job.id == fresh).values(created_at=hour_ago))

    def down(tenant_id, kind, job_id):
        raise ConnectionError("Connection refused.")

    jobs.set_dispatcher(down)
    await jobs.sweep(db, unsent_grace_s=10, stale_after_s=120, resend_after_s=600)
    assert resent("unsent") - before["unsent"] == 1
    assert (await _row(db, city.a, fresh)).enqueued_at is None
    await close_jobs_left_unfinished(db)  # no later test's worker should pick these up


async def _row(db, tenant, job_id) -> Job:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()


async def test_ingestion_counts_accepted_and_refused_rows_once_committed(db, city, dispatcher):
    from tests.cases.rows import csv_bytes, row
    from tests.cases.test_ingestion import send

    region = scope_for(Role.region_admin, (city.a,))
    accepted, refused = (
        ("dianshu_ingest_rows_total", {"outcome": "accepted"}),
        ("dianshu_ingest_rows_total", {"outcome": "refused"}),
    )
    a0, r0 = sample(*accepted), sample(*refused)
    data = csv_bytes([row("O1", city.a1), row("O2", city.a1, gend="9"), row("O3", city.a2)])
    _, outcome, result, _ = await send(db, region, city.a, data, "obs-1")
    assert outcome == "succeeded" and (result["accepted"], result["refused"]) == (2, 1)
    assert (sample(*accepted), sample(*refused)) == (a0 + 2, r0 + 1)


# The outbox, the queues, the pools, processes ------------------------------------------------------


async def test_the_outbox_age_and_queue_depth_are_read_when_scraped(prod, city, db, monkeypatch):
    reader = prod.token(Role.city_admin, [city.city])
    jobs.set_dispatcher(None)  # the job stays in the outbox: committed, never sent
    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster(city.a, 83)})
    system = Scope.system((city.a,))
    try:
        async with scoped_session(db, system) as s:
            await s.execute(update(Job).where(Job.id == job.id).values(created_at=text("now() - interval '1 hour'")))
        depths = {("jobs", "ready"): 3, ("jobs", "delayed"): 1, ("jobs", "dead"): 0}
        monkeypatch.setattr(metrics, "_queue_depths", lambda: depths)
        got = await scrape(prod, reader)
        assert 3600 <= got[("dianshu_outbox_oldest_age_seconds", ())] < 3600 + 120
        assert got[("dianshu_outbox_pending", ())] >= 1
        assert got[("dianshu_queue_depth", (("queue", "jobs"), ("state", "ready")))] == 3
        assert got[("dianshu_queue_depth", (("queue", "jobs"), ("state", "delayed")))] == 1
        assert got[("dianshu_metrics_source_up", (("source", "outbox"),))] == 1
        assert got[("dianshu_metrics_source_up", (("source", "broker"),))] == 1
    finally:
        # Out of the outbox again: no other test's sweep may send it.
        async with scoped_session(db, system) as s:
            await s.execute(update(Job).where(Job.id == job.id).values(status="failed", finished_at=text("now()")))


async def test_a_source_that_does_not_answer_in_time_is_reported_down_and_the_rest_served():
    async def outbox():
        return 4, 12.5

    def stuck():
        import time

        time.sleep(0.5)
        return {}

    backlog = await metrics.backlog(outbox, stuck, timeout_s=0.05)
    got = scraped(metrics.render([metrics.BacklogCollector(backlog)]).decode())
    assert got[("dianshu_outbox_pending", ())] == 4 and got[("dianshu_outbox_oldest_age_seconds", ())] == 12.5
    assert got[("dianshu_metrics_source_up", (("source", "broker"),))] == 0
    assert not [k for k in got if k[0] == "dianshu_queue_depth"]

    async def down():
        raise OSError("connection refused")

    backlog = await metrics.backlog(down, None, timeout_s=1)
    got = scraped(metrics.render([metrics.BacklogCollector(backlog)]).decode())
    assert got[("dianshu_metrics_source_up", (("source", "outbox"),))] == 0
    assert not [k for k in got if k[0].startswith("dianshu_outbox")]


async def test_the_broker_queue_depth_is_read_from_redis(settings):
    """queue_depths against a real Redis broker (the embedded one, or DIANSHU_TEST_REDIS_URL):
    messages sent and not yet taken are `ready`."""
    import dramatiq

    from dianshu_workers.broker import make_broker, queue_depths

    env = {"broker_namespace": f"dianshu-test-{uuid.uuid4().hex[:8]}"}
    if os.environ.get("DIANSHU_TEST_REDIS_URL"):
        env["redis_url"] = os.environ["DIANSHU_TEST_REDIS_URL"]
    broker = make_broker(settings.model_copy(update=env))
    try:
        broker.declare_queue("jobs")
        for n in range(3):
            broker.enqueue(dramatiq.Message(queue_name="jobs", actor_name="x", args=(n,), kwargs={}, options={}))
        assert queue_depths(broker)[("jobs", "ready")] == 3
        assert queue_depths(broker)[("jobs", "dead")] == 0
    finally:
        broker.flush_all()
        broker.close()


async def test_pool_gauges_follow_the_sqlalchemy_pool(test_database):
    size0, out0 = sample("dianshu_db_pool_size"), sample("dianshu_db_pool_checked_out")
    database = Database(test_database.runtime_url, pool_size=3)
    assert sample("dianshu_db_pool_size") == size0 + 3
    async with database.session(None) as s:
        await s.execute(text("select 1"))
        assert sample("dianshu_db_pool_checked_out") == out0 + 1
    assert sample("dianshu_db_pool_checked_out") == out0
    await database.dispose()
    assert sample("dianshu_db_pool_size") == size0


def test_one_process_exports_its_process_and_python_metrics():
    got = scraped(metrics.render().decode())
    names = {name for name, _ in got}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names


def test_multiprocess_mode_sums_every_process_and_labels_process_figures_by_pid(tmp_path):
    """What `dianshu serve --workers N` and `dianshu worker` do: two processes count, a third
    (the scrape) sums them; process_* figures for the live ones only, by pid."""
    directory = metrics.prepare_multiprocess_dir(str(tmp_path / "prom"))
    env = {**os.environ, metrics.MULTIPROC_ENV: directory}
    count = textwrap.dedent("""
        import sys, time
        from dianshu.observability import metrics
        metrics.JOB_FAILURES.labels("obs.kind").inc()
        metrics.DB_POOL_SIZE.inc(5)
        if sys.argv[1] == "stay":
            print("ready", flush=True)
            time.sleep(60)
    """)
    subprocess.run([sys.executable, "-c", count, "exit"], env=env, check=True, cwd=ROOT, timeout=60)
    stay = subprocess.Popen([sys.executable, "-c", count, "stay"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert stay.stdout.readline().strip() == "ready"
        show = "from dianshu.observability import metrics; print(metrics.render().decode())"
        out = subprocess.run(
            [sys.executable, "-c", show], env=env, check=True, cwd=ROOT, timeout=60, capture_output=True, text=True
        ).stdout
        got = scraped(out)
        assert got[("dianshu_job_failures_total", (("kind", "obs.kind"),))] == 2
        # The exited process's live gauge is gone once marked dead; here both wrote and neither was marked.
        assert got[("dianshu_db_pool_size", ())] >= 5
        pids = {dict(labels)["pid"] for name, labels in got if name == "process_resident_memory_bytes"}
        assert str(stay.pid) in pids
    finally:
        stay.kill()
        stay.wait()


def test_worker_metrics_env_points_every_process_at_one_emptied_directory(tmp_path):
    from dianshu_workers.main import worker_metrics_env
    from dianshu_workers.metrics import DRAMATIQ_DB_ENV, METRICS_ENV

    stale = tmp_path / "counter_1.db"
    stale.write_bytes(b"old")
    env = {metrics.MULTIPROC_ENV: str(tmp_path)}
    assert worker_metrics_env(env) == str(tmp_path)
    assert env[DRAMATIQ_DB_ENV] == str(tmp_path) and env[METRICS_ENV] == "1" and not stale.exists()
    fresh: dict[str, str] = {}
    directory = worker_metrics_env(fresh)
    assert os.path.isdir(directory) and fresh[metrics.MULTIPROC_ENV] == directory


def test_only_dramatiq_worker_processes_add_the_prometheus_middleware():
    from dramatiq.middleware.prometheus import Prometheus

    from dianshu_workers.actors import setup_broker
    from dianshu_workers.metrics import WorkerObservability, serve_metrics

    assert not any(isinstance(m, Prometheus) for m in setup_broker().middleware)  # the API's dispatcher
    assert WorkerObservability().forks == [serve_metrics]


async def test_metrics_need_a_token(prod):
    assert (await prod.client.get("/metrics")).status_code == 401


@pytest.mark.usefixtures("job_queue_of_its_own")
async def test_a_worker_pod_serves_every_processs_metrics_on_its_port(db, city, test_database):
    """`dianshu worker --processes 2`: Dramatiq's Prometheus middleware and the platform's job
    metrics, summed over both processes, at the worker's metrics port; process_* by pid."""
    import httpx

    from tests.drills import job_state, kill, start_worker
    from tests.test_drill import drill_setup

    env, broker = drill_setup("embedded", 0)
    port = int(env["DIANSHU_WORKER_METRICS_PORT"])
    worker = start_worker(env, processes=2, threads=1, stderr=subprocess.DEVNULL)
    try:
        scope = scope_for(Role.region_admin, (city.a,))
        bad = [{"id": f"H{city.a}00071", "name": "", "level": 4, "type": "general"}]
        ids = []
        for params in ({"hospitals": roster(city.a, 72)}, {"hospitals": bad}):
            async with scoped_session(db, scope) as s:
                job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, params)
            ids.append(job.id)
        kind = IMPORT_HOSPITALS
        # Other tests' leftover jobs are closed first (job_queue_of_its_own), so these are this
        # test's two; compared as lower bounds because the counters are cumulative per process.
        want = {
            ("dramatiq_messages_total", (("actor_name", kind), ("queue_name", "jobs"))): 2,
            ("dianshu_job_seconds_count", (("kind", kind), ("outcome", "succeeded"))): 1,
            ("dianshu_job_failures_total", (("kind", kind),)): 1,
        }
        got: dict = {}
        async with httpx.AsyncClient() as client:
            for _ in range(1200):  # at most two minutes: the worker boots, runs both jobs, counts them
                try:
                    got = scraped((await client.get(f"http://127.0.0.1:{port}/metrics")).text)
                except httpx.HTTPError:
                    got = {}
                states = [(await job_state(db, city.a, i)).status for i in ids]
                if states == ["succeeded", "failed"] and all(got.get(k, 0) >= v for k, v in want.items()):
                    break
                await asyncio.sleep(0.1)
        assert {k: min(got.get(k, 0), v) for k, v in want.items()} == want, got
        assert states == ["succeeded", "failed"]
        pids = {dict(labels)["pid"] for name, labels in got if name == "process_resident_memory_bytes"}
        assert len(pids) >= 2  # both worker processes (and the exposition process)
    finally:
        kill(worker)
        jobs.set_dispatcher(None)
        broker.close()


def test_every_route_but_the_portals_front_door_is_counted_under_its_own_path(settings, db):
    """Request counts and latency are labelled by path prefix: each route the API serves falls
    under a prefix of its own, never `other` (statements and reports were once counted there)."""
    import re

    from starlette.routing import Mount

    from dianshu_graphql.app import CountRequests
    from tests.api import Api

    unlabelled = []
    for route in Api(settings, db).app.routes:
        path = re.sub(r"\{[^}]+\}", "x", route.path) + ("/x" if isinstance(route, Mount) else "")
        dev_only = path.startswith("/graphiql")  # GraphiQL's assets, served in the dev profile only
        if path not in ("/", "/favicon.ico") and not dev_only and CountRequests.label(path) == "other":
            unlabelled.append(path)
    assert unlabelled == []
    assert CountRequests.label("/statements/T/R/H.pdf") == "/statements"
    assert CountRequests.label("/no/such/place") == "other"
