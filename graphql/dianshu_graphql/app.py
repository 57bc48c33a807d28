"""The Starlette app: /graphql (bearer token required), /healthz, /readyz, /metrics, the REST
paths and downloads, and the portal (/ and /portal/...: pages for people, dianshu_graphql.portal);
in dev, GraphiQL at /graphql with its files at /graphiql/static/ (graphiql.py)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from typing import Any

from cross_web import HTTPException
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from dianshu.analytics.cache import AnswerCache, Seen
from dianshu.config import Profile, Settings, get_settings
from dianshu.db.guard import check_runtime_role
from dianshu.db.session import Database
from dianshu.jobs import service as jobs
from dianshu.logs import bind_request
from dianshu.observability import metrics as m
from dianshu.observability import tracing
from dianshu_graphql import audit_downloads, language, national_downloads, response_cache, rest, training_rest
from dianshu_graphql.context import Context
from dianshu_graphql.errors import GRAPHQL_VALIDATION_FAILED
from dianshu_graphql.graphiql import PREFIX as GRAPHIQL_STATIC
from dianshu_graphql.graphiql import OfflineGraphiQL, offline_graphiql
from dianshu_graphql.language import Language
from dianshu_graphql.limits import BadRequest, LimitBody, decode_request, error_response
from dianshu_graphql.portal.pages import Portal
from dianshu_graphql.schema import build_schema
from dianshu_tenants.context import TenantRegistry, resolve_scope
from dianshu_tenants.identity import AuthError, Principal, TokenCodec, bearer_token
from graphql import GraphQLError, OperationDefinitionNode, SelectionSetNode, Visitor, parse, visit

log = logging.getLogger(__name__)
# One line per request (uvicorn's own access log is off: this one has the request id and who asked).
access = logging.getLogger("dianshu.request")


class Metrics:
    """The app's HTTP metrics (their names and every other metric's: dianshu.observability.metrics)."""

    def __init__(self) -> None:
        self.requests = m.HTTP_REQUESTS
        self.latency = m.HTTP_SECONDS
        self.auth_failures = m.AUTH_FAILURES


# graphql-core's "Did you mean 'x'?" hints name fields a client did not ask about: not in prod.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class _EmptySelection(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.at: tuple[int, int] | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> Any:
        if not node.selections and self.at is None:
            loc = node.loc
            self.at = (loc.start_token.line, loc.start_token.column) if loc else (0, 0)
        return None


@lru_cache(maxsize=256)
def _operations(query: str, max_tokens: int) -> tuple[int, tuple[int, int] | None] | None:
    """(the document's operations, where its first empty selection set `{ }` is) or None when it does
    not parse (execution reports the syntax error). graphql-core parses `{ }`, which the spec does not
    allow and the depth limiter cannot measure."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    empty = _EmptySelection()
    visit(document, empty)
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions), empty.at


class DianshuGraphQL(GraphQL):
    def __init__(self, services: Services, graphiql: OfflineGraphiQL | None = None, **kwargs: Any) -> None:
        super().__init__(graphql_ide="graphiql" if graphiql else None, **kwargs)
        self.services = services
        self.graphiql = graphiql

    async def render_graphql_ide(self, request: Request) -> Response:
        if self.graphiql is None:  # strawberry calls this only when graphql_ide is set: never in prod
            raise HTTPException(404, "Not Found")
        return await self.graphiql.page()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # strawberry answers its own refusals as plain text; clients get the same JSON errors as always.
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope=scope, receive=receive))
        except BadRequest as e:
            response = e.response()
        except HTTPException as e:
            response = error_response(e.status_code, e.reason, "BAD_REQUEST")
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decode_request(data, self.services.settings)

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any, request_data: Any
    ) -> Any:
        query = request_data.query
        parsed = _operations(query, self.services.settings.max_tokens) if isinstance(query, str) else None
        if parsed is not None:
            n, empty = parsed
            if empty is not None:
                line, column = empty
                raise BadRequest(f"query: an empty selection set {{ }} at line {line}, column {column}", "query")
            if request_data.operation_name is None and n > 1:
                raise BadRequest(
                    f"operationName: the document has {n} operations; name the one to run", "operationName"
                )
        run = partial(
            super().execute_single,
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        responses = self.services.responses
        if (
            responses.max_entries <= 0
            or not isinstance(query, str)
            or not isinstance(context, Context)
            or request_data.extensions
            or (request_adapter.method == "GET" and not self.allow_queries_via_get)
        ):
            return await run()
        operation = request_data.operation_name
        ok, name = response_cache.eligible(query, operation, self.services.settings.max_tokens)
        lang = language.current().value
        k = response_cache.key(query, operation, request_data.variables, context, lang) if ok else None
        if k is None:
            return await run()
        return await self._kept(run, responses, k, operation or name, context)

    async def _kept(
        self, run: Any, responses: response_cache.ResponseCache, k: Any, name: str | None, context: Context
    ) -> Any:
        """An analytics-only query: from `responses` when its entry is still the summaries' (counted
        as an operation like any), else executed (its digests recorded) and kept when it has no errors."""
        started = time.perf_counter()
        entry = responses.get(k)
        if entry is not None and await response_cache.still_valid(context, entry):
            responses.hits += 1
            m.ANALYTICS_RESPONSE_CACHE.labels("hit").inc()
            m.GRAPHQL_SECONDS.labels(m.operation_label(name), "query").observe(time.perf_counter() - started)
            return ExecutionResult(data=entry.data, errors=None)
        responses.misses += 1
        m.ANALYTICS_RESPONSE_CACHE.labels("miss").inc()
        context.seen = Seen()
        result = await run()
        if result.errors or getattr(result, "extensions", None) or result.data is None or context.seen.mixed:
            responses.discard(k)
        else:
            responses.put(k, response_cache.Entry(result.data, dict(context.seen.digests)))
        return result

    async def process_result(self, request: Any, result: Any) -> Any:
        data = await super().process_result(request, result)
        prod = self.services.settings.profile is Profile.prod
        for error in data.get("errors") or []:
            if prod:
                error["message"] = _SUGGESTION.sub("", error["message"])
            # ErrorCodes (schema.py) coded every error of an operation that ran; a document that did
            # not parse never reached it: every error a client gets carries extensions.code.
            extensions = error.setdefault("extensions", {})
            if isinstance(extensions, dict):
                extensions.setdefault("code", GRAPHQL_VALIDATION_FAILED)
        return data

    async def get_context(self, request: Any, response: Any) -> Context | None:
        principal: Principal | None = request.scope.get("dianshu.principal")
        if principal is None:
            # Only the dev GraphiQL page gets here unauthenticated (RequireBearer); no query runs.
            return None
        return await self.services.context(principal, request, response)


class Services:
    """What the app holds for its lifetime."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.runtime_url(), pool_size=settings.db_pool_size)
        self.registry = TenantRegistry(self.db)
        self.codec = TokenCodec(settings)
        self.metrics = Metrics()
        self.answers = AnswerCache(settings.analytics_cache_rows)
        self.responses = response_cache.ResponseCache(settings.analytics_response_cache_entries)

    async def context(self, principal: Principal, request: Any, response: Any) -> Context:
        """The GraphQL context of a request by `principal`: what /graphql and the portal's pages use."""
        scope = await resolve_scope(self.db, self.registry, principal)
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            db=self.db,
            registry=self.registry,
            principal=principal,
            scope=scope,
            answers=self.answers,
        )


class RequireBearer:
    """Anonymous requests get nothing but health: /graphql needs a valid bearer token (GraphiQL's
    HTML page excepted in dev). The principal is resolved here once; its scope in get_context."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if (
            request.method == "GET"
            and self.services.settings.profile is Profile.dev
            and "text/html" in request.headers.get("accept", "")
            and not request.query_params.get("query")
        ):
            await self.app(scope, receive, send)
            return
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is None:
                raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
            principal = await self.services.codec.decode_async(token)
            # Resolve the scope now so a token naming an unknown tenant/hospital is a 401, not a 200.
            await resolve_scope(self.services.db, self.services.registry, principal)
        except AuthError as e:
            self.services.metrics.auth_failures.inc()
            await rest.unauthorized(e)(scope, receive, send)
            return
        scope["dianshu.principal"] = principal
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, *, db: Database | None = None, check_role: bool = True) -> Starlette:
    settings = settings or get_settings()
    # Tracing first: the engines created from here on are traced (nothing happens when it is off).
    tracing.setup(settings, "api")
    m.configure(max_operations=settings.metrics_max_operations)
    services = Services(settings, db)
    schema = build_schema(settings)
    dev = settings.profile is Profile.dev
    graphiql = offline_graphiql() if dev else None
    graphql_app = DianshuGraphQL(
        services,
        graphiql,
        schema=schema,
        allow_queries_via_get=dev,
        multipart_uploads_enabled=True,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with services.db.session(None) as s:
                await s.execute(text("select 1 from alembic_version"))
        except Exception as e:
            return JSONResponse({"status": "unavailable", "reason": type(e).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        allowed = False
        if settings.metrics_token and token == settings.metrics_token:
            allowed = True
        elif token:
            try:
                allowed = (await services.codec.decode_async(token)).role.is_city
            except AuthError:
                allowed = False
        if not allowed:
            return JSONResponse({"error": "metrics need the metrics token or a city role token"}, status_code=401)
        # The outbox and the queues are read now, each within the scrape timeout (a source that
        # does not answer in time is reported down, the rest is still served).
        backlog = await m.backlog(
            lambda: jobs.outbox_backlog(services.db), m.queue_depths(), timeout_s=settings.metrics_scrape_timeout_s
        )
        return Response(m.render([m.BacklogCollector(backlog)]), media_type=m.CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if check_role:
            check_runtime_role(settings.runtime_url())
        # Re-send what a crash left in the outbox.
        try:
            n = await jobs.sweep(
                services.db,
                unsent_grace_s=settings.job_unsent_grace_s,
                stale_after_s=settings.job_stale_after_s,
                resend_after_s=settings.job_resend_after_s,
            )
            if n:
                log.info("startup sweep re-sent %d jobs", n)
        except Exception:
            log.exception("startup sweep failed")
        yield
        await services.db.dispose()
        m.mark_process_dead()

    portal = Portal(services, schema)
    app = Starlette(
        routes=[
            *portal.routes(),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", RequireBearer(graphql_app, services), methods=["GET", "POST"]),
            Route("/ingest/{tenant}", rest.ingest_stream, methods=["POST"]),
            Route("/ingest/{tenant}/batches/{batch}/errors.{fmt}", rest.errors_file, methods=["GET"]),
            Route("/ingest/{tenant}/batches/{batch}/errors", rest.errors_file, methods=["GET"]),
            Route("/grouping/{tenant}/comparisons/{job}.{fmt}", rest.comparison_file, methods=["GET"]),
            Route("/grouping/{tenant}/comparisons/{job}", rest.comparison_file, methods=["GET"]),
            Route("/statements/{tenant}/{run}/{hospital}.{fmt}", rest.statement_file, methods=["GET"]),
            Route("/statements/{tenant}/{run}/{hospital}", rest.statement_file, methods=["GET"]),
            Route("/reports/{city}/settlement/{year}.{fmt}", rest.overview_file, methods=["GET"]),
            Route("/reports/{city}/settlement/{year}", rest.overview_file, methods=["GET"]),
            Route("/workstation/check", rest.workstation_check, methods=["POST"]),
            Route("/downloads/training/{tenant}/coverage/{year}", training_rest.coverage_file, methods=["GET"]),
            Route("/downloads/training/{tenant}/attendance/{year}", training_rest.attendance_file, methods=["GET"]),
            Route("/downloads/audit-log", audit_downloads.audit_log_file, methods=["GET"]),
            Route("/downloads/national-exports/{tenant}/log", national_downloads.export_log, methods=["GET"]),
            Route("/downloads/national-exports/{tenant}/items", national_downloads.upload_items, methods=["GET"]),
            Route(
                "/downloads/national-exports/{tenant}/files/{export}", national_downloads.export_file, methods=["GET"]
            ),
            Route("/downloads/analytics/{tenant}/{year}", rest.analytics_download, methods=["GET"]),
            Route("/downloads/analytics/{tenant}/{year}/year-over-year", rest.analytics_yoy_download, methods=["GET"]),
            *([Route(GRAPHIQL_STATIC + "{path:path}", graphiql.asset, methods=["GET"])] if graphiql else []),
        ],
        middleware=[
            *([Middleware(otel[0], **otel[1])] if (otel := tracing.asgi_middleware()) else []),
            Middleware(RequestContext),
            Middleware(ApiCors, origins=settings.cors_allowed_origins),
            Middleware(CountRequests, metrics=services.metrics),
            Middleware(LimitBody, settings=settings),
            Middleware(Language),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.schema = schema
    app.state.portal = portal
    return app


class ApiCors:
    """CORS for third-party front ends on the API paths (bearer tokens, no cookies: credentials are
    not allowed), for the configured origins only; none configured: no CORS headers at all. The
    portal's own pages and session are never offered cross-origin."""

    PATHS = ("/graphql", "/ingest/", "/grouping/", "/statements/", "/reports/", "/workstation/", "/downloads/")

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors: ASGIApp | None = None
        if origins:
            self.cors = CORSMiddleware(
                app,
                allow_origins=origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
                expose_headers=["Content-Disposition", "X-Request-ID"],
                allow_credentials=False,
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is not None and scope["type"] == "http":
            path = scope["path"]
            if path == "/graphql" or path.startswith(self.PATHS[1:]):
                await self.cors(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestContext:
    """Each request's id: the client's X-Request-ID when it is a plain token (letters, digits and
    `._:-`, at most 128), a new one otherwise; bound to every log line of the request (with who
    asked, once the token is verified), returned in the response's X-Request-ID, and one log line
    per request when it ends (method, path, status, duration)."""

    HEADER = b"x-request-id"
    VALID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request_id(self, scope: Scope) -> str:
        for name, value in scope.get("headers") or ():
            if name == self.HEADER and self.VALID.fullmatch(value):
                return value.decode("ascii")
        return uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        bind_request(request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != self.HEADER]
                message = {**message, "headers": [*headers, (self.HEADER, request_id.encode("ascii"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            access.info(
                "%s %s %d",
                scope.get("method"),
                scope["path"],
                status["code"],
                extra={
                    "method": scope.get("method"),
                    "path": scope["path"],
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


class CountRequests:
    """Request counts and latency per known path (pure ASGI, so responses stream untouched)."""

    PATHS = (
        "/graphql", "/healthz", "/readyz", "/metrics", "/ingest", "/grouping", "/workstation", "/downloads", "/portal",
        "/statements", "/reports",
    )  # fmt: skip

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    @classmethod
    def label(cls, path: str) -> str:
        """The metrics' `path` label: the known prefix, or other (a label per URL would be unbounded)."""
        return next((p for p in cls.PATHS if path == p or path.startswith(p + "/")), "other")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = self.label(scope["path"])
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(path, str(status["code"])).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
