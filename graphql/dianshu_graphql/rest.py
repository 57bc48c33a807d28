"""Plain-HTTP paths for integrators: stream a file in (no multipart, any size) and download the
refused rows of a batch as CSV or XLSX. Same bearer tokens and scopes as /graphql, and the same permission
declarations (`Allow`, read by `guarded`): the roles, and the `{tenant}` of the path in scope."""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from dianshu import bounds
from dianshu.cases import refused
from dianshu.cases.ingest import INGEST, BatchRequest, IngestRefused
from dianshu.cases.models import IngestionBatch, IngestionError
from dianshu.cases.parsing import LayoutError
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.scope import Role, Scope
from dianshu.tabular.write import FORMATS, MEDIA_TYPES, Lang, csv_chunks, xlsx_bytes
from dianshu_graphql.downloads import DownloadRefused, attachment, disposition, download_options, table_response
from dianshu_graphql.language import problem
from dianshu_graphql.permissions import ANYONE, BUREAU, Allow
from dianshu_tenants.context import resolve_scope
from dianshu_tenants.identity import AuthError, IdentityProviderUnavailable, bearer_token


def _problem(status: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse({"errors": [problem(field, reason)]}, status_code=status)


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
    """POST /ingest/{tenant}?filename=cases.csv.gz&mode=partial&control_rows=..&control_total=..&encoding=..
    with header Idempotency-Key; the body is the file, streamed. `encoding` (utf-8, gb18030, gbk) is
    detected when left out; the answer says which was used."""
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
        q.get("encoding"),
    )
    try:
        sub = await submit_batch(request.app.state.services.db, scope, req, request.stream())
    except IngestRefused as e:
        return _problem(400, e.field, e.reason)
    except LayoutError as e:
        return _problem(400, "filename", str(e))
    except IdempotencyConflict as e:
        return _problem(409, "Idempotency-Key", str(e))
    body = {
        "batch": str(sub.batch.id),
        "job": str(sub.job.id),
        "created": sub.created,
        "status": sub.batch.status,
        "encoding": sub.encoding,
    }
    return JSONResponse(body, status_code=202 if sub.created else 200)


TABLE_FORMATS = FORMATS  # csv, xlsx


@guarded()
async def errors_file(request: Request, scope: Scope) -> Response:
    """GET /ingest/{tenant}/batches/{batch}/errors.csv (or errors.xlsx, or errors with `?format=`)
    and `lang=zh|en`: the batch's refused rows (row-level security: your batches only). The CSV
    streams; an XLSX holds at most refused.XLSX_MAX_ROWS rows (a row a refused field)."""
    try:
        fmt, lang, _ = _report_options(request, TABLE_FORMATS, default="csv")
    except DownloadRefused as e:
        return e.response()
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
        query = (
            select(IngestionError)
            .where(IngestionError.tenant_id == tenant, IngestionError.batch_id == batch_id)
            .order_by(IngestionError.row_no, IngestionError.seq)
        )
        if fmt == "xlsx":  # built in memory: one more than the bound says whether it is passed
            query = query.limit(refused.XLSX_MAX_ROWS + 1)
        rows = (await s.execute(query)).scalars().all()
    if fmt == "xlsx" and len(rows) > refused.XLSX_MAX_ROWS:
        return DownloadRefused(
            "format",
            f"an XLSX holds at most {refused.XLSX_MAX_ROWS:,} refused rows here and this batch has more: "
            "download format=csv",
        ).response()
    table = refused.table(batch_id, rows, lang)
    if fmt == "xlsx":
        data = await asyncio.to_thread(xlsx_bytes, table, lang)
        return attachment(data, "xlsx", table.name, table.title(lang))
    return StreamingResponse(
        csv_chunks(table, lang),
        media_type=MEDIA_TYPES["csv"],
        headers={"Content-Disposition": disposition("csv", table.name, table.title(lang))},
    )


@guarded()
async def comparison_file(request: Request, scope: Scope) -> Response:
    """GET /grouping/{tenant}/comparisons/{job}.csv (or .xlsx, or without an extension with
    `?format=`) with `level=drg|adrg` (drg when left out) and `lang=zh|en` (row-level security)."""
    from dianshu.grouping.models import GroupingComparison
    from dianshu.grouping.tables import LEVELS, comparison_table

    try:
        fmt, lang, extra = _report_options(request, TABLE_FORMATS, ("level",), default="csv")
        level = extra.get("level", "drg")
        if level not in LEVELS:
            raise DownloadRefused("level", "must be drg or adrg")
    except DownloadRefused as e:
        return e.response()
    tenant = request.path_params["tenant"]
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
    return table_response(comparison_table(job_id, level, rows), fmt, lang)


STATEMENT_FORMATS = ("html", "pdf", "xlsx", "csv", "json")
REPORT_FORMATS = ("html", "pdf", "xlsx", "csv")


def _report_options(
    request: Request, formats: tuple[str, ...], extra: tuple[str, ...] = (), *, default: str = "html"
) -> tuple[str, Lang, dict]:
    """A download's format, language and extra parameters: the path's .ext, or `?format=` on the
    path without one (`default` when neither says: html for a report); both given must agree.
    DownloadRefused."""
    ext = request.path_params.get("fmt")
    if ext is not None and ext not in formats:
        raise DownloadRefused("format", f"one of {', '.join(formats)} (the path's .{ext[:20]} is not)")
    fmt, lang, given = download_options(request, extra, formats=formats, default=ext or default)
    if ext is not None and fmt != ext:
        raise DownloadRefused("format", f"{fmt} asked for on a path ending .{ext}: give one or make them agree")
    return fmt, lang, given


@guarded()
async def statement_file(request: Request, scope: Scope) -> Response:
    """GET /statements/{tenant}/{run}/{hospital}[.{html|pdf|xlsx|csv|json}] with `?format=` (on the
    path without .ext), `lang=zh|en` and, for csv or xlsx, `table=summary|months|ledger` (csv: the
    summary when left out; xlsx: one workbook of all three): a hospital's settlement statement
    (row-level security: a hospital user gets only its own)."""
    from dianshu.settlement.reports.statements import TABLES, statement_title, tables, to_html, to_pdf, to_xlsx
    from dianshu.settlement.runs.figures import statement_data

    try:
        fmt, lang, extra = _report_options(request, STATEMENT_FORMATS, ("table",))
        which = extra.get("table")
        if which is not None and fmt not in ("csv", "xlsx"):
            raise DownloadRefused("table", "only with format csv or xlsx")
        if which is not None and which not in TABLES:
            raise DownloadRefused("table", f"one of {', '.join(TABLES)}")
    except DownloadRefused as e:
        return e.response()
    tenant, hospital = request.path_params["tenant"], request.path_params["hospital"]
    try:
        run_id = uuid.UUID(request.path_params["run"])
    except ValueError:
        return _problem(404, "run", "not a run id")
    async with scoped_session(request.app.state.services.db, scope) as s:
        data = await statement_data(s, tenant, run_id, hospital)
    if data is None:
        return _problem(404, "statement", f"no statement of {hospital} in run {run_id} (or not yours)")
    if fmt == "json":
        return JSONResponse(data)
    if fmt == "csv" or (fmt == "xlsx" and which is not None):
        return table_response(tables(data, lang)[which or "summary"], fmt, lang)
    stem = f"statement-{data['run']['year']}-{data['run']['kind']}-{hospital}"
    # Charts and PDF layout take a CPU second or more: off the event loop.
    if fmt == "xlsx":
        return attachment(await asyncio.to_thread(to_xlsx, data, lang), "xlsx", stem, statement_title(data, lang))
    if fmt == "pdf":
        return attachment(await asyncio.to_thread(to_pdf, data, lang), "pdf", stem, statement_title(data, lang))
    return Response(await asyncio.to_thread(to_html, data, lang), media_type="text/html; charset=utf-8")


# The city's overview, as settlementOverview declares it: city and region roles (a region sees its
# own row: row-level security).
@guarded(Allow(*BUREAU, tenant=False))
async def overview_file(request: Request, scope: Scope) -> Response:
    """GET /reports/{city}/settlement/{year}[.{html|pdf|xlsx|csv}] with `?format=` (on the path
    without .ext) and `lang=zh|en`: the regions' clearing side by side (city and region roles; a
    region sees its own row)."""
    from dianshu.settlement.reports.overview import overview_html, overview_pdf, overview_table, title
    from dianshu.settlement.runs.figures import city_overview, tenant_name

    try:
        fmt, lang, _ = _report_options(request, REPORT_FORMATS)
    except DownloadRefused as e:
        return e.response()
    city = request.path_params["city"]
    try:
        year = int(request.path_params["year"])
    except ValueError:
        return _problem(404, "year", "not a year")
    if (reason := bounds.year_reason(year)) is not None:
        return _problem(400, "year", reason)
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = await city_overview(s, city, year)
        name = await tenant_name(s, city) or city
    if fmt in ("csv", "xlsx"):
        return table_response(overview_table(city, year, rows, lang, name), fmt, lang)
    if fmt == "pdf":
        data = await asyncio.to_thread(overview_pdf, city, year, rows, lang, city_name=name)
        return attachment(data, "pdf", f"settlement-{city}-{year}", title(name, year, lang))
    page = await asyncio.to_thread(overview_html, city, year, rows, lang, city_name=name)
    return Response(page, media_type="text/html; charset=utf-8")


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
            {"errors": [problem(f, r) for f, (_, r) in zip(fields, e.issues, strict=True)]},
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
    from dianshu_graphql.errors import ExpectedError, Forbidden

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
            # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
            if not re.fullmatch(r"[0-9]{1,2}", extra["month"]):
                raise DownloadRefused("month", f"must be a month from 1 to 12 (got {extra['month'][:20]!r})")
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
    try:
        tenants = await tenants_of(services.registry, scope, tenant)
    except Forbidden as e:
        return _problem(403, "tenant", str(e))
    except ExpectedError as e:
        return DownloadRefused("tenant", str(e).removeprefix("tenant: ")).response()
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
