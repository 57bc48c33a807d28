"""Hospital analytics in GraphQL: views over the summary cells (dianshu.analytics.views), every
figure scoped to the caller by row-level security: a hospital sees its own; a region compares its
hospitals (groupBy: [hospital]); the city compares its regions (tenant: the city, groupBy:
[region]); year over year; the summaries' status; and refreshing them (a job)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from dianshu import bounds
from dianshu.analytics import cache, views
from dianshu.analytics.refresh import REFRESH
from dianshu.scope import Scope
from dianshu_graphql import pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.errors import ExpectedError, Forbidden, IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.analytics import (
    AnalyticsComparison,
    AnalyticsDimension,
    AnalyticsRefreshJobPayload,
    AnalyticsRow,
    AnalyticsStatus,
)
from dianshu_graphql.types.settlement import job_payload
from dianshu_tenants.context import TenantRegistry

RefreshAnalyticsResult = Annotated[
    AnalyticsRefreshJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("RefreshAnalyticsResult"),
]


async def tenants_of(registry: TenantRegistry, scope: Scope, tenant: str) -> list[str]:
    """A region: itself. A city: its regions in the caller's scope. From the tenant registry (cached
    for seconds): every dashboard's field asks. A tenant the caller does not see is Forbidden; one
    the registry does not know as a region or a city is refused as `tenant` (never an empty page)."""
    if not scope.sees_tenant(tenant):
        raise Forbidden(f"tenant {tenant[:20]!r} is outside your scope")
    tenants = await registry.all()
    t = tenants.get(tenant)
    if t is None or t.kind not in ("region", "city"):
        raise ExpectedError(f"tenant: no region or city {tenant[:20]!r}", "tenant")
    found = [x.code for x in tenants.values() if (x.code == tenant and x.kind == "region") or x.parent_code == tenant]
    return sorted(c for c in found if scope.sees_tenant(c))


def _cursor(after: str | None, by: tuple[str, ...]) -> list[Any] | None:
    """The `after` cursor's key: a month part must be a month (a crafted 70,000 would reach the
    smallint column), refused as `after` like any cursor not from this API."""
    key = pagination.decode_cursor(after, *_shape(by))
    if key is not None:
        for b, v in zip(by, key, strict=True):
            if b == "month" and bounds.month_reason(v) is not None:
                raise ExpectedError(f"after: {after[:100]!r} is not a cursor from this API for this list", "after")
    return key


def _shape(by: tuple[str, ...]) -> list[Any]:
    return [pagination.key_int if b == "month" else str for b in by]


def _by(group_by: list[AnalyticsDimension] | None) -> tuple[str, ...]:
    try:
        return views.check_by([d.value for d in group_by or []])
    except views.AnalyticsRefused as e:
        raise ExpectedError(f"{e.field}: {e.reason}", e.field) from None


def _filters(
    scope: Scope, hospital: str | None, month: int | None, department: str | None, drg: str | None
) -> views.Filters:
    # A hospital's scope sees its own cells only (row-level security): naming its hospital lets the
    # statement read them by the primary key's (tenant, year, hospital) range.
    if hospital is None and scope.hospital_id is not None and not scope.all_hospitals:
        hospital = scope.hospital_id
    f = views.Filters(hospital, month, department, drg)
    try:
        views.check_filters(f)
    except views.AnalyticsRefused as e:
        raise ExpectedError(f"{e.field}: {e.reason}", e.field) from None
    return f


def _year(year: int) -> int:
    if (reason := bounds.year_reason(year)) is not None:
        raise ExpectedError(f"year: {reason}", "year")
    return year


GROUP_BY = "What the rows are grouped by, in key order (none: one total row)."


@dataclass(frozen=True)
class _View:
    tenants: tuple[str, ...]
    year: int
    by: tuple[str, ...]
    filters: views.Filters
    cursor: tuple[Any, ...] | None
    limit: int


async def _view(
    info: Info,
    tenant: str,
    year: int,
    group_by: list[AnalyticsDimension] | None,
    hospital: str | None,
    month: int | None,
    department: str | None,
    drg: str | None,
    first: int | None,
    after: str | None,
) -> _View:
    """Both views' arguments checked, in one order: page size, key, filters, cursor, tenant, year."""
    ctx = info.context
    limit = pagination.page_size(first)
    by = _by(group_by)
    filters = _filters(ctx.scope, hospital, month, department, drg)
    cursor = _cursor(after, by)
    tenants = await tenants_of(ctx.registry, ctx.scope, tenant)
    return _View(tuple(tenants), _year(year), by, filters, None if cursor is None else tuple(cursor), limit)


def _groups_loader(ctx: Any) -> DataLoader[cache.Ask, list[Any]]:
    """A request's analytics fields in one read-only transaction: a dashboard asks for several
    views at once (aliased fields, resolved together), and each in its own transaction cost a pooled
    connection, BEGIN, the scope's settings and COMMIT (most of the database's work for it). The
    answers come from the app's cache when the refreshes they were computed from are still the
    latest (analytics/cache.py: one statement reads the generations, repeatable read)."""

    async def load(asks: list[cache.Ask]) -> list[list[Any]]:
        async with ctx.db.reading(ctx.scope, isolation="repeatable_read") as conn:
            return await cache.answers(conn.fetch, ctx.answers, ctx.scope, asks, seen=ctx.seen)

    return DataLoader(load_fn=load, cache=False)


def _ask(view: str, v: _View) -> cache.Ask:
    # One more row than the page: pagination.build knows from it whether a next page exists.
    return cache.Ask(view, v.tenants, v.year, v.by, v.filters, v.cursor, v.limit + 1)


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Analytics of a region's (or a city's) year from its summary cells, grouped by the dimensions "
        "asked for; a hospital sees its own hospital only. A region compares its hospitals with groupBy: [hospital]; "
        "the city its regions with tenant: the city and groupBy: [region].",
        extensions=[Allow(*ANYONE)],
    )
    async def analytics(
        self,
        info: Info,
        tenant: str,
        year: int,
        group_by: Annotated[list[AnalyticsDimension] | None, strawberry.argument(description=GROUP_BY)] = None,
        hospital: str | None = None,
        month: int | None = None,
        department: str | None = None,
        drg: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[AnalyticsRow]:
        v = await _view(info, tenant, year, group_by, hospital, month, department, drg, first, after)
        rows = await info.context.loader("analytics.groups", _groups_loader).load(_ask("groups", v))
        return pagination.build(rows, v.limit, lambda g: g.key_values(v.by), AnalyticsRow.of, after=after)

    @strawberry.field(
        description="This year's analytics groups (as analytics) each against the same group a year earlier, with "
        "growth rates; a hospital sees its own.",
        extensions=[Allow(*ANYONE)],
    )
    async def analytics_year_over_year(
        self,
        info: Info,
        tenant: str,
        year: int,
        group_by: Annotated[list[AnalyticsDimension] | None, strawberry.argument(description=GROUP_BY)] = None,
        hospital: str | None = None,
        month: int | None = None,
        department: str | None = None,
        drg: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[AnalyticsComparison]:
        v = await _view(info, tenant, year, group_by, hospital, month, department, drg, first, after)
        rows = await info.context.loader("analytics.groups", _groups_loader).load(_ask("year_over_year", v))
        return pagination.build(rows, v.limit, lambda c: [c.key[b] for b in v.by], AnalyticsComparison.of, after=after)

    @strawberry.field(
        description="What a region's year of analytics was computed from (points run, point values) and whether it "
        "is stale; null before its first refresh.",
        extensions=[Allow(*ANYONE)],
    )
    async def analytics_status(self, info: Info, tenant: str, year: int) -> AnalyticsStatus | None:
        st = await views.status(info.context.db, info.context.scope, tenant, _year(year))
        return AnalyticsStatus.of(st) if st is not None else None


@strawberry.type
class AnalyticsMutation:
    @strawberry.mutation(
        description="Refresh a region's (or every region of a city's) analytics summaries of a year (a job). Points "
        "runs and grouping jobs submit one themselves; a refresh that changes nothing writes nothing.",
        extensions=[Allow(job=REFRESH)],
    )
    async def refresh_analytics(
        self, info: Info, tenant: str, year: int, idempotency_key: str | None = None
    ) -> RefreshAnalyticsResult:
        result = await grouping.submit(info, tenant, REFRESH, {"year": year}, idempotency_key)
        return job_payload(result, AnalyticsRefreshJobPayload)
