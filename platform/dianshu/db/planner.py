"""Planner settings for one block of statements in a transaction: `set_config(..., true)` (local
to the transaction), restored when the block ends.

Row-level security's predicates hide a tenant's row counts from the planner, and a table a job has
just written (a points run's million case points, a run's scores) has no statistics for its new
rows until autovacuum analyses it. On such estimates the planner has chosen nested loops over
hundreds of thousands of rows, for minutes. The statements that met this run inside
`planner_settings(...)`, each saying why where it does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The settings a block may change (names are put into the statement, so only these).
ALLOWED = frozenset({"enable_nestloop", "enable_mergejoin", "enable_hashjoin", "work_mem"})

# Hash joins only: what a join of two large sets needs whatever the estimates say.
HASH_JOINS = {"enable_nestloop": "off", "enable_mergejoin": "off"}
NO_NESTED_LOOPS = {"enable_nestloop": "off"}


async def _set(session: AsyncSession, values: dict[str, str]) -> None:
    calls = ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(values))
    await session.execute(text(f"select {calls}"), {f"v{i}": v for i, v in enumerate(values.values())})


@asynccontextmanager
async def planner_settings(session: AsyncSession, settings: dict[str, str]) -> AsyncIterator[None]:
    """Run the block with `settings`; the previous values come back after it. On an error the
    transaction is rolled back, and its local settings with it (nothing to restore)."""
    if unknown := sorted(set(settings) - ALLOWED):
        raise ValueError(f"planner setting {unknown[0]} is not one a block may change")
    names = list(settings)
    current = ", ".join(f"current_setting('{name}')" for name in names)
    before = dict(zip(names, (await session.execute(text(f"select {current}"))).one(), strict=True))
    await _set(session, settings)
    yield
    await _set(session, before)
