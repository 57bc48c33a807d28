from __future__ import annotations

import uuid

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.jobs.models import Job as JobRow
from dianshu_graphql import pagination
from dianshu_graphql.errors import ExpectedError
from dianshu_graphql.types.jobs import Job, JobStatus


@strawberry.type
class JobsQuery:
    @strawberry.field(description="One job by id (null when it does not exist or is not yours to see).")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        try:
            job_id = uuid.UUID(str(id))
        except ValueError as e:
            raise ExpectedError(f"id: {id!r} is not a job id") from e
        async with info.context.session() as s:
            row = (await s.execute(select(JobRow).where(JobRow.id == job_id))).scalar_one_or_none()
        return Job.of(row) if row else None

    @strawberry.field(description="Jobs you may see, newest first.")
    async def jobs(
        self,
        info: Info,
        tenant: str | None = None,
        kind: str | None = None,
        status: JobStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[Job]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, uuid.UUID)
        q = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit + 1)
        if tenant:
            q = q.where(JobRow.tenant_id == tenant)
        if kind:
            q = q.where(JobRow.kind == kind)
        if status:
            q = q.where(JobRow.status == status.value)
        if cursor:
            q = q.where(tuple_(JobRow.created_at, JobRow.id) < tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda j: [j.created_at.isoformat(), str(j.id)], Job.of)
