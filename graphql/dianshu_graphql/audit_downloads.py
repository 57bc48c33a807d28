"""GET /downloads/audit-log: the audit log as the bureau files it (CSV with a BOM or XLSX, Chinese
headers unless `lang=en`), with the filters of the GraphQL `auditLog` under the same names (tenant,
since, until, actor, action, entityType, entityId, hospital) and the same rules
(platform/dianshu/audit/query.py); newest first, times in Beijing time. Same bearer tokens and
row-level security as `auditLog`: city and region bureaus, each its own tenants' entries.

A file holds at most MAX_ROWS entries: a wider selection is refused (naming since/until) rather
than cut short without a word."""

from __future__ import annotations

import datetime

from starlette.requests import Request
from starlette.responses import Response

from dianshu.audit.query import AuditFilter, details, entity, entries_query
from dianshu.db.session import scoped_session
from dianshu.errors import Refused
from dianshu.scope import Scope
from dianshu.tabular.write import Column, Kind, Table
from dianshu_graphql.downloads import DownloadRefused, download_options, table_response
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.rest import _problem, guarded

MAX_ROWS = 100_000
FILTERS = ("tenant", "since", "until", "actor", "action", "entityType", "entityId", "hospital")

COLUMNS = (
    Column("tenant", "统筹区", "Tenant"),
    Column("id", "序号", "No.", Kind.count),
    Column("at", "时间(北京时间)", "Time (Beijing time)"),
    Column("actor", "操作人", "Actor"),
    Column("role", "角色", "Role"),
    Column("hospital", "定点医药机构编号", "Hospital"),
    Column("action", "操作", "Action"),
    Column("entity_type", "对象类型", "Entity type"),
    Column("entity_id", "对象编号", "Entity id"),
    Column("details", "详情", "Details"),
)


def _moment(name: str, value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        raise DownloadRefused(name, f"{value[:40]!r} is not a time (e.g. 2025-01-01T00:00:00+08:00)") from None


def audit_filter(params: dict[str, str]) -> AuditFilter:
    """The filters from the query string, checked as auditLog checks its arguments."""
    f = AuditFilter(
        tenant=params.get("tenant"),
        since=_moment("since", params.get("since")),
        until=_moment("until", params.get("until")),
        actor=params.get("actor"),
        action=params.get("action"),
        entity_type=params.get("entityType"),
        entity_id=params.get("entityId"),
        hospital=params.get("hospital"),
    )
    try:
        f.check()
    except Refused as e:
        raise DownloadRefused(e.field, e.reason) from None
    return f


def _details_text(payload: object) -> str:
    return "; ".join(f"{d.key}={'null' if d.value is None else d.value}" for d in details(payload))


READ = Allow(*BUREAU)


@guarded(READ)
async def audit_log_file(request: Request, scope: Scope) -> Response:
    """GET /downloads/audit-log?since=..&until=..[&tenant=..&actor=..&action=..&entityType=..
    &entityId=..&hospital=..&format=csv|xlsx&lang=zh|en]"""
    try:
        fmt, lang, params = download_options(request, extra=FILTERS)
        f = audit_filter(params)
    except DownloadRefused as e:
        return e.response()
    # The path names no tenant: a tenant filter outside the caller's scope is refused as auditLog
    # refuses it (not answered with an empty file).
    if f.tenant is not None and (why := READ.refusal(scope, f.tenant)) is not None:
        return _problem(403, "tenant", why)
    async with scoped_session(request.app.state.services.db, scope) as s:
        rows = list((await s.execute(entries_query(f, MAX_ROWS, None))).scalars())
    if len(rows) > MAX_ROWS:
        field = "since" if f.since is None else "until"
        return DownloadRefused(
            field, f"more than {MAX_ROWS:,} entries: narrow the range (since, until) or the other filters"
        ).response()
    out = []
    for r in rows:
        kind, ident = entity(r.target)
        out.append(
            {
                "tenant": r.tenant_id,
                "id": r.id,
                "at": r.at,
                "actor": r.actor,
                "role": r.role,
                "hospital": r.hospital_id,
                "action": r.action,
                "entity_type": kind,
                "entity_id": ident,
                "details": _details_text(r.details),
            }
        )
    return table_response(Table("audit-log", "审计日志", "Audit log", COLUMNS, out), fmt, lang)
