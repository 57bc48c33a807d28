"""Versioned runs: a period's next version number, taken under the period's advisory lock (a re-run
is a new version; nothing stored is ever changed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def next_version(session: AsyncSession, model: Any, *where: Any) -> int:
    """The next version number of a run (callers hold the period's advisory lock)."""
    return (await session.execute(select(func.coalesce(func.max(model.version), 0)).where(*where))).scalar_one() + 1


async def lock(session: AsyncSession, key: str) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
