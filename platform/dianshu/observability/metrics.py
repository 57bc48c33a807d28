"""Every Prometheus metric of the platform: its name, labels and help here and nowhere else (the
README's table lists them), and their exposition.

Two modes, chosen by prometheus_client from the environment when it is first imported:
- one process (`dianshu serve`, the demo, tests): the families live in REGISTRY, with the process's
  own CPU/memory (ProcessCollector) and Python (PlatformCollector) metrics;
- several processes (`dianshu serve --workers N`, `dianshu worker`): PROMETHEUS_MULTIPROC_DIR is set
  before any process starts, each writes its samples to files there, and a scrape sums them
  (MultiProcessCollector) and reads every live process's /proc figures (LiveProcesses, label pid).

Gauges read from the database or the broker (the outbox, queue depth) are collected when scraped,
within a short timeout (`backlog`), never by a background loop. Label values are bounded: job kinds
and queues are the registry's; operation names are checked, truncated and capped (`operation_label`)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

# HTTP (the API's paths, a fixed list: CountRequests in dianshu_graphql.app).
HTTP_REQUESTS = Counter("dianshu_http_requests_total", "HTTP requests", ["path", "status"], registry=REGISTRY)
HTTP_SECONDS = Histogram("dianshu_http_request_seconds", "HTTP request latency", ["path"], registry=REGISTRY)
AUTH_FAILURES = Counter("dianshu_auth_failures_total", "Refused bearer tokens", registry=REGISTRY)

# GraphQL operations: parse, validation and execution of one operation.
GRAPHQL_SECONDS = Histogram(
    "dianshu_graphql_operation_seconds",
    "GraphQL operation latency by operation name and type",
    ["operation", "type"],
    registry=REGISTRY,
)
# source="result": a typed error of a result union (ValidationError, NotFound, ...: the client's
# mistake, answered as data); source="exception": a top-level error, kind = its extensions.code.
GRAPHQL_ERRORS = Counter(
    "dianshu_graphql_errors_total",
    "GraphQL errors by operation name, source (result: a typed error union member; exception: errors[]) and kind",
    ["operation", "source", "kind"],
    registry=REGISTRY,
)

# Whole responses of analytics-only queries (dianshu_graphql.response_cache): result="hit" answered
# from memory (still counted in dianshu_graphql_operation_seconds), "miss" executed (none kept, or
# the summaries changed since).
ANALYTICS_RESPONSE_CACHE = Counter(
    "dianshu_analytics_response_cache_total",
    "Analytics-only GraphQL queries by whether their whole response was kept (hit) or executed (miss)",
    ["result"],
    registry=REGISTRY,
)

# Jobs (dianshu.jobs.service.execute): one observation per attempt.
JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))
JOB_SECONDS = Histogram(
    "dianshu_job_seconds",
    "Job attempt duration by kind and outcome (succeeded, failed, retry)",
    ["kind", "outcome"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
JOB_FAILURES = Counter("dianshu_job_failures_total", "Jobs that failed for good, by kind", ["kind"], registry=REGISTRY)
JOB_RETRIES = Counter(
    "dianshu_job_retries_total", "Job attempts given back to the queue to retry, by kind", ["kind"], registry=REGISTRY
)
# A message delivered again (a broker's redelivery after a lost connection, the sweep's resend) that
# ran nothing: the job was running elsewhere (busy) or had ended (final). Not an attempt, not a retry.
JOB_SKIPPED = Counter(
    "dianshu_job_deliveries_skipped_total",
    "Job messages that ran nothing, by kind and why (busy: running elsewhere; final: already ended)",
    ["kind", "why"],
    registry=REGISTRY,
)

# The sweep's re-sends (dianshu.jobs.service.sweep), counted when the message went out: unsent (never
# sent: left in the outbox), lost (sent, or re-sent, long ago and never started), orphaned (running,
# its heartbeat stale: a dead worker's job taken over).
JOB_RESENT = Counter(
    "dianshu_jobs_resent_total",
    "Jobs the sweep sent again, by kind and reason (unsent, lost, orphaned)",
    ["kind", "reason"],
    registry=REGISTRY,
)

# Ingestion: rows of committed batches.
INGEST_ROWS = Counter(
    "dianshu_ingest_rows_total",
    "Settlement-list rows of committed ingestion batches by outcome (accepted, corrected, unchanged, refused)",
    ["outcome"],
    registry=REGISTRY,
)

# SQLAlchemy connection pools of this process (summed over live processes in multiprocess mode).
DB_POOL_SIZE = Gauge(
    "dianshu_db_pool_size", "Configured connections of the SQLAlchemy pools", registry=REGISTRY,
    multiprocess_mode="livesum",
)  # fmt: skip
DB_POOL_CHECKED_OUT = Gauge(
    "dianshu_db_pool_checked_out", "Connections checked out of the SQLAlchemy pools", registry=REGISTRY,
    multiprocess_mode="livesum",
)  # fmt: skip

# Collected when scraped (BacklogCollector), from the database and the broker.
OUTBOX_PENDING = "dianshu_outbox_pending"
OUTBOX_AGE = "dianshu_outbox_oldest_age_seconds"
QUEUE_DEPTH = "dianshu_queue_depth"
SOURCE_UP = "dianshu_metrics_source_up"

if not os.environ.get(MULTIPROC_ENV):
    # One process: its own figures (in multiprocess mode LiveProcesses reads every process's).
    REGISTRY.register(PROCESS_COLLECTOR)
    REGISTRY.register(PLATFORM_COLLECTOR)


# Operation names ---------------------------------------------------------------------------------

OPERATION_NAME_MAX = 64
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_operations: set[str] = set()
_operations_lock = threading.Lock()
_max_operations = 200


def configure(*, max_operations: int) -> None:
    global _max_operations
    _max_operations = max_operations


def operation_label(name: str | None) -> str:
    """The label of an operation name: `anonymous` for none, `invalid` for a name that is not a
    GraphQL name, at most 64 characters, and `other` once this process has seen the configured number
    of distinct names (a client inventing names cannot grow the series without bound)."""
    if not name:
        return "anonymous"
    name = name[:OPERATION_NAME_MAX]
    if not _NAME.fullmatch(name):
        return "invalid"
    with _operations_lock:
        if name in _operations:
            return name
        if len(_operations) >= _max_operations:
            return "other"
        _operations.add(name)
        return name


# Connection pools --------------------------------------------------------------------------------


def instrument_pool(engine: Any, size: int) -> Callable[[], None]:
    """Count `engine`'s configured and checked-out connections; returns what undoes it (dispose)."""
    from sqlalchemy import event

    def checkout(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.inc()

    def checkin(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.dec()

    sync = getattr(engine, "sync_engine", engine)
    event.listen(sync, "checkout", checkout)
    event.listen(sync, "checkin", checkin)
    DB_POOL_SIZE.inc(size)

    def undo() -> None:
        DB_POOL_SIZE.dec(size)
        event.remove(sync, "checkout", checkout)
        event.remove(sync, "checkin", checkin)

    return undo


# Scrape-time gauges ------------------------------------------------------------------------------


@dataclass
class Backlog:
    """What a scrape read from the database and the broker; a source that failed or took too long
    is reported down (dianshu_metrics_source_up 0) and its gauges left out."""

    outbox_pending: int | None = None
    outbox_age_s: float | None = None
    # (queue, state) -> messages; state: ready, delayed (a retry's backoff), dead (dead-lettered)
    queues: dict[tuple[str, str], int] | None = None
    up: dict[str, bool] = field(default_factory=dict)


QueueDepths = Callable[[], dict[tuple[str, str], int]]
# Set by the composition root that has a broker (dianshu_workers: the API imports the actors to send jobs).
_queue_depths: QueueDepths | None = None


def set_queue_depths(reader: QueueDepths | None) -> None:
    global _queue_depths
    _queue_depths = reader


def queue_depths() -> QueueDepths | None:
    return _queue_depths


async def backlog(
    read_outbox: Callable[[], Awaitable[tuple[int, float]]],
    queue_depths: Callable[[], dict[tuple[str, str], int]] | None,
    *,
    timeout_s: float,
) -> Backlog:
    """Read both sources concurrently, each within `timeout_s` (the broker's client is blocking: in a thread)."""
    out = Backlog()

    async def outbox() -> None:
        try:
            n, age = await asyncio.wait_for(read_outbox(), timeout_s)
            out.outbox_pending, out.outbox_age_s, out.up["outbox"] = n, age, True
        except Exception as e:  # a scrape reports the source down; it never fails
            log.warning("metrics: the outbox could not be read: %s", type(e).__name__)
            out.up["outbox"] = False

    async def queues() -> None:
        if queue_depths is None:
            return
        try:
            out.queues = await asyncio.wait_for(asyncio.to_thread(queue_depths), timeout_s)
            out.up["broker"] = True
        except Exception as e:
            log.warning("metrics: the broker's queues could not be read: %s", type(e).__name__)
            out.up["broker"] = False

    await asyncio.gather(outbox(), queues())
    return out


class BacklogCollector(Collector):
    def __init__(self, snapshot: Backlog) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        if s.outbox_pending is not None:
            yield GaugeMetricFamily(OUTBOX_PENDING, "Jobs committed but not yet sent to the queue", s.outbox_pending)
            yield GaugeMetricFamily(
                OUTBOX_AGE, "Age of the oldest job committed but not yet sent (0: none)", s.outbox_age_s or 0.0
            )
        if s.queues is not None:
            depth = GaugeMetricFamily(
                QUEUE_DEPTH,
                "Messages in the broker's queues by state (ready, delayed, dead)",
                labels=["queue", "state"],
            )
            for (queue, state), n in sorted(s.queues.items()):
                depth.add_metric([queue, state], n)
            yield depth
        up = GaugeMetricFamily(SOURCE_UP, "1 when the scrape read the source in time", labels=["source"])
        for source, ok in sorted(s.up.items()):
            up.add_metric([source], 1.0 if ok else 0.0)
        yield up


# Exposition --------------------------------------------------------------------------------------

_PID_FILE = re.compile(r"_(\d+)\.db$")


class LiveProcesses(Collector):
    """process_* figures (CPU, memory, open files) of every live process writing to the
    multiprocess directory, labelled by pid: in multiprocess mode a process's own collector would
    describe only the process answering the scrape."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def pids(self) -> list[int]:
        found = set()
        for name in os.listdir(self.directory):
            m = _PID_FILE.search(name)
            if m:
                found.add(int(m.group(1)))
        live = []
        for pid in sorted(found):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            live.append(pid)
        return live

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for pid in self.pids():
            for family in ProcessCollector(pid=lambda p=pid: p, registry=None).collect():
                target = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from merged.values()


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def render(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition: this process's families (or every process's, in multiprocess mode) and `extra`."""
    return generate_latest(scrape_registry(extra))


def scrape_registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
        registry.register(LiveProcesses(directory))
    else:
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return registry


def prepare_multiprocess_dir(directory: str) -> str:
    """Make `directory` empty for a new set of processes (samples of a previous run would be summed in)."""
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    return directory


def mark_process_dead(pid: int | None = None) -> None:
    """Drop this (or `pid`'s) live gauges from the multiprocess directory when it stops."""
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid(), directory)
