"""Engines and sessions. The scope is applied per transaction only, by `set_config(..., true)` in
the session's begin hook, so a pooled connection never carries one request's scope to the next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy.ext.asyncio as sa_asyncio
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from dianshu.observability import metrics, tracing
from dianshu.scope import Scope

_SET_SCOPE = text(
    "select set_config('app.tenant_ids', :tenants, true),"
    " set_config('app.hospital_id', :hospital, true),"
    " set_config('app.all_hospitals', :all_hospitals, true),"
    " set_config('app.role', :role, true),"
    " set_config('app.actor', :actor, true)"
)


def async_url(url: str) -> str:
    """libpq-style URL -> SQLAlchemy asyncpg URL."""
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """libpq-style URL -> SQLAlchemy psycopg (v3) URL."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def scope_settings(scope: Scope) -> dict[str, str]:
    """The transaction settings row-level security reads (migrations' policies), for a scope."""
    return {
        "tenants": ",".join(scope.tenant_ids),
        "hospital": scope.hospital_id or "",
        # Its own setting: the hospital setting is data, compared only by equality.
        "all_hospitals": "on" if scope.all_hospitals else "",
        "role": scope.role.value,
        "actor": scope.actor,
    }


# The same settings in the driver's own placeholders, in scope_settings' order (Database.read_one).
_SET_SCOPE_DRIVER = (
    "select set_config('app.tenant_ids', $1, true), set_config('app.hospital_id', $2, true),"
    " set_config('app.all_hospitals', $3, true), set_config('app.role', $4, true), set_config('app.actor', $5, true)"
)


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, transaction: Any, connection: Any) -> None:
    scope: Scope | None = session.info.get("scope")
    if scope is None:
        # No scope: the transaction sees no tenant rows at all (the settings stay empty).
        return
    connection.execute(_SET_SCOPE, scope_settings(scope))


class Database:
    """One async engine for the runtime role, and scoped sessions from it."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        # Through the module, not a name imported from it: with tracing on, the OpenTelemetry
        # instrumentation wraps the module's function and so traces this engine's statements.
        self.engine: AsyncEngine = sa_asyncio.create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
        )
        self._unmeter = metrics.instrument_pool(self.engine, pool_size)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._pool_size = pool_size
        self._driver_pool: Any = None  # asyncpg.Pool of read_one, made on first use in its loop
        self._driver_loop: Any = None

    def session(self, scope: Scope | None) -> AsyncSession:
        # The database too: a domain change submits its follow-up jobs in the session's transaction
        # and sends them once it commits (jobs.service.follow_event).
        return self._sessions(info={"scope": scope, "db": self})

    async def _driver(self) -> Any:
        import asyncpg

        loop = asyncio.get_running_loop()
        if self._driver_pool is None or self._driver_loop is not loop:
            self._driver_loop = loop
            self._driver_pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=self._pool_size, max_inactive_connection_lifetime=300
            )
        return self._driver_pool

    @asynccontextmanager
    async def reading(self, scope: Scope | None, *, isolation: str = "read_committed") -> AsyncIterator[Any]:
        """A read-only transaction under `scope` on the driver's own pool (an asyncpg connection):
        BEGIN (read only), the scope's settings as every session sets them (scope_settings), the
        caller's statements, COMMIT. For request paths whose work is a few indexed reads (the
        workstation check, the analytics views): the ORM session costs several times the query
        there. Statements use $1, $2, ...; `conn.fetch` is a `Fetch`. `isolation`: asyncpg's name of
        the level (repeatable_read: every statement reads one snapshot)."""
        pool = await self._driver()
        # The driver's own pool is outside the SQLAlchemy instrumentation: one span per transaction.
        with tracing.span("db.reading", **{"db.system": "postgresql"}):
            async with pool.acquire() as conn, conn.transaction(isolation=isolation, readonly=True):
                if scope is not None:
                    await conn.execute(_SET_SCOPE_DRIVER, *scope_settings(scope).values())
                yield conn

    async def read_one(self, scope: Scope | None, sql: str, *args: Any) -> Any:
        """One row (or None) of one statement under `scope` (see `reading`)."""
        async with self.reading(scope) as conn:
            return await conn.fetchrow(sql, *args)

    async def dispose(self) -> None:
        unmeter, self._unmeter = self._unmeter, lambda: None
        unmeter()
        if self._driver_pool is not None:
            pool, self._driver_pool = self._driver_pool, None
            if self._driver_loop is asyncio.get_running_loop():
                await pool.close()
            else:
                pool.terminate()
        await self.engine.dispose()


# fetch(sql, *args) -> rows (mappings by column name): a statement in the driver's placeholders ($1,
# $2, ...) run where the caller's transaction is, a `Database.reading` connection's `fetch` or
# `session_fetch` of an ORM session.
Fetch = Callable[..., Awaitable[Sequence[Mapping[str, Any]]]]


def session_fetch(session: AsyncSession) -> Fetch:
    """A `Fetch` inside `session`'s transaction (under its scope)."""

    async def fetch(sql: str, *args: Any) -> list[Mapping[str, Any]]:
        conn = await session.connection()
        return [r._mapping for r in await conn.exec_driver_sql(sql, args)]

    return fetch


@asynccontextmanager
async def scoped_session(db: Database, scope: Scope | None) -> AsyncIterator[AsyncSession]:
    """A session whose every transaction runs under `scope`; commits on success.

    Work registered with `after_commit(session, fn)` runs once the commit has succeeded (the
    job outbox uses this to send messages only for committed jobs)."""
    session = db.session(scope)
    try:
        async with session.begin():
            yield session
        await run_after_commit(session)
    finally:
        await session.close()


def after_commit(session: AsyncSession, callback: Any) -> None:
    session.info.setdefault("after_commit", []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    """Run (once) the work registered with `after_commit`: call it once `session`'s transaction
    has committed, wherever the session was opened."""
    for callback in session.info.pop("after_commit", []):
        await callback()
