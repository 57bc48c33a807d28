"""Announcing a domain change that jobs follow, from the domain modules that make the change
(settlement runs published, policies changed).

The jobs service registers itself here (`set_follower`) when it is imported, rather than being
imported from here: the service imports the registry, the registry every kind's module, and those
the domain modules that announce events, so an import from here would close a cycle. A process
that announces an event without the jobs service loaded fails loudly: a change nobody follows
would leave the summaries stale with no trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.scope import Scope

Follower = Callable[..., Awaitable[int]]
_follower: Follower | None = None


def set_follower(follower: Follower) -> None:
    """jobs.service.follow_event, registered by jobs.service at import (one follower per process)."""
    global _follower
    _follower = follower


async def occurred(
    session: AsyncSession, scope: Scope, tenant_id: str, event: str, params: dict[str, Any], *, record: str
) -> int:
    """`event` happened in `session`'s transaction: submit the jobs that follow it, in the same
    transaction. Returns how many jobs were created (0: none follow, or submitted already)."""
    if _follower is None:
        raise RuntimeError(f"{event}: dianshu.jobs.service is not loaded, so nothing would follow this change")
    return await _follower(session, scope, tenant_id, event, params, record=record)
