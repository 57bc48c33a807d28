"""What every job actor shares: run the job idempotently under its tenant, and the sweeper."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import uuid

import dramatiq
from dramatiq.middleware import Middleware

from dianshu.config import get_settings
from dianshu.db.session import Database
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.service import execute, set_dispatcher, sweep
from dianshu.observability import tracing
from dianshu.observability.metrics import set_queue_depths
from dianshu_workers.broker import JOBS_QUEUE, queue_depths
from dianshu_workers.runtime import database

log = logging.getLogger(__name__)

# job kind -> actor; the dispatcher sends by kind.
ACTORS: dict[str, dramatiq.Actor] = {}

# Set when this worker process begins to shut down (GracefulShutdown): a message it still gets
# then is not started (a stopping interpreter refuses new threads, and the job would fail on
# that), but raised back to Dramatiq, which retries it later, likely on another worker.
STOPPING = threading.Event()


class WorkerStopping(Exception):
    """This worker is shutting down: the job was not started; its message is retried."""


def job_actor(kind: str, *, time_limit_s: int, max_retries: int = 3) -> dramatiq.Actor:
    """Declare the actor for a job kind with an explicit time limit and retry count."""

    async def run(tenant_id: str, job_id: str, trace: dict[str, str] | None = None) -> None:
        # `trace`: the submitter's trace context (send_job). It travels in the message's kwargs, not
        # its options: Dramatiq's AsyncIO runs this on its event loop's thread, where the message
        # being processed (CurrentMessage) is out of reach.
        if STOPPING.is_set():
            raise WorkerStopping(f"job {job_id} ({kind}) not started: this worker is shutting down")
        settings = get_settings()
        with tracing.job_span(kind, tenant_id, job_id, trace):
            # The outcome lives on the job row (and execute logs it); the message result is not kept.
            await execute(database(), tenant_id, uuid.UUID(job_id), step_delay_s=settings.job_step_delay_ms / 1000)

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
    carrier = tracing.carrier()  # {} unless tracing is on
    if carrier:
        actor.send_with_options(args=(tenant_id, str(job_id)), kwargs={"trace": carrier})
    else:
        actor.send(tenant_id, str(job_id))


set_dispatcher(send_job)
set_queue_depths(queue_depths)


class SweeperMiddleware(Middleware):
    """Runs the outbox/stale-job sweep in each worker process: once at boot, then periodically.

    Its thread owns its event loop and database and waits on an Event (no executor), so at shutdown
    it finishes the sweep under way, disposes of its connections and is joined before the process
    exits: nothing is left to run while the interpreter shuts down."""

    JOIN_TIMEOUT_S = 10.0

    def __init__(self, interval_s: float | None = None) -> None:
        self.interval_s = interval_s if interval_s is not None else get_settings().sweep_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="dianshu-sweeper", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.JOIN_TIMEOUT_S)
            self._thread = None

    def _loop(self) -> None:
        settings = get_settings()
        loop = asyncio.new_event_loop()
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            while not self._stop.is_set():
                try:
                    n = loop.run_until_complete(
                        sweep(
                            db,
                            unsent_grace_s=settings.job_unsent_grace_s,
                            stale_after_s=settings.job_stale_after_s,
                            resend_after_s=settings.job_resend_after_s,
                        )
                    )
                    if n:
                        log.info("sweeper re-sent %d jobs", n)
                except Exception:
                    log.exception("sweep failed")
                self._stop.wait(self.interval_s)
        finally:
            try:
                loop.run_until_complete(db.dispose())
            finally:
                loop.close()


class GracefulShutdown(Middleware):
    """A worker given SIGTERM stops taking messages and lets running jobs finish within
    `worker_shutdown_timeout_s` (Dramatiq's --worker-shutdown-timeout). A job still running then is
    given back: the process exits without acknowledging its message, so the broker redelivers it
    (Redis once this worker's heartbeat expires, RabbitMQ when the connection closes) and the job,
    whose effect commits with its completion, is done again from the start; its open transaction
    rolls back when the connection drops. Exiting directly skips tearing down the event loop under a
    running coroutine, which is what printed tracebacks and kept the process alive."""

    def __init__(self) -> None:
        self._running = 0
        self._lock = threading.Lock()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        STOPPING.clear()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        with self._lock:
            self._running += 1

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message, *, result=None, exception=None):
        with self._lock:
            self._running -= 1

    after_skip_message = after_process_message

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        STOPPING.set()
        # Runs before the AsyncIO middleware's after_worker_shutdown stops the event loop: when the
        # grace has run out with jobs still running, this is the last moment to leave cleanly.
        threading.Thread(target=self._exit_when_stuck, args=(worker,), name="dianshu-shutdown", daemon=True).start()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._give_back_if_running()

    def _exit_when_stuck(self, worker: dramatiq.Worker) -> None:
        # Dramatiq joins its worker and then its consumer threads, each up to the timeout; past one
        # timeout (plus a little) with jobs still running, nothing more will finish.
        time.sleep(get_settings().worker_shutdown_timeout_s + 2.0)
        self._give_back_if_running()

    def _give_back_if_running(self) -> None:
        with self._lock:
            running = self._running
        if running and os.environ.get("DIANSHU_WORKER_GIVES_BACK") == "1":  # set by main.run_worker
            log.warning("shutting down with %d running job(s): giving their messages back to the broker", running)
            logging.shutdown()
            sys.stderr.flush()
            os._exit(0)
