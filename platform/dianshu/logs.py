"""Structured logging: readable console lines in dev, JSON lines in prod, on stderr; stdlib loggers
(uvicorn, dramatiq, sqlalchemy) go through the same renderer.

Every line carries the context bound for the work under way (structlog's contextvars): a request's
`request_id` (its X-Request-ID), and once its bearer token is verified `tenant`, `user` (the token's
subject), `role` (and `hospital`); a job's `job_id`, `kind` and `tenant`. Fields passed as `extra=`
to a stdlib logger are kept too."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars

from dianshu.config import Profile

__all__ = ["bind_principal", "bind_request", "clear_contextvars", "configure", "job_context"]


def configure(profile: Profile, level: int = logging.INFO) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON: a traceback as one "exception" string; the console renderer prints its own.
    renderers: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if profile is Profile.prod
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries: their INFO lines are connection bookkeeping.
    for noisy in ("pika", "asyncio", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def bind_request(request_id: str) -> None:
    """A new request: only its id is bound (nothing left from whatever ran before in this context)."""
    clear_contextvars()
    bind_contextvars(request_id=request_id)


def bind_principal(principal: Any) -> None:
    """Who is asking, once their token is verified (dianshu_tenants.identity.Principal)."""
    fields: dict[str, Any] = {
        "tenant": ",".join(principal.tenant_ids),
        "user": principal.subject,
        "role": principal.role.value,
    }
    if principal.hospital_id:
        fields["hospital"] = principal.hospital_id
    bind_contextvars(**fields)


@contextmanager
def job_context(job_id: Any, kind: str, tenant: str, user: str | None = None) -> Iterator[None]:
    """The job's fields on every line logged while it runs (restored afterwards); `user`: who
    submitted it (the job's created_by), as a request's lines name who asked."""
    fields = {"job_id": str(job_id), "kind": kind, "tenant": tenant}
    if user:
        fields["user"] = user
    with bound_contextvars(**fields):
        yield
