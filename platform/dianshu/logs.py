"""Structured logging: readable console lines in dev, JSON lines in prod; stdlib loggers
(uvicorn, dramatiq, sqlalchemy) go through the same renderer."""

from __future__ import annotations

import logging
import sys

import structlog

from dianshu.config import Profile


def configure(profile: Profile, level: int = logging.INFO) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    renderer = (
        structlog.processors.JSONRenderer() if profile is Profile.prod else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries: their INFO lines are connection bookkeeping.
    for noisy in ("pika", "asyncio", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
