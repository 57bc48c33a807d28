"""Run workers: check the database role, then hand over to Dramatiq's own process manager."""

from __future__ import annotations

import os
import sys

from dianshu.config import get_settings
from dianshu.db.guard import check_runtime_role


def run_worker(processes: int | None = None, threads: int | None = None) -> None:
    settings = get_settings()
    check_runtime_role(settings.runtime_url())
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "dianshu_workers.actors",
        "--processes",
        str(processes or settings.worker_processes),
        "--threads",
        str(threads or settings.worker_threads),
        "--queues",
        "jobs",
    ]
    os.execv(sys.executable, args)  # noqa: S606  (replace this process with Dramatiq's manager)


def start_in_process(threads: int = 2):
    """A Dramatiq worker in this process (the demo); returns it, call .stop() when done."""
    import dramatiq

    from dianshu_workers.actors import setup_broker

    settings = get_settings()
    check_runtime_role(settings.runtime_url())
    worker = dramatiq.Worker(setup_broker(), worker_threads=threads, queues={"jobs"})
    worker.start()
    return worker
