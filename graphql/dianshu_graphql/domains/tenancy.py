from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict as IdempotencyConflictErr
from dianshu.tenancy import service
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import (
    FieldError,
    IdempotencyConflict,
    PermissionDenied,
    ValidationError,
)
from dianshu_graphql.loaders import hospital_loader
from dianshu_graphql.permissions import Allow
from dianshu_graphql.types.jobs import Job, JobPayload
from dianshu_graphql.types.tenancy import Hospital, HospitalType, ImportHospitalsInput, Tenant

ImportHospitalsResult = Annotated[
    JobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("ImportHospitalsResult"),
]


async def fetch_tenant(info: Info, code: str) -> Tenant | None:
    """A tenant in the caller's scope (`tenant(tenant:)` and `node(id:)`)."""
    if not info.context.scope.sees_tenant(code):
        return None
    async with info.context.session() as s:
        rows = await service.list_tenants(s, [code])
    return Tenant.of(rows[0]) if rows else None


async def fetch_hospital(info: Info, tenant: str, code: str) -> Hospital | None:
    """A hospital the caller may see (row-level security: a hospital user its own)."""
    h = await info.context.loader("hospital", hospital_loader).load((tenant, code))
    return Hospital.of(h) if h else None


node.register(Tenant, node.code_part, fetch=fetch_tenant)
node.register(Hospital, node.code_part, node.code_part, fetch=fetch_hospital)


@strawberry.type
class TenancyQuery:
    @strawberry.field(description="The tenants in your scope (the city and its regions for city roles).")
    async def tenants(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[Tenant]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str)
        async with info.context.session() as s:
            rows = await service.list_tenants(s, info.context.scope.tenant_ids)
        if cursor:
            rows = [t for t in rows if t.code > cursor[0]]
        return pagination.build(rows[: limit + 1], limit, lambda t: [t.code], Tenant.of, after=after)

    @strawberry.field(description="One tenant by code; null when it is not in your scope.")
    async def tenant(self, info: Info, tenant: str) -> Tenant | None:
        return await fetch_tenant(info, tenant)

    @strawberry.field(description="Hospitals you may see, ordered by tenant and code.")
    async def hospitals(
        self,
        info: Info,
        tenant: str | None = None,
        level: int | None = None,
        type: HospitalType | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[Hospital]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, str)
        async with info.context.session() as s:
            rows = await service.list_hospitals(
                s,
                tenant_id=tenant,
                level=level,
                type=type.value if type else None,
                after=(cursor[0], cursor[1]) if cursor else None,
                limit=limit + 1,
            )
        return pagination.build(rows, limit, lambda h: [h.tenant_id, h.id], Hospital.of, after=after)

    @strawberry.field(description="One hospital by its tenant and code; null when it is not yours to see.")
    async def hospital(self, info: Info, tenant: str, code: str) -> Hospital | None:
        return await fetch_hospital(info, tenant, code)


@strawberry.type
class TenancyMutation:
    @strawberry.mutation(
        description="Import or update a region's hospital roster (a job; idempotent).",
        extensions=[Allow(job=IMPORT_HOSPITALS)],
    )
    async def import_hospitals(self, info: Info, input: ImportHospitalsInput) -> ImportHospitalsResult:
        rows = [h.as_row() for h in input.hospitals]
        try:
            service.validate_roster(input.tenant, rows)
        except service.ValidationFailed as e:
            return ValidationError(
                message=f"{len(e.errors)} invalid hospitals; nothing was imported",
                errors=[FieldError(record=x.record, field=x.field, reason=x.reason) for x in e.errors],
            )
        ctx = info.context
        try:
            async with ctx.session() as s:
                job, created = await jobs.submit(
                    s,
                    ctx.db,
                    ctx.scope,
                    input.tenant,
                    IMPORT_HOSPITALS,
                    {"hospitals": rows},
                    idempotency_key=input.idempotency_key,
                )
        except IdempotencyConflictErr as e:
            return IdempotencyConflict(message=str(e), idempotency_key=e.key)
        return JobPayload(job=Job.of(job), created=created)
