"""The app factory of `dianshu serve --workers N`: each server process imports this and builds its
own app from the environment's settings (the same the parent read)."""

from __future__ import annotations

import logging
import os
import tempfile

from starlette.applications import Starlette


def multiprocess_metrics() -> str:
    """Point this process's children at an emptied metrics directory (PROMETHEUS_MULTIPROC_DIR as
    set, or a new one under the temporary directory) and return it."""
    from dianshu.observability.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    directory = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="dianshu-api-metrics-")
    os.environ[MULTIPROC_ENV] = prepare_multiprocess_dir(directory)
    return directory


def app() -> Starlette:
    from dianshu.config import get_settings
    from dianshu.logs import configure
    from dianshu_graphql.app import create_app
    from dianshu_workers.actors import ACTORS  # noqa: F401  (configures the job dispatcher)

    settings = get_settings()
    configure(settings.profile, logging.INFO)
    return create_app(settings)
