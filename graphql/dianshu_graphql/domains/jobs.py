from __future__ import annotations

import uuid

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.jobs.models import Job as JobRow
from dianshu_graphql import node, pagination
from dianshu_graphql.types.jobs import Job, JobKind, JobStatus


async def fetch_job(info: Info, job_id: uuid.UUID) -> Job | None:
    """One job, as `job(id:)` and `node(id:)` see it (row-level security: yours, or not at all)."""
    async with info.context.session() as s:
        row = (await s.execute(select(JobRow).where(JobRow.id == job_id))).scalar_one_or_none()
    return Job.of(row) if row else None


node.register(Job, node.uuid_part, fetch=fetch_job)


@strawberry.type
class JobsQuery:
    @strawberry.field(
        description="One job by id (its global id, or its databaseId); null when it does not exist or is not "
        "yours to see."
    )
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        (job_id,) = node.key_of(id, "Job", field="id", raw=node.uuid_part, what="a job id")
        return await fetch_job(info, job_id)

    @strawberry.field(description="Jobs you may see, newest first.")
    async def jobs(
        self,
        info: Info,
        tenant: str | None = None,
        kind: JobKind | None = None,  # type: ignore[valid-type]
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
            q = q.where(JobRow.kind == kind.value)
        if status:
            q = q.where(JobRow.status == status.value)
        if cursor:
            q = q.where(tuple_(JobRow.created_at, JobRow.id) < tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda j: [j.created_at.isoformat(), str(j.id)], Job.of, after=after)
