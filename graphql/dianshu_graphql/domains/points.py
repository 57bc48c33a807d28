"""Points runs in GraphQL: a region's points runs, their case points, and computing a new run (a job)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.settlement.models import CasePoint as CasePointRow
from dianshu.settlement.models import PointsRun as PointsRunRow
from dianshu.settlement.runs.points import POINTS
from dianshu_graphql import node, pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.errors import IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.settlement import CasePoint, CaseType, PointsJobPayload, PointsRun, job_payload

ComputePointsResult = Annotated[
    PointsJobPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("ComputePointsResult")
]


def sees_every_hospital(info: Info) -> bool:
    return info.context.scope.all_hospitals


def parse_id(value: Any, field: str, type_name: str) -> uuid.UUID:
    """An id argument naming a `type_name` (keyed by tenant and id): its global id or its databaseId;
    anything else is refused naming `field`."""
    return node.key_of(value, type_name, field=field, raw=node.uuid_part, what="an id")[-1]


async def fetch_points_run(info: Info, tenant: str, run_id: uuid.UUID) -> PointsRun | None:
    """One points run, as `pointsRuns` shows it (row-level security)."""
    R = PointsRunRow
    async with info.context.session() as s:
        r = (await s.execute(select(R).where(R.tenant_id == tenant, R.id == run_id))).scalar_one_or_none()
    return PointsRun.of(r, sees_every_hospital(info)) if r else None


# Who may read points runs (any role, in its own tenants): pointsRuns' declaration and node(id:)'s.
READ_POINTS_RUNS = Allow(*ANYONE)
node.register(PointsRun, node.code_part, node.uuid_part, fetch=fetch_points_run, allow=READ_POINTS_RUNS)


@strawberry.type
class PointsQuery:
    @strawberry.field(
        description="Points runs of a region and year, by month covered and version.", extensions=[READ_POINTS_RUNS]
    )
    async def points_runs(
        self, info: Info, tenant: str, year: int, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[PointsRun]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, pagination.key_int)
        R = PointsRunRow
        q = select(R).where(R.tenant_id == tenant, R.year == year).order_by(R.through_month, R.version).limit(limit + 1)
        if cursor:
            q = q.where(tuple_(R.through_month, R.version) > tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        whole = sees_every_hospital(info)
        return pagination.build(
            rows, limit, lambda r: [r.through_month, r.version], lambda r: PointsRun.of(r, whole), after=after
        )

    @strawberry.field(
        description="Case points of a points run, by case id (a hospital sees its own).", extensions=[Allow(*ANYONE)]
    )
    async def case_points(
        self,
        info: Info,
        tenant: str,
        points_run: strawberry.ID,
        hospital: str | None = None,
        type: CaseType | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[CasePoint]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int)
        C = CasePointRow
        q = (
            select(C)
            .where(C.tenant_id == tenant, C.run_id == parse_id(points_run, "pointsRun", "PointsRun"))
            .order_by(C.case_id)
            .limit(limit + 1)
        )
        if hospital:
            q = q.where(C.hospital_id == hospital)
        if type is not None:
            q = q.where(C.type == type.value)
        if cursor:
            q = q.where(C.case_id > cursor[0])
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda r: [r.case_id], CasePoint.of, after=after)


@strawberry.type
class PointsMutation:
    @strawberry.mutation(
        description="Compute a region's case points for a year up to a month (a job).", extensions=[Allow(job=POINTS)]
    )
    async def compute_points(
        self, info: Info, tenant: str, year: int, month: int = 12, idempotency_key: str | None = None
    ) -> ComputePointsResult:
        result = await grouping.submit(info, tenant, POINTS, {"year": year, "month": month}, idempotency_key)
        return job_payload(result, PointsJobPayload)
