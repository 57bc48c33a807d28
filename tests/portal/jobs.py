"""A job in flight for the portal's pages: submitted (the tests' recording dispatcher keeps it from
running), then marked running at 3 of 10 as a worker would."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from dianshu.analytics.refresh import REFRESH
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Scope


async def job_in_flight(db: Database, scope: Scope, tenant: str, message: str | None = None) -> uuid.UUID:
    """A refresh of `tenant`'s 2024 running at 3 of 10, with the progress `message` a worker writes."""
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, tenant, REFRESH, {"year": 2024})
    async with scoped_session(db, Scope.system((tenant,))) as s:
        await s.execute(
            text(
                "update job set status = 'running', progress_done = 3, progress_total = 10, started_at = now(), "
                "message = :message where id = :id"
            ),
            {"id": job.id, "message": message},
        )
    return job.id
