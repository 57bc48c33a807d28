"""What the failure drills share: real worker processes (the `dianshu` CLI), a loopback proxy
(tests/proxy.py) in front of the broker or the database, job rows read straight from the database
(never through the proxy), and `job_metrics_snapshot`: the jobs' outcomes and retries by kind as the
job rows record them, the figures a jobs metric must agree with."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dramatiq import Message
from sqlalchemy import case, func, select, update
from sqlalchemy.engine import make_url

from dianshu.config import Settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs.models import Job
from dianshu.scope import Scope
from dianshu.tenancy.models import Tenant
from dianshu_workers.broker import JOBS_QUEUE, make_broker
from tests.brokers import broker_env
from tests.proxy import TcpProxy

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def start_worker(env: dict[str, str], *, processes: int = 1, threads: int = 2, stderr=None) -> subprocess.Popen:
    """`dianshu worker` in a session of its own (kill() takes its whole process group). Its stderr
    goes to a temporary file unless given (`worker_log` reads it): a pipe nobody reads would stall
    a worker that logs more than the pipe holds."""
    log = None
    if stderr is None:
        log = tempfile.NamedTemporaryFile(prefix="dianshu-worker-", suffix=".log", delete=False)
        stderr = log
    proc = subprocess.Popen(
        [DIANSHU, "worker", "--processes", str(processes), "--threads", str(threads)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    if log is not None:
        log.close()  # the child holds its own descriptor
        _LOGS[proc.pid] = Path(log.name)
    return proc


_LOGS: dict[int, Path] = {}


def worker_log(proc: subprocess.Popen, tail: int = 4000) -> str:
    """The end of what a worker started by start_worker wrote to stderr, and whether it still runs."""
    path = _LOGS.get(proc.pid)
    text = path.read_text(errors="replace")[-tail:] if path and path.exists() else "(stderr not kept)"
    return f"worker pid {proc.pid} exit {proc.poll()}:\n{text}"


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's whole process group (Dramatiq's manager and its worker process)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    path = _LOGS.pop(proc.pid, None)
    if path is not None:
        path.unlink(missing_ok=True)


async def job_state(db: Database, tenant: str, job_id: uuid.UUID) -> Job:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(Job).where(Job.id == job_id))).scalar_one()


async def wait_for(
    db: Database, tenant: str, job_id: uuid.UUID, predicate, timeout_s: float, workers: tuple = ()
) -> Job:
    """The job's row once `predicate(row)` holds; on time-out, an error with the row's state and
    the stderr of `workers` (the processes that should have run it)."""
    deadline = time.monotonic() + timeout_s
    row = None
    while time.monotonic() < deadline:
        row = await job_state(db, tenant, job_id)
        if predicate(row):
            return row
        if final(row):
            raise AssertionError(f"job {job_id} ended {row.status} ({row.error}) before the awaited state")
        await asyncio.sleep(0.02)
    state = f"{row.status} attempts {row.attempts} progress {row.progress_done} {row.message}" if row else "no row"
    if row is not None:
        state += f" enqueued {row.enqueued_at} started {row.started_at} heartbeat {row.heartbeat_at}"
    logs = "\n".join([*(worker_log(w) for w in workers), *(_broker_state(b) for b in _SENDERS)])
    raise AssertionError(f"job {job_id} did not reach the state in {timeout_s}s: {state}\n{logs}")


def _broker_state(broker) -> str:
    """What a Redis broker the drill sends through holds: its server, clients and queue."""
    client = getattr(broker, "client", None)
    if client is None:
        return f"broker {type(broker).__name__}"
    try:
        ns = broker.namespace
        server = client.info("server")
        return (
            f"redis pid {server.get('process_id')} clients {len(client.client_list())} socket "
            f"{getattr(client, 'socket_file', None)}: {ns}:jobs {client.llen(f'{ns}:jobs')} queued, "
            f"{client.hlen(f'{ns}:jobs.msgs')} messages; keys {sorted(k.decode() for k in client.keys(f'{ns}*'))}"
        )
    except Exception as e:  # a diagnostic: never hide the assertion behind it
        return f"redis broker state unavailable: {e!r}"


_SENDERS: list = []  # the brokers sender() made (diagnostics for wait_for)


async def close_jobs_left_unfinished(db: Database) -> int:
    """Fail every job still queued or running in the test database; returns how many. A drill's
    worker sweeps the whole database, as a real one sweeps every tenant: jobs that earlier tests on
    this xdist worker left in the outbox (no dispatcher, a refused send) would be sent by it, run in
    its threads and hold them (a CI run saw 8 imports succeed where the drill sent 2, and a drill's
    job wait 45 s queued behind them). Tests on one xdist worker run one at a time, so none of these
    is still in use."""
    async with db.session(None) as s:
        tenants = [t for (t,) in (await s.execute(select(Tenant.code))).all()]
    if not tenants:
        return 0
    async with db.session(Scope.system(tenants, actor="drill")) as s, s.begin():
        closed = await s.execute(
            update(Job)
            .where(Job.status.in_(("queued", "running")))
            .values(status="failed", error={"code": "left_unfinished_by_an_earlier_test"}, finished_at=func.now())
        )
    return closed.rowcount


def final(row: Job) -> bool:
    return row.status in ("succeeded", "failed")


@dataclass(frozen=True)
class KindFigures:
    """One job kind's figures in a set of tenants, from the job rows."""

    jobs: int
    succeeded: int
    failed: int
    unfinished: int  # queued or running
    attempts: int  # executions started, summed
    retries: int  # executions beyond each job's first, summed


async def job_metrics_snapshot(db: Database, tenants: tuple[str, ...]) -> dict[str, KindFigures]:
    """The jobs' outcomes and retries by kind as the job table records them: what a drill expects
    the jobs metrics (failures and retries by kind) to show."""
    async with scoped_session(db, Scope.system(tenants)) as s:
        rows = (
            await s.execute(
                select(
                    Job.kind,
                    func.count(),
                    func.count().filter(Job.status == "succeeded"),
                    func.count().filter(Job.status == "failed"),
                    func.count().filter(Job.status.in_(("queued", "running"))),
                    func.coalesce(func.sum(Job.attempts), 0),
                    func.coalesce(func.sum(case((Job.attempts > 1, Job.attempts - 1), else_=0)), 0),
                )
                .where(Job.tenant_id.in_(tenants))
                .group_by(Job.kind)
            )
        ).all()
    return {kind: KindFigures(*(int(v) for v in values)) for kind, *values in rows}


def worker_job_metrics(env: dict[str, str], kind: str, until, timeout_s: float = 10.0) -> dict:
    """What the worker started with `env` serves on its metrics port for job `kind`: jobs by
    outcome (the `dianshu_job_seconds` counts) and its `dianshu_job_failures_total` /
    `dianshu_job_retries_total`. Polled until `until(reading)` holds (a job's counters are written
    just after its row is final), then returned; the last reading otherwise, for the assertion."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{env['DIANSHU_WORKER_METRICS_PORT']}/metrics"
    deadline = time.monotonic() + timeout_s
    while True:
        seen: dict[str, float] = {}
        with contextlib.suppress(httpx.HTTPError):
            for family in text_string_to_metric_families(httpx.get(url, timeout=2).text):
                for sample in family.samples:
                    if sample.labels.get("kind") != kind:
                        continue
                    if sample.name == "dianshu_job_seconds_count":
                        seen[sample.labels["outcome"]] = seen.get(sample.labels["outcome"], 0) + sample.value
                    elif sample.name in ("dianshu_job_failures_total", "dianshu_job_retries_total"):
                        seen[sample.name] = seen.get(sample.name, 0) + sample.value
        if until(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def workers_counter(envs: list[dict[str, str]], name: str, labels: dict[str, str], until, timeout_s: float = 10.0):
    """The sample `name` with `labels` summed over what the workers started with `envs` serve on
    their metrics ports (a worker that does not answer counts 0). Polled until `until(total)` holds,
    then returned; the last reading otherwise, for the assertion."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    deadline = time.monotonic() + timeout_s
    while True:
        total = 0.0
        for env in envs:
            url = f"http://127.0.0.1:{env['DIANSHU_WORKER_METRICS_PORT']}/metrics"
            with contextlib.suppress(httpx.HTTPError):
                for family in text_string_to_metric_families(httpx.get(url, timeout=2).text):
                    for sample in family.samples:
                        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                            total += sample.value
        if until(total) or time.monotonic() > deadline:
            return total
        time.sleep(0.1)


def free_port() -> int:
    """A loopback port nothing listens on now: each drill's worker serves its metrics on its own."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(broker_vars: dict[str, str], step_delay_ms: int, **extra: str) -> dict[str, str]:
    """A worker environment that makes a drill quick: slow steps (time to act mid-job), short
    heartbeats, a fast sweep that re-sends unsent jobs after a second."""
    env = {
        **os.environ,
        **broker_vars,
        "DIANSHU_JOB_STEP_DELAY_MS": str(step_delay_ms),
        "DIANSHU_BROKER_HEARTBEAT_MS": "2000",
        "DIANSHU_JOB_STALE_AFTER_S": "2",
        # The drill's sweeper sweeps the whole test database: tests leave no job queued unsent for it.
        "DIANSHU_JOB_UNSENT_GRACE_S": "1",
        "DIANSHU_SWEEP_INTERVAL_S": "0.5",
        # Workers run side by side: each its own metrics port and (multiprocess) directory.
        "DIANSHU_WORKER_METRICS_PORT": str(free_port()),
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for k in ("REDIS_URL", "AMQP_URL"):
        if k not in broker_vars:
            env.pop(k, None)
    return env


def sender(broker_vars: dict[str, str], **settings_: object):
    """A broker in this process sending job messages as the API does; returns (broker, send)."""
    settings = Settings(
        **{k.lower(): v for k, v in broker_vars.items() if k != "DIANSHU_BROKER_NAMESPACE"},
        broker_namespace=broker_vars["DIANSHU_BROKER_NAMESPACE"],
        **settings_,
    )
    broker = make_broker(settings)
    _SENDERS[:] = [broker]

    def send(tenant_id, kind, job_id):
        broker.enqueue(
            Message(queue_name=JOBS_QUEUE, actor_name=kind, args=(tenant_id, str(job_id)), kwargs={}, options={})
        )

    return broker, send


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{port}", parts.path, parts.query, parts.fragment))


@contextlib.contextmanager
def broker_behind_proxy(kind: str) -> Iterator[tuple[TcpProxy, dict[str, str]]]:
    """The drill's broker variables (tests/brokers.py) with its URL pointing at a proxy in front of
    the broker: the embedded Redis (its unix socket), the local Redis or the local RabbitMQ."""
    env = broker_env(kind)
    if kind == "embedded":
        from dianshu.embedded import embedded_redis

        target: tuple[str, int] | str = embedded_redis(Settings().state_dir).socket_file
        proxy = TcpProxy(target)
        env["REDIS_URL"] = f"redis://127.0.0.1:{proxy.port}/0"
    else:
        key = "REDIS_URL" if "REDIS_URL" in env else "AMQP_URL"
        parts = urlsplit(env[key])
        proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or (6379 if key == "REDIS_URL" else 5672)))
        env[key] = _via(env[key], proxy.port)
    try:
        yield proxy, env
    finally:
        proxy.close()


@contextlib.contextmanager
def database_behind_proxy(url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the database of `url` (TCP, or the embedded server's unix socket);
    yields it and `url` rewritten to go through it."""
    u = make_url(url)
    socket_dir = u.query.get("host")
    if socket_dir:
        target: tuple[str, int] | str = f"{socket_dir}/.s.PGSQL.{u.port or 5432}"
    else:
        target = (u.host or "127.0.0.1", u.port or 5432)
    proxy = TcpProxy(target)
    via = u.set(host="127.0.0.1", port=proxy.port, query={k: v for k, v in u.query.items() if k != "host"})
    try:
        yield proxy, via.render_as_string(hide_password=False)
    finally:
        proxy.close()
