from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.db.session import Database
from dianshu.jobs.models import Job
from dianshu.scope import Scope


@dataclass
class JobContext:
    """What a handler gets: its transaction, its scope, its parameters and a progress reporter.

    Progress is written in its own short transactions (clients see it while the job runs); the
    handler's effect is in `session` and commits together with the job's completion."""

    db: Database
    session: AsyncSession
    scope: Scope
    tenant_id: str
    job_id: uuid.UUID
    kind: str
    params: dict[str, Any]
    step_delay_s: float = 0.0
    _progress_scope: Scope | None = field(default=None, repr=False)
    # Run once the job's transaction has committed (never for an attempt rolled back): counters of
    # what the job did, so a retried attempt counts nothing twice.
    committed: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.committed.append(callback)

    async def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values: dict[str, Any] = {"progress_done": done, "heartbeat_at": _now()}
        if total is not None:
            values["progress_total"] = total
        if message is not None:
            values["message"] = message[:500]
        async with self.db.session(self._progress_scope or self.scope) as s, s.begin():
            await s.execute(update(Job).where(Job.tenant_id == self.tenant_id, Job.id == self.job_id).values(**values))
        if self.step_delay_s:
            await asyncio.sleep(self.step_delay_s)


def _now() -> Any:
    from sqlalchemy import func

    return func.now()
