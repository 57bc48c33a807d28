from __future__ import annotations

import datetime
import uuid
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

# Every module that registers job kinds (the registry's own list, and the two it does not import).
import dianshu.grouping.service
import dianshu.standards.jobs  # noqa: F401
from dianshu.jobs import models
from dianshu.jobs.registry import all_kinds
from dianshu_graphql import language, node
from dianshu_graphql.loaders import tenant_loader
from dianshu_graphql.types import job_results
from dianshu_graphql.types.job_results import JobError
from dianshu_graphql.types.tenancy import Tenant

if TYPE_CHECKING:
    from dianshu_graphql.types.job_result_union import JobResult


@strawberry.enum(description="Where a job is.")
class JobStatus(Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


def enum_name(kind: str) -> str:
    """A job kind's GraphQL enum value: the registry's name with '.' as '_' (cases.ingest -> cases_ingest)."""
    return kind.replace(".", "_")


# The job kinds, as the registry names them (dianshu.jobs.registry).
JobKind = strawberry.enum(
    Enum("JobKind", {enum_name(k): k for k in sorted(all_kinds())}),  # type: ignore[misc]
    description="What a job does: the job registry's kinds (cases.ingest is cases_ingest, ...).",
)


@strawberry.type(description="A background job; poll it (node(id:) or job(id:)) for progress and its result.")
class Job(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The job's own id (the REST paths and older calls use it).")
    tenant_code: str
    kind_name: strawberry.Private[str]  # the registry's name (cases.ingest)
    status: JobStatus
    progress_done: int
    progress_total: int | None
    message: str | None
    attempts: int
    idempotency_key: str | None
    created_by: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    raw_result: strawberry.Private[dict[str, Any] | None]
    raw_error: strawberry.Private[dict[str, Any] | None]

    @strawberry.field
    def kind(self) -> JobKind:  # type: ignore[valid-type]
        return JobKind(self.kind_name)

    @strawberry.field(description="Fraction done, 0 to 1 (not money: a float is fine here).")
    def progress(self) -> float | None:
        if self.status == JobStatus.succeeded:
            return 1.0
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)

    @strawberry.field(description="What a succeeded job produced, typed by its kind (null until it succeeds).")
    def result(
        self,
    ) -> Annotated[JobResult, strawberry.lazy("dianshu_graphql.types.job_result_union")] | None:
        return job_results.to_result(self.kind_name, self.raw_result)

    @strawberry.field(
        description="`message` in the request's language (`lang`, the cookie, Accept-Language; zh by default)."
    )
    def localized_message(self) -> str | None:
        return None if self.message is None else language.message(self.message)

    @strawberry.field(description="Why the job failed, or why its last attempt failed when it will retry.")
    def error(self) -> JobError | None:
        return JobError.of(self.raw_error)

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        t = await info.context.loader("tenant", tenant_loader).load(self.tenant_code)
        return Tenant.of(t) if t else None

    @classmethod
    def of(cls, j: models.Job) -> Job:
        return cls(
            id=node.global_id("Job", j.id),
            database_id=j.id,
            tenant_code=j.tenant_id,
            kind_name=j.kind,
            status=JobStatus(j.status),
            progress_done=j.progress_done,
            progress_total=j.progress_total,
            message=j.message,
            raw_result=j.result,
            raw_error=j.error,
            attempts=j.attempts,
            idempotency_key=j.idempotency_key,
            created_by=j.created_by,
            created_at=j.created_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
        )


@strawberry.type(description="A job was submitted (or an identical earlier request's job returned).")
class JobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")
