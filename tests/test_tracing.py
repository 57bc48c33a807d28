"""OpenTelemetry tracing: off by default (nothing wrapped, nothing sent with a job); on, a request
is a server span with its SQL statements as child spans, and a job submitted by a request continues
the request's trace in the worker (the context travels in the job's message)."""

from __future__ import annotations

import os

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from dianshu.config import Settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.observability import tracing
from dianshu.scope import Role, Scope
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from tests.api import Api
from tests.conftest import JWT_SECRET


def prod_settings(test_database, **extra) -> Settings:
    return Settings(
        profile="prod",
        database_url=test_database.owner_url,
        redis_url="redis://127.0.0.1:1/0",
        jwt_secret=JWT_SECRET,
        **extra,
    )


@pytest.fixture
def spans(settings):
    exporter = InMemorySpanExporter()
    assert tracing.setup(settings, "api", exporter=exporter)
    yield exporter
    tracing.shutdown()


def ancestors(span, by_id) -> list:
    out = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        out.append(span)
    return out


async def test_tracing_is_off_by_default(test_database, db, monkeypatch):
    monkeypatch.delenv(tracing.STANDARD_ENV, raising=False)
    settings = prod_settings(test_database)
    assert tracing.endpoint(settings) is None and not tracing.setup(settings, "api")
    assert not tracing.enabled() and tracing.carrier() == {} and tracing.asgi_middleware() is None
    api = Api(settings, db)
    try:
        assert not [m for m in api.app.user_middleware if "OpenTelemetry" in m.cls.__name__]
    finally:
        await api.client.aclose()
    # Either variable turns it on: ours, or the standard one (the exporter appends /v1/traces).
    assert (
        tracing.endpoint(prod_settings(test_database, otel_exporter_otlp_endpoint="http://c:4318")) == "http://c:4318"
    )
    monkeypatch.setenv(tracing.STANDARD_ENV, "http://collector:4318")
    assert tracing.endpoint(settings) == "http://collector:4318"


async def test_a_request_is_a_server_span_with_its_sql_as_children(test_database, city, spans):
    database = Database(test_database.runtime_url, pool_size=2)  # made after tracing is on: traced
    api = Api(prod_settings(test_database), database)
    try:
        token = api.token(Role.region_admin, [city.a])
        query = "query($t: String) { hospitals(tenant: $t) { nodes { code } } }"
        data = await api.gql(token, query, {"t": city.a})
        assert sorted(h["code"] for h in data["hospitals"]["nodes"]) == [city.a1, city.a2]
    finally:
        await api.client.aclose()
        await database.dispose()
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    [server] = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.attributes.get("http.route", server.attributes.get("url.path", "/graphql")) in ("/graphql",)
    sql = [s for s in finished if s.attributes.get("db.system", s.attributes.get("db.system.name")) == "postgresql"]
    assert sql, [s.name for s in finished]
    assert all(server in ancestors(s, by_id) for s in sql)
    statements = " ".join(str(s.attributes.get("db.statement", s.attributes.get("db.query.text", ""))) for s in sql)
    assert "hospital" in statements


async def test_a_job_submitted_in_a_request_continues_its_trace(test_database, city, spans, monkeypatch):
    from dianshu_workers import runtime
    from dianshu_workers.actors import ACTORS
    from dianshu_workers.actors.base import send_job

    actor = ACTORS[IMPORT_HOSPITALS]
    sent = []
    monkeypatch.setattr(actor.broker, "enqueue", lambda message, delay=None: sent.append(message) or message)
    jobs.set_dispatcher(send_job)
    database = Database(test_database.runtime_url, pool_size=2)
    api = Api(prod_settings(test_database), database)
    try:
        token = api.token(Role.region_admin, [city.a])
        mutation = """mutation($i: ImportHospitalsInput!) { importHospitals(input: $i) {
          ... on JobPayload { job { databaseId } } } }"""
        hospitals = [{"code": f"H{city.a}00077", "name": "Traced", "level": 1, "type": "general"}]
        data = await api.gql(token, mutation, {"i": {"tenant": city.a, "hospitals": hospitals}})
        job_id = data["importHospitals"]["job"]["databaseId"]
        [message] = sent
        assert message.args == (city.a, job_id) and message.actor_name == IMPORT_HOSPITALS
        parent = message.kwargs["trace"]
        # The worker's side: the actor as Dramatiq calls it, with the message's arguments.
        fn = getattr(actor.fn, "__wrapped__", actor.fn)
        await fn(*message.args, **message.kwargs)
    finally:
        jobs.set_dispatcher(None)
        await api.client.aclose()
        await database.dispose()
        for key in list(runtime._dbs):
            await runtime._dbs.pop(key).dispose()
    async with scoped_session(database, Scope.system((city.a,))) as s:
        assert (await s.execute(select(Job.status).where(Job.id == job_id))).scalar_one() == "succeeded"
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    [server] = [s for s in finished if s.kind is SpanKind.SERVER]
    [job] = [s for s in finished if s.name == f"job {IMPORT_HOSPITALS}"]
    assert job.kind is SpanKind.CONSUMER and job.context.trace_id == server.context.trace_id
    assert server in ancestors(job, by_id)
    assert parent["traceparent"].split("-")[1] == f"{server.context.trace_id:032x}"
    assert job.attributes["dianshu.job.id"] == job_id and job.attributes["dianshu.tenant"] == city.a
    # The job's own SQL is in the same trace, under the job's span.
    job_sql = [
        s
        for s in finished
        if job in ancestors(s, by_id) and s.attributes.get("db.system", s.attributes.get("db.system.name"))
    ]
    assert job_sql


def test_the_exporter_sends_to_the_endpoints_traces_path(monkeypatch, test_database):
    """With an endpoint configured, spans go by OTLP/HTTP to <endpoint>/v1/traces in batches."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    made = []
    real_init = OTLPSpanExporter.__init__

    def init(self, *args, **kwargs):
        made.append(kwargs.get("endpoint"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(OTLPSpanExporter, "__init__", init)
    assert tracing.setup(prod_settings(test_database, otel_exporter_otlp_endpoint="http://127.0.0.1:1/"), "worker")
    try:
        assert made == ["http://127.0.0.1:1/v1/traces"]
        processors = tracing._provider._active_span_processor._span_processors
        assert any(isinstance(p, BatchSpanProcessor) for p in processors)
    finally:
        tracing.shutdown()
    assert not os.environ.get("DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT")
