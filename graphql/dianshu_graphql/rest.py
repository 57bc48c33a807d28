"""Plain-HTTP paths for integrators: stream a file in (no multipart, any size) and download the
refused rows of a batch as CSV. Same bearer tokens and scopes as /graphql, and the same permission
declarations (`Allow`, read by `guarded`): the roles, and the `{tenant}` of the path in scope."""

from __future__ import annotations

import functools
import io
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from dianshu import bounds, csvcells
from dianshu.cases.ingest import INGEST, BatchRequest, IngestRefused
from dianshu.cases.models import IngestionBatch, IngestionError
from dianshu.cases.parsing import LayoutError
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.scope import Role, Scope
from dianshu_graphql.permissions import ANYONE, BUREAU, Allow
from dianshu_tenants.context import resolve_scope
from dianshu_tenants.identity import AuthError, IdentityProviderUnavailable, bearer_token


def _problem(status: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse({"errors": [{"field": field, "reason": reason}]}, status_code=status)


async def authenticate(request: Request) -> Scope:
    services = request.app.state.services
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
    principal = await services.codec.decode_async(token)
    return await resolve_scope(services.db, services.registry, principal)


def unauthorized(e: AuthError) -> JSONResponse:
    """A request whose token was refused: 401; or 503 when the identity provider's keys could not
    be fetched (the token may be fine: the client retries later, it does not log in again)."""
    if isinstance(e, IdentityProviderUnavailable):
        return JSONResponse(
            {"errors": [{"message": str(e), "extensions": {"code": "IDENTITY_PROVIDER_UNAVAILABLE"}}]},
            status_code=503,
            headers={"Retry-After": "30"},
        )
    return JSONResponse(
        {"errors": [{"message": str(e), "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="dianshu"'},
    )


Handler = Callable[[Request, Scope], Awaitable[Response]]


def guarded(allow: Allow | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A REST path: the bearer token (401 without a valid one), then `allow` (403 naming role or
    tenant); the handler gets the caller's scope."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            try:
                scope = await authenticate(request)
            except AuthError as e:
                return unauthorized(e)
            if allow is not None and (why := allow.refusal(scope, request.path_params.get("tenant"))) is not None:
                return _problem(403, "tenant" if why.startswith("tenant ") else "role", why)
            return await handler(request, scope)

        return endpoint

    return wrap


@guarded(Allow(job=INGEST))
async def ingest_stream(request: Request, scope: Scope) -> Response:
    """POST /ingest/{tenant}?filename=cases.csv.gz&mode=partial&control_rows=..&control_total=..
    with header Idempotency-Key; the body is the file, streamed."""
    tenant = request.path_params["tenant"]
    q: dict[str, Any] = dict(request.query_params)
    try:
        control_rows = int(q["control_rows"]) if q.get("control_rows") else None
        control_total = Decimal(q["control_total"]) if q.get("control_total") else None
    except (ValueError, InvalidOperation):
        return _problem(400, "control_rows/control_total", "must be a whole number / an amount")
    req = BatchRequest(
        tenant,
        q.get("filename", "upload.csv"),
        request.headers.get("idempotency-key") or q.get("idempotency_key", ""),
        q.get("mode", "partial"),
        control_rows,
        control_total,
    )
    try:
        sub = await submit_batch(request.app.state.services.db, scope, req, request.stream())
    except IngestRefused as e:
        return _problem(400, e.field, e.reason)
    except LayoutError as e:
        return _problem(400, "filename", str(e))
    except IdempotencyConflict as e:
        return _problem(409, "Idempotency-Key", str(e))
    body = {"batch": str(sub.batch.id), "job": str(sub.job.id), "created": sub.created, "status": sub.batch.status}
    return JSONResponse(body, status_code=202 if sub.created else 200)


@guarded()
async def errors_csv(request: Request, scope: Scope) -> Response:
    """GET /ingest/{tenant}/batches/{batch}/errors.csv (row-level security: your batches only)"""
    tenant = request.path_params["tenant"]
    try:
        batch_id = uuid.UUID(request.path_params["batch"])
    except ValueError:
        return _problem(404, "batch", "not a batch id")
    db = request.app.state.services.db
    async with scoped_session(db, scope) as s:
        batch = (
            await s.execute(
                select(IngestionBatch).where(IngestionBatch.tenant_id == tenant, IngestionBatch.id == batch_id)
            )
        ).scalar_one_or_none()
        if batch is None:
            return _problem(404, "batch", f"no batch {batch_id} of {tenant} that you may see")
        rows = (
            (
                await s.execute(
                    select(IngestionError)
                    .where(IngestionError.tenant_id == tenant, IngestionError.batch_id == batch_id)
                    .order_by(IngestionError.row_no, IngestionError.seq)
                )
            )
            .scalars()
            .all()
        )

    def generate():
        buf = io.StringIO()
        w = csvcells.writer(buf, lineterminator="\n")
        w.writerow(["row", "setl_id", "fixmedins_code", "field", "reason"])
        for e in rows:
            w.writerow([e.row_no, e.list_id or "", e.row_hospital or "", e.field, e.reason])
            if buf.tell() > 1 << 16:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue().encode("utf-8")

    return StreamingResponse(
        generate(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-errors.csv"'},
    )


@guarded()
async def comparison_csv(request: Request, scope: Scope) -> Response:
    """GET /grouping/{tenant}/comparisons/{job}.csv?level=drg (row-level security)"""
    from dianshu.grouping.models import GroupingComparison

    tenant, level = request.path_params["tenant"], request.query_params.get("level", "drg")
    if level not in ("drg", "adrg"):
        return _problem(400, "level", "must be drg or adrg")
    try:
        job_id = uuid.UUID(request.path_params["job"])
    except ValueError:
        return _problem(404, "job", "not a job id")
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = (
            (
                await s.execute(
                    select(GroupingComparison)
                    .where(
                        GroupingComparison.tenant_id == tenant,
                        GroupingComparison.job_id == job_id,
                        GroupingComparison.level == level,
                    )
                    .order_by(GroupingComparison.hospital_id, GroupingComparison.cases.desc())
                )
            )
            .scalars()
            .all()
        )
    buf = io.StringIO()
    w = csvcells.writer(buf, lineterminator="\n")
    w.writerow(["fixmedins_code", f"from_{level}", f"to_{level}", "cases"])
    for r in rows:
        w.writerow([r.hospital_id, r.from_code, r.to_code, r.cases])
    return Response(
        buf.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="comparison-{job_id}-{level}.csv"'},
    )


@guarded()
async def statement_file(request: Request, scope: Scope) -> Response:
    """GET /statements/{tenant}/{run}/{hospital}.{json|csv|html}: a hospital's settlement statement
    (row-level security: a hospital user gets only its own)."""
    from dianshu.settlement.reports.statements import to_csv, to_html
    from dianshu.settlement.runs.figures import statement_data

    tenant, hospital, fmt = (request.path_params[k] for k in ("tenant", "hospital", "fmt"))
    if fmt not in ("json", "csv", "html"):
        return _problem(404, "format", "json, csv or html")
    try:
        run_id = uuid.UUID(request.path_params["run"])
    except ValueError:
        return _problem(404, "run", "not a run id")
    async with scoped_session(request.app.state.services.db, scope) as s:
        data = await statement_data(s, tenant, run_id, hospital)
    if data is None:
        return _problem(404, "statement", f"no statement of {hospital} in run {run_id} (or not yours)")
    name = f"statement-{data['run']['year']}-{data['run']['kind']}-{hospital}"
    if fmt == "json":
        return JSONResponse(data)
    if fmt == "csv":
        return Response(
            to_csv(data).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(to_html(data), media_type="text/html; charset=utf-8")


# The city's overview, as settlementOverview declares it: city and region roles (a region sees its
# own row: row-level security).
@guarded(Allow(*BUREAU, tenant=False))
async def overview_file(request: Request, scope: Scope) -> Response:
    """GET /reports/{city}/settlement/{year}.{csv|html}: the regions' clearing side by side (city and
    region roles; a region sees its own row)."""
    from dianshu.settlement.reports.overview import overview_csv, overview_html
    from dianshu.settlement.runs.figures import city_overview

    city, fmt = request.path_params["city"], request.path_params["fmt"]
    try:
        year = int(request.path_params["year"])
    except ValueError:
        return _problem(404, "year", "not a year")
    if (reason := bounds.year_reason(year)) is not None:
        return _problem(400, "year", reason)
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = await city_overview(s, city, year)
    if fmt == "csv":
        return Response(
            overview_csv(rows).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="settlement-{city}-{year}.csv"'},
        )
    if fmt == "html":
        return Response(overview_html(city, year, rows), media_type="text/html; charset=utf-8")
    return _problem(404, "format", "csv or html")


# The doctor-workstation check for HIS integration, as workstationCheck declares it.
@guarded(Allow(Role.hospital_user, Role.integrator, *BUREAU, tenant=False))
async def workstation_check(request: Request, scope: Scope) -> Response:
    """POST /workstation/check with {"draft": {...}, "hospital": "H…"} (hospital: the bureau's, or
    left out for one's own): 200 with the check; 400/404/409 {"errors": [{"field", "reason"}]}."""
    import json

    from dianshu.workstation.draft import DraftRefused
    from dianshu.workstation.service import check_draft

    body = await request.body()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _problem(400, "body", 'must be a JSON object: {"draft": {...}, "hospital": ...}')
    if type(payload) is not dict:
        return _problem(400, "body", 'must be a JSON object: {"draft": {...}, "hospital": ...}')
    if unknown := sorted(set(payload) - {"draft", "hospital"}):
        return _problem(400, unknown[0], "unknown key (allowed: draft, hospital)")
    hospital = payload.get("hospital")
    if hospital is not None and (type(hospital) is not str or bounds.text_reason(hospital, 20) is not None):
        return _problem(400, "hospital", "must be a hospital code (a string)")
    if "draft" not in payload:
        return _problem(400, "draft", "required")
    try:
        result = await check_draft(request.app.state.services.db, scope, payload["draft"], hospital)
    except DraftRefused as e:
        if e.field == "hospital" and e.kind == "not_found" and scope.hospital_id is not None:
            return _problem(403, "hospital", e.reason)
        status = {"invalid": 400, "not_found": 404, "state": 409}[e.kind]
        fields = [f if f in ("hospital", "standard") else f"draft.{f}" for f, _ in e.issues]
        return JSONResponse(
            {"errors": [{"field": f, "reason": r} for f, (_, r) in zip(fields, e.issues, strict=True)]},
            status_code=status,
        )
    return JSONResponse(result.to_dict())


# ---- downloads of the analytics views (the GraphQL analytics and analyticsYearOverYear) -----------

ANALYTICS_EXTRA = ("by", "hospital", "month", "department", "drg")


async def _analytics_download(request: Request, scope: Scope, yoy: bool) -> Response:
    from dianshu.analytics import tables, views
    from dianshu.db.session import session_fetch
    from dianshu_graphql.domains.analytics import tenants_of
    from dianshu_graphql.downloads import DownloadRefused, download_options, table_response

    tenant = request.path_params["tenant"]
    try:
        fmt, lang, extra = download_options(request, ANALYTICS_EXTRA)
        try:
            year = int(request.path_params["year"])
        except ValueError:
            raise DownloadRefused("year", "not a year") from None
        if (reason := bounds.year_reason(year)) is not None:
            raise DownloadRefused("year", reason)
        by_names = [b for b in extra.get("by", "").split(",") if b] if "by" in extra else []
        month = None
        if "month" in extra:
            if not extra["month"].isdigit():
                raise DownloadRefused("month", "a month from 1 to 12")
            month = int(extra["month"])
        hospital = extra.get("hospital")
        if hospital is None and scope.hospital_id is not None and not scope.all_hospitals:
            hospital = scope.hospital_id  # its own cells only (row-level security), read by key
        filters = views.Filters(hospital, month, extra.get("department"), extra.get("drg"))
        try:
            by = views.check_by(by_names)
            views.check_filters(filters)
        except views.AnalyticsRefused as e:
            raise DownloadRefused("by" if e.field.startswith("groupBy") else e.field, e.reason) from None
    except DownloadRefused as e:
        return e.response()
    services = request.app.state.services
    tenants = await tenants_of(services.registry, scope, tenant)
    async with scoped_session(services.db, scope) as s:
        names = {f"hospital:{h}": n for (_, h), n in (await views.hospital_names(s, tenants)).items()}
        names.update({f"region:{c}": n for c, n in await views.city_regions(s, tenant)})
        if yoy:
            comparisons = await views.year_over_year(session_fetch(s), tenants, year, by, filters)
        else:
            rows = await views.groups(session_fetch(s), tenants, year, by, filters)
    suffix = "-".join(by) or "total"
    if yoy:
        stem, zh, en = f"analytics-yoy-{tenant}-{year}-{suffix}", f"{year}年同比分析", f"Year over year {year}"
        table = tables.year_over_year_table(stem, zh, en, by, comparisons, names)
    else:
        table = tables.view_table(
            f"analytics-{tenant}-{year}-{suffix}", f"{year}年DRG运营分析", f"DRG analytics {year}", by, rows, names
        )
    return table_response(table, fmt, lang)


@guarded(Allow(*ANYONE))
async def analytics_download(request: Request, scope: Scope) -> Response:
    """GET /downloads/analytics/{tenant}/{year}?by=department,drg&hospital=&month=&department=&drg=
    &format=csv|xlsx&lang=zh|en: the analytics view as a file (row-level security: a hospital gets its own)."""
    return await _analytics_download(request, scope, yoy=False)


@guarded(Allow(*ANYONE))
async def analytics_yoy_download(request: Request, scope: Scope) -> Response:
    """GET /downloads/analytics/{tenant}/{year}/year-over-year?by=...: this year against last, as a file."""
    return await _analytics_download(request, scope, yoy=True)
