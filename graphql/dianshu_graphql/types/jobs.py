from __future__ import annotations

import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from dianshu.jobs import models
from dianshu_graphql.loaders import tenant_loader
from dianshu_graphql.types.tenancy import Tenant


@strawberry.enum
class JobStatus(Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


@strawberry.type(description="A background job; poll it for progress.")
class Job:
    id: strawberry.ID
    tenant_code: str
    kind: str
    status: JobStatus
    progress_done: int
    progress_total: int | None
    message: str | None
    result: JSON | None
    error: JSON | None
    attempts: int
    idempotency_key: str | None
    created_by: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None

    @strawberry.field(description="Fraction done, 0 to 1 (not money: a float is fine here).")
    def progress(self) -> float | None:
        if self.status == JobStatus.succeeded:
            return 1.0
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant | None:
        t = await info.context.loader("tenant", tenant_loader).load(self.tenant_code)
        return Tenant.of(t) if t else None

    @classmethod
    def of(cls, j: models.Job) -> Job:
        return cls(
            id=strawberry.ID(str(j.id)),
            tenant_code=j.tenant_id,
            kind=j.kind,
            status=JobStatus(j.status),
            progress_done=j.progress_done,
            progress_total=j.progress_total,
            message=j.message,
            result=j.result,
            error=j.error,
            attempts=j.attempts,
            idempotency_key=j.idempotency_key,
            created_by=j.created_by,
            created_at=j.created_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
        )


@strawberry.type
class JobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")
