"""Worker metrics and tracing. Every `dianshu worker` process writes its samples to one
prometheus_client multiprocess directory (PROMETHEUS_MULTIPROC_DIR, emptied and set by run_worker
before Dramatiq starts): Dramatiq's own Prometheus middleware (dramatiq_messages_total,
dramatiq_message_errors_total, dramatiq_message_retries_total, dramatiq_messages_inprogress,
dramatiq_message_duration_milliseconds, by queue and actor, the actor being the job kind) and the
platform's (dianshu_job_*, the pools: dianshu.observability.metrics). One exposition process of the
worker (a Dramatiq fork) serves their sum, with each live process's process_* figures, at
http://<pod>:DIANSHU_WORKER_METRICS_PORT/metrics. The outbox and queue-depth gauges are the API's
(read when it is scraped), not repeated here."""

from __future__ import annotations

import logging
from http.server import ThreadingHTTPServer

from dramatiq.middleware.prometheus import Prometheus
from prometheus_client.exposition import MetricsHandler

from dianshu.config import get_settings
from dianshu.observability import metrics, tracing

log = logging.getLogger(__name__)

# Set by run_worker for Dramatiq's worker processes: only they add WorkerObservability.
METRICS_ENV = "DIANSHU_WORKER_METRICS"
# Dramatiq's Prometheus middleware's own setting: its multiprocess directory (the same as ours).
DRAMATIQ_DB_ENV = "dramatiq_prom_db"
HOST = "0.0.0.0"  # noqa: S104  (the pod's port; the chart's NetworkPolicy admits Prometheus only)


class WorkerObservability(Prometheus):
    """Dramatiq's Prometheus middleware with our exposition (the platform's metrics and every
    process's process_* figures beside Dramatiq's), and tracing set up as each worker process boots
    (before its first job opens a database, so the engines are traced)."""

    @property
    def forks(self):
        return [serve_metrics]

    def after_process_boot(self, broker):
        super().after_process_boot(broker)
        tracing.setup(get_settings(), "worker")


class _Handler(MetricsHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug(format, *args)


def serve_metrics() -> int:
    """The worker pod's exposition process (a Dramatiq fork): serves until the worker stops."""
    port = get_settings().worker_metrics_port
    handler = _Handler.factory(metrics.scrape_registry())
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as e:
        # Another worker on this host has the port: the jobs run on, only this exposition is missing.
        log.error("worker metrics not served: port %d: %s (set DIANSHU_WORKER_METRICS_PORT)", port, e)
        return 1
    log.info("worker metrics on port %d", port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
