"""Every actor, declared against the configured broker. Import this module to get them all."""

import os

from dianshu_workers.broker import setup_broker

setup_broker()

from dianshu_workers.actors import (  # noqa: E402
    analytics,
    cases,
    evaluation,
    grouping,
    national,
    settlement,
    standards,
    supervision,
    tenancy,
)
from dianshu_workers.actors.base import ACTORS, GracefulShutdown, SweeperMiddleware  # noqa: E402
from dianshu_workers.metrics import METRICS_ENV, WorkerObservability  # noqa: E402

setup_broker().add_middleware(SweeperMiddleware())
setup_broker().add_middleware(GracefulShutdown())
if os.environ.get(METRICS_ENV) == "1":  # Dramatiq's worker processes (run_worker), not the API's dispatcher
    setup_broker().add_middleware(WorkerObservability())

__all__ = ["ACTORS", "cases", "evaluation", "grouping", "national", "settlement", "standards", "supervision", "tenancy"]
__all__ = [
    "ACTORS",
    "analytics",
    "cases",
    "evaluation",
    "grouping",
    "settlement",
    "standards",
    "supervision",
    "tenancy",
]
