"""Run workers: check the database role, then hand over to Dramatiq's own process manager."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import MutableMapping

from dianshu.config import get_settings
from dianshu.db.guard import check_runtime_role
from dianshu_workers.broker import QUEUES

GIVE_BACK_ENV = "DIANSHU_WORKER_GIVES_BACK"
# Dramatiq's own setting (read by each worker process): messages a process takes off the queue
# before a thread is free for them. Its default, twice the threads, parks a job (seconds to
# minutes long) behind another on a busy process while another process sits idle.
PREFETCH_ENV = "dramatiq_queue_prefetch"
# Dramatiq's own setting too: the longest a consumer sleeps between polls of the queue. While a
# process's threads are all busy its consumer backs off to this; at Dramatiq's default (1 s) a
# process that finished a job sat idle half a second on average before taking the next.
POLL_ENV = "dramatiq_worker_timeout"
POLL_MS = 100


def worker_metrics_env(env: MutableMapping[str, str]) -> str:
    """Every worker process writes its metrics to one emptied directory, set before any of them
    imports prometheus_client (dianshu_workers.metrics); returns it."""
    from dianshu.observability.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
    from dianshu_workers.metrics import DRAMATIQ_DB_ENV, METRICS_ENV

    directory = prepare_multiprocess_dir(env.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="dianshu-worker-metrics-"))
    env[MULTIPROC_ENV] = env[DRAMATIQ_DB_ENV] = directory
    env[METRICS_ENV] = "1"
    return directory


def queue_prefetch(threads: int) -> int:
    """A process holds no more jobs than it has threads to run them."""
    return threads


def run_worker(processes: int | None = None, threads: int | None = None, *, queues: list[str] | None = None) -> None:
    """`queues`: the queues this worker consumes (the chart's queue group); by default every queue."""
    settings = get_settings()
    unknown = sorted(set(queues or ()) - set(QUEUES))
    if unknown:
        raise ValueError(f"queues: no actor uses {', '.join(unknown)} (the queues are {', '.join(QUEUES)})")
    check_runtime_role(settings.runtime_url())
    threads = threads or settings.worker_threads
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "dianshu_workers.actors",
        "--processes",
        str(processes or settings.worker_processes),
        "--threads",
        str(threads),
        "--queues",
        *(queues or QUEUES),
        # Dramatiq's default waits 10 minutes for running jobs: past any grace period, so the
        # platform would kill the worker mid-job. GracefulShutdown gives back what is still running.
        "--worker-shutdown-timeout",
        str(int(settings.worker_shutdown_timeout_s * 1000)),
    ]
    # Only Dramatiq's own worker processes give running jobs back by exiting (not the demo's in-process worker).
    os.environ[GIVE_BACK_ENV] = "1"
    worker_metrics_env(os.environ)
    os.environ.setdefault(PREFETCH_ENV, str(queue_prefetch(threads)))
    os.environ.setdefault(POLL_ENV, str(POLL_MS))
    os.execv(sys.executable, args)  # noqa: S606  (replace this process with Dramatiq's manager)


def start_in_process(threads: int = 2):
    """A Dramatiq worker in this process (the demo); returns it, call .stop() when done."""
    import dramatiq

    from dianshu_workers.actors import setup_broker

    settings = get_settings()
    check_runtime_role(settings.runtime_url())
    worker = dramatiq.Worker(setup_broker(), worker_threads=threads, queues=set(QUEUES), worker_timeout=POLL_MS)
    worker.queue_prefetch = queue_prefetch(threads)  # read when its consumers start
    worker.start()
    return worker
