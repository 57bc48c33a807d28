"""What every job actor shares: run the job idempotently under its tenant, and the sweeper."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

import dramatiq
from dramatiq.middleware import Middleware

from dianshu.config import get_settings
from dianshu.db.session import Database
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.service import execute, set_dispatcher, sweep
from dianshu_workers.broker import JOBS_QUEUE
from dianshu_workers.runtime import database

log = logging.getLogger(__name__)

# job kind -> actor; the dispatcher sends by kind.
ACTORS: dict[str, dramatiq.Actor] = {}


def job_actor(kind: str, *, time_limit_s: int, max_retries: int = 3) -> dramatiq.Actor:
    """Declare the actor for a job kind with an explicit time limit and retry count."""

    async def run(tenant_id: str, job_id: str) -> None:
        settings = get_settings()
        outcome = await execute(
            database(), tenant_id, uuid.UUID(job_id), step_delay_s=settings.job_step_delay_ms / 1000
        )
        # The outcome lives on the job row; the message result is not kept.
        log.info("job %s (%s, %s): %s", job_id, kind, tenant_id, outcome)

    run.__name__ = kind.replace(".", "_")
    act = dramatiq.actor(
        run,
        actor_name=kind,
        queue_name=JOBS_QUEUE,
        time_limit=time_limit_s * 1000,
        max_retries=max_retries,
        min_backoff=1_000,
        max_backoff=60_000,
        throws=(JobRejected,),
    )
    ACTORS[kind] = act
    return act


def send_job(tenant_id: str, kind: str, job_id: uuid.UUID) -> None:
    try:
        actor = ACTORS[kind]
    except KeyError:
        raise KeyError(f"no actor for job kind {kind!r}") from None
    actor.send(tenant_id, str(job_id))


set_dispatcher(send_job)


class SweeperMiddleware(Middleware):
    """Runs the outbox/stale-job sweep in each worker process: once at boot, then periodically."""

    def __init__(self, interval_s: float | None = None) -> None:
        self.interval_s = interval_s if interval_s is not None else get_settings().sweep_interval_s
        self._stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        threading.Thread(target=self._loop, name="dianshu-sweeper", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()

    def _loop(self) -> None:
        settings = get_settings()

        async def main() -> None:
            db = Database(settings.runtime_url(), pool_size=1)
            try:
                while not self._stop.is_set():
                    try:
                        n = await sweep(db, stale_after_s=settings.job_stale_after_s)
                        if n:
                            log.info("sweeper re-sent %d jobs", n)
                    except Exception:
                        log.exception("sweep failed")
                    await asyncio.get_running_loop().run_in_executor(None, self._stop.wait, self.interval_s)
            finally:
                await db.dispose()

        asyncio.run(main())
