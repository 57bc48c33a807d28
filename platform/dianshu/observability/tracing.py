"""OpenTelemetry tracing: on when an OTLP endpoint is configured (DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT,
or the standard OTEL_EXPORTER_OTLP_ENDPOINT), off by default. Off, nothing of OpenTelemetry is
imported and nothing is wrapped: every function here returns at its first line.

On: a server span per HTTP request (the ASGI middleware), a span per SQL statement of every
SQLAlchemy engine created afterwards (dianshu.db.session calls create_async_engine through its
module, which the instrumentation wraps), and a consumer span per job attempt whose parent is the
span that submitted the job: the submitter's trace context travels in the job's message
(`carrier` at send, `job_span` in the actor). Spans go to `<endpoint>/v1/traces` over OTLP/HTTP in
batches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from dianshu.config import Settings

STANDARD_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Health checks and scrapes make no traces worth keeping.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

_provider: Any = None  # the SDK's TracerProvider once set up


def endpoint(settings: Settings) -> str | None:
    return settings.otel_exporter_otlp_endpoint or os.environ.get(STANDARD_ENV) or None


def enabled() -> bool:
    return _provider is not None


def setup(settings: Settings, service: str, *, exporter: Any = None) -> bool:
    """Turn tracing on for this process when configured (or given an exporter: tests pass the SDK's
    InMemorySpanExporter, exported at once). Returns whether it is on."""
    global _provider
    url = endpoint(settings)
    if exporter is None and url is None:
        return _provider is not None
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create({"service.name": settings.otel_service_name or f"dianshu-{service}"})
        )
    if exporter is not None:
        _provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        assert url is not None
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{url.rstrip('/')}/v1/traces")))
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Its declared range stops below SQLAlchemy 2.1; what it uses (engine events) is unchanged there,
        # and tests/test_tracing.py checks the spans it makes.
        instrumentor.instrument(tracer_provider=_provider, skip_dep_check=True)
    return True


def shutdown() -> None:
    """Turn tracing off again (tests): spans flushed, engines created from now on not traced."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    provider, _provider = _provider, None
    SQLAlchemyInstrumentor().uninstrument()
    provider.shutdown()


def asgi_middleware() -> tuple[type, dict[str, Any]] | None:
    """(the ASGI middleware, its options) when tracing is on."""
    if _provider is None:
        return None
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware, {"tracer_provider": _provider, "excluded_urls": EXCLUDED_URLS}


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate), to send with a job; {} when off."""
    if _provider is None:
        return {}
    from opentelemetry.propagate import inject

    out: dict[str, str] = {}
    inject(out)
    return out


def span(name: str, **attributes: Any) -> Any:
    """A span of this process's own (e.g. a read-only transaction on the driver's pool, which no
    instrumentation sees); a no-op when tracing is off."""
    if _provider is None:
        return nullcontext()
    return _provider.get_tracer("dianshu").start_as_current_span(name, attributes=attributes)


def job_span(kind: str, tenant_id: str, job_id: str, parent: dict[str, str] | None) -> Any:
    """A consumer span around one job attempt, continuing the submitter's trace (`parent`, as sent)."""
    if _provider is None:
        return nullcontext()
    return _job_span(kind, tenant_id, job_id, parent or {})


@contextmanager
def _job_span(kind: str, tenant_id: str, job_id: str, parent: dict[str, str]) -> Iterator[Any]:
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    tracer = _provider.get_tracer("dianshu.jobs")
    with tracer.start_as_current_span(
        f"job {kind}",
        context=extract(parent),
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "dramatiq", "dianshu.job.kind": kind, "dianshu.job.id": job_id,
                    "dianshu.tenant": tenant_id},
    ) as span:  # fmt: skip
        yield span
